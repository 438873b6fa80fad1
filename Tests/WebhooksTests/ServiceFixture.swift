import Foundation
import Logging
import MailQueue
import MetricsTestKit
import Testing
import Webhooks

/// A SQLite queue in a fresh temporary directory with events in its outbox, and a
/// webhook service draining it.
final class ServiceFixture: @unchecked Sendable {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let signingKey = Array(Data(base64Encoded: String(secret.dropFirst("whsec_".count)))!)

    let directory: String
    private(set) var store: SQLiteQueueStore
    let logs = RecordedLogs()
    let metrics = TestMetrics()

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("webhooks-tests-\(UUID().uuidString)").path
        store = try SQLiteQueueStore(directory: directory)
    }

    /// Closes the store and removes the directory.
    func tearDown() async {
        await store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Closes and opens the store again, as a restarted gateway does.
    func reopenStore() async throws {
        await store.close()
        store = try SQLiteQueueStore(directory: directory)
    }

    static func configuration(
        owner: String = "test-\(UUID().uuidString)", retrySchedule: [Duration] = [.milliseconds(100), .milliseconds(100), .milliseconds(100)],
        timeout: Duration = .seconds(10), allowPrivate: Bool = true, maxInFlight: Int = 256, maxInFlightPerReceiver: Int = 64,
        pollInterval: Duration = .milliseconds(200)
    ) -> WebhookService.Configuration {
        WebhookService.Configuration(
            owner: owner, version: "9.8.7", signingKey: signingKey, retrySchedule: retrySchedule, timeout: timeout,
            allowPrivate: allowPrivate, maxInFlight: maxInFlight, maxInFlightPerReceiver: maxInFlightPerReceiver,
            pollInterval: pollInterval
        )
    }

    func service(_ configuration: WebhookService.Configuration = configuration()) -> WebhookService {
        var logger = Logger(label: "webhooks-test") { _ in RecordingLogHandler(logs: self.logs) }
        logger.logLevel = .debug
        return WebhookService(store: store, configuration: configuration, logger: logger, metricsFactory: metrics)
    }

    /// Stores a message to `url` with `recipients` recipients, each delivered:
    /// one pending event per recipient. Returns the message id.
    @discardableResult
    func deliveredMessage(webhookURL url: String, recipients: Int = 1) async throws -> String {
        let id = "msg_\(UUID().uuidString.lowercased())"
        let message = NewMessage(
            id: id, createdAt: Date(), sendAt: nil, envelopeFrom: "alice@example.com",
            recipients: (0..<recipients).map { NewRecipient(email: "r\($0)@example.org", domain: "example.org") },
            fromDisplay: "Alice <alice@example.com>", subject: "Hello", tags: ["receipt"], metadataJSON: #"{"order":"1234"}"#,
            webhookURL: url, content: Array("Subject: hi\r\n\r\nhello\r\n".utf8), requiresSMTPUTF8: false, requires8BitMIME: false
        )
        #expect(try await store.accept([message], idempotency: nil) == .accepted)
        let owner = "delivery-\(UUID().uuidString)"
        var claimed: [ClaimedRecipient] = []
        for _ in 0..<100 where claimed.count < recipients {
            let more = try await store.claimDueRecipients(owner: owner, now: Date(), limit: 1000, lease: .seconds(60))
            claimed += more.filter { $0.messageID == id }
        }
        try #require(claimed.count == recipients)
        let response = SMTPResponseRecord(code: 250, enhancedCode: "2.0.0", message: "OK queued", host: "mx.example.org")
        try await store.recordOutcomes(claimed.map {
            RecipientOutcome(recipientID: $0.recipientID, kind: .delivered, response: response, attempted: true, decidedAt: Date())
        }, owner: owner)
        return id
    }

    /// The message's events as `GET /v1/messages/{id}` would list them.
    func events(of messageID: String) async throws -> [EventRecord] {
        try await store.message(id: messageID, now: Date())?.events ?? []
    }

    /// Waits (checking every 20 ms, for at most `limit`) until every event of the
    /// message satisfies `condition`; returns the events as last seen.
    @discardableResult
    func waitForEvents(
        of messageID: String, limit: Duration = .seconds(30), until condition: (EventRecord) -> Bool
    ) async throws -> [EventRecord] {
        let deadline = ContinuousClock.now + limit
        var events = try await self.events(of: messageID)
        while !(events.allSatisfy(condition) && !events.isEmpty), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            events = try await self.events(of: messageID)
        }
        return events
    }

    func postCount(_ result: String) -> Int64 {
        (try? metrics.expectCounter("mailgate_webhook_posts_total", [("result", result)]).totalValue) ?? 0
    }
}

/// A running service: its `run()` task.
struct RunningService {
    let service: WebhookService
    let task: Task<Void, any Error>

    init(_ service: WebhookService) {
        self.service = service
        task = Task { try await service.run() }
    }

    /// Stops the service and waits until `run()` has returned.
    func stop(gracePeriod: Duration = .seconds(10)) async throws {
        service.stop(gracePeriod: gracePeriod)
        try await task.value
    }
}

/// Log entries kept for tests to read.
final class RecordedLogs: @unchecked Sendable {
    struct Entry {
        let level: Logger.Level
        let message: String
        let metadata: Logger.Metadata
    }

    private let lock = NSLock()
    private var stored: [Entry] = []

    func append(_ entry: Entry) {
        lock.lock()
        stored.append(entry)
        lock.unlock()
    }

    var entries: [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    /// Every entry's text with its metadata, for checks that nothing secret leaks.
    var allText: String {
        entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
    }
}

struct RecordingLogHandler: LogHandler {
    let logs: RecordedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        logs.append(.init(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }
}
