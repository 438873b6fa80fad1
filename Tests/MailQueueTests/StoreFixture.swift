import Foundation
import Testing
@testable import MailQueue

/// The stores every behavioural test runs against, so that the two cannot drift:
/// SQLite in a fresh temporary directory, and PostgreSQL in a fresh database of
/// the server `MAILGATE_TEST_DATABASE_URL` names (`.ci/postgres start` makes a
/// private one; `.ci/test` sets it). Without it the PostgreSQL cases do not run,
/// and `PostgresStoreTests` shows as skipped with the reason.
enum StoreBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    /// The backends this run can test.
    static let available: [StoreBackend] = PostgresTestServer.url == nil ? [.sqlite] : [.sqlite, .postgres]

    var testDescription: String { rawValue }
}

/// Where a test's queue lives; `openInstance` opens another store on the same queue.
enum QueueLocation: Sendable {
    case directory(String)
    case database(url: String)

    /// A second store on the same queue: an administration command beside a SQLite
    /// gateway, another gateway on PostgreSQL.
    func openInstance(queueLimit: Int = SQLiteQueueStore.defaultQueueLimit) throws -> any QueueStore {
        switch self {
        case .directory(let path):
            try SQLiteQueueStore(directory: path, mode: .administration, queueLimit: queueLimit)
        case .database(let url):
            try PostgresQueueStore(configuration: PostgresTestServer.configuration(url: url, queueLimit: queueLimit))
        }
    }
}

/// A store on real files or a real database, and messages to put in it.
enum StoreFixture {
    /// A fixed clock origin: tests pass `now` explicitly, so nothing waits on real time.
    static let origin = Date(timeIntervalSince1970: 1_800_000_000)

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("mailqueue-tests-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Opens a gateway-mode store on `backend` in a new directory or database, runs
    /// `body`, then closes it (and removes the directory).
    static func withStore(
        _ backend: StoreBackend, queueLimit: Int = SQLiteQueueStore.defaultQueueLimit,
        _ body: (any QueueStore, QueueLocation) async throws -> Void
    ) async throws {
        switch backend {
        case .sqlite:
            try await withStore(queueLimit: queueLimit) { store, directory in try await body(store, .directory(directory)) }
        case .postgres:
            try await PostgresTestServer.withDatabase { url in
                let store = try PostgresQueueStore(configuration: PostgresTestServer.configuration(url: url, queueLimit: queueLimit))
                try await run(body, store, .database(url: url))
            }
        }
    }

    /// Opens a gateway-mode SQLite store in a new directory, runs `body`, then closes
    /// it and removes the directory.
    static func withStore(
        queueLimit: Int = SQLiteQueueStore.defaultQueueLimit,
        _ body: (SQLiteQueueStore, String) async throws -> Void
    ) async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteQueueStore(directory: directory, queueLimit: queueLimit)
        try await run({ _, _ in try await body(store, directory) }, store, .directory(directory))
    }

    /// Runs `body`, closing the store after it whether it threw or not.
    private static func run(
        _ body: (any QueueStore, QueueLocation) async throws -> Void, _ store: any QueueStore, _ location: QueueLocation
    ) async throws {
        do {
            try await body(store, location)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    static func message(
        createdAt: Date = origin, recipients: [String] = ["bob@example.org", "carol@example.net"],
        sendAt: Date? = nil, webhookURL: String? = "https://hooks.example.com/mail",
        tags: [String] = ["receipt"], content: [UInt8] = Array("Subject: hi\r\n\r\nhello\r\n".utf8)
    ) -> NewMessage {
        NewMessage(
            id: SortableID.generate(.message, at: createdAt), createdAt: createdAt, sendAt: sendAt,
            envelopeFrom: "alice@example.com",
            recipients: recipients.map { NewRecipient(email: $0, domain: String($0.split(separator: "@").last ?? "")) },
            fromDisplay: "Alice <alice@example.com>", subject: "Hello", tags: tags, metadataJSON: #"{"order":"1234"}"#,
            webhookURL: webhookURL, content: content, requiresSMTPUTF8: false, requires8BitMIME: false
        )
    }

    /// Accepts `count` messages created one second apart, oldest first; returns their ids.
    static func acceptMessages(_ count: Int, into store: any QueueStore, recipients: [String] = ["bob@example.org"]) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            let message = message(createdAt: origin.addingTimeInterval(Double(index)), recipients: recipients)
            #expect(try await store.accept([message], idempotency: nil) == .accepted)
            ids.append(message.id)
        }
        return ids
    }

    static func response(_ code: Int, _ enhanced: String, _ text: String) -> SMTPResponseRecord {
        SMTPResponseRecord(code: code, enhancedCode: enhanced, message: text, host: "mx.example.org")
    }
}

extension StoreError {
    /// True for `.unavailable`, whatever its text.
    var isUnavailable: Bool { if case .unavailable = self { true } else { false } }
}
