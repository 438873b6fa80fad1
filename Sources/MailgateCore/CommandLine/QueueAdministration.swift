import Foundation
import JSON
import MailQueue

/// `mailgate queue …`: Postfix's postqueue/postsuper for mailgate, working on the
/// store directly (opened without the gateway's lock, so it runs beside one).
public struct QueueAdministration: Sendable {
    private let store: any QueueStore

    public init(dataDirectory: String) throws(StoreError) {
        guard FileManager.default.fileExists(atPath: dataDirectory) else {
            throw .unavailable("\(dataDirectory) does not exist (set MAILGATE_DATA_DIR or --data-dir)")
        }
        store = try SQLiteQueueStore(directory: dataDirectory, mode: .administration)
    }

    /// The queue the gateways share in PostgreSQL, on one connection for writes and one for reads.
    public init(databaseURL: DatabaseURL) throws(StoreError) {
        store = try PostgresQueueStore(configuration: .init(
            url: databaseURL.text, writerConnections: 1, readerConnections: 1, applicationName: "mailgate-queue"))
    }

    /// Filters `queue list` understands: a message status, or a recipient status
    /// (`deferred` lists messages with a deferred recipient, as postqueue does).
    public static let statusNames = Set(MessageStatus.allCases.map(\.rawValue) + RecipientStatus.allCases.map(\.rawValue))

    /// Messages for `queue list`, newest first: those still in the queue by default.
    public func list(status: String?, limit: Int) async throws(StoreError) -> [MessageRecord] {
        let now = Date()
        var matches: [MessageRecord] = []
        let messageStatuses: [MessageStatus?]
        var recipientStatus: RecipientStatus?
        if let status, let messageStatus = MessageStatus(rawValue: status) {
            messageStatuses = [messageStatus]
        } else if let status, let wanted = RecipientStatus(rawValue: status) {
            recipientStatus = wanted
            messageStatuses = wanted.isFinal ? [nil] : [.queued, .scheduled]
        } else {
            messageStatuses = [.queued, .scheduled]
        }
        for messageStatus in messageStatuses {
            var cursor: String?
            repeat {
                let page = try await store.listMessages(status: messageStatus, limit: 500, cursor: cursor, now: now)
                matches += page.messages.filter { message in
                    recipientStatus.map { wanted in message.recipients.contains { $0.status == wanted } } ?? true
                }
                cursor = page.nextCursor
            } while cursor != nil && matches.count < limit
        }
        return Array(matches.sorted { $0.id > $1.id }.prefix(limit))
    }

    public func show(id: String) async throws(StoreError) -> MessageRecord? {
        try await store.message(id: id, now: Date())
    }

    public func retry(id: String?) async throws(StoreError) -> Int {
        try await store.retryNow(messageID: id, now: Date())
    }

    public func cancel(id: String) async throws(StoreError) -> CancelResult {
        try await store.cancel(messageID: id, now: Date())
    }

    public func close() async { await store.close() }

    // MARK: Output

    /// `queue list`'s table: a header line, then one line per message.
    public static func table(_ messages: [MessageRecord]) -> String {
        var lines = [pad("ID", 30) + pad("STATUS", 10) + pad("CREATED", 21) + pad("RECIPIENTS", 28) + "SUBJECT"]
        for message in messages {
            var counts: [RecipientStatus: Int] = [:]
            for recipient in message.recipients { counts[recipient.status, default: 0] += 1 }
            let summary = RecipientStatus.allCases.compactMap { status in counts[status].map { "\($0) \(status.rawValue)" } }
                .joined(separator: ", ")
            let created = RFC3339.format(secondsSince1970: message.createdAt.timeIntervalSince1970)
            lines.append(pad(message.id, 30) + pad(message.status.rawValue, 10) + pad(created, 21) + pad(summary, 28) + (message.subject ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ messages: [MessageRecord]) -> String {
        JSONWriter.string(.array(messages.map { MessageJSON.message($0, includeEvents: false) }))
    }

    public static func json(_ message: MessageRecord) -> String {
        JSONWriter.string(MessageJSON.message(message, includeEvents: true))
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
