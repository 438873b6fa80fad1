import Foundation
import JSON

/// What `accept` decided inside the writer's transaction.
enum AcceptDecision: Sendable {
    case accepted
    case alreadyAccepted(IdempotencyRecord)
    case queueFull(limit: Int)
}

/// The API's writes: accepting, canceling and retrying messages. Plain SQL a
/// PostgreSQL store can mirror statement for statement.
enum MessageSQL {
    /// Idempotency keys answer for 24 hours (SPEC §2).
    static let idempotencyLifetime: TimeInterval = 24 * 3600

    static let pendingStatuses = "('queued', 'scheduled', 'deferred')"

    static func countPending(_ connection: SQLiteConnection) throws(SQLiteError) -> Int {
        try connection.queryFirst("SELECT count(*) FROM recipients WHERE status IN \(pendingStatuses)") { $0.int(0) } ?? 0
    }

    static func accept(
        _ messages: [NewMessage], idempotency: IdempotencyRecord?, in transaction: WriteTransaction
    ) throws(SQLiteError) -> AcceptDecision {
        let connection = transaction.connection
        if let record = idempotency {
            let cutoff = record.createdAt.addingTimeInterval(-idempotencyLifetime)
            try connection.run("DELETE FROM idempotency_keys WHERE created_at <= ?", [.date(cutoff)])
            if let existing = try idempotencyRecord(key: record.key, after: cutoff, connection) {
                return .alreadyAccepted(existing)
            }
        }
        let added = messages.reduce(0) { $0 + $1.recipients.count }
        if transaction.pendingRecipients + added > transaction.queueLimit {
            // The in-memory count only drifts upwards (administration commands
            // cancel beside us), so a fresh count before refusing is enough.
            transaction.pendingRecipients = try countPending(connection)
            guard transaction.pendingRecipients + added <= transaction.queueLimit else {
                return .queueFull(limit: transaction.queueLimit)
            }
        }
        for message in messages { try insert(message, connection) }
        if let record = idempotency {
            try connection.run(
                "INSERT INTO idempotency_keys (key, body_hash, response_status, response_body, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(record.key), .text(record.bodyHash), .int(record.responseStatus), .blob(record.responseBody), .date(record.createdAt)]
            )
        }
        transaction.pendingRecipients += added
        return .accepted
    }

    private static func insert(_ message: NewMessage, _ connection: SQLiteConnection) throws(SQLiteError) {
        let scheduled = message.sendAt.map { $0 > message.createdAt } ?? false
        let due = scheduled ? message.sendAt ?? message.createdAt : message.createdAt
        let status = scheduled ? "scheduled" : "queued"
        try connection.run(
            """
            INSERT INTO messages (id, status, created_at, send_at, envelope_from, from_display, subject, tags,
                                  metadata, webhook_url, requires_smtputf8, requires_8bitmime)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(message.id), .text(status), .date(message.createdAt), .optional(message.sendAt),
                .text(message.envelopeFrom), .text(message.fromDisplay), .optional(message.subject),
                .text(encodeTags(message.tags)), .text(message.metadataJSON), .optional(message.webhookURL),
                .bool(message.requiresSMTPUTF8), .bool(message.requires8BitMIME),
            ]
        )
        try connection.run("INSERT INTO message_contents (message_id, content) VALUES (?, ?)", [.text(message.id), .blob(message.content)])
        for (position, recipient) in message.recipients.enumerated() {
            try connection.run(
                """
                INSERT INTO recipients (message_id, position, email, domain, status, next_attempt_at, claimable_at,
                                        queued_since, updated_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6, ?7)
                """,
                [
                    .text(message.id), .int(position), .text(recipient.email), .text(recipient.domain), .text(status),
                    .date(due), .date(message.createdAt),
                ]
            )
        }
    }

    /// The stored record for `key` if it was made after `cutoff`.
    static func idempotencyRecord(key: String, after cutoff: Date, _ connection: SQLiteConnection) throws(SQLiteError) -> IdempotencyRecord? {
        try connection.queryFirst(
            "SELECT key, body_hash, response_status, response_body, created_at FROM idempotency_keys WHERE key = ? AND created_at > ?",
            [.text(key), .date(cutoff)]
        ) { row in
            IdempotencyRecord(key: row.text(0), bodyHash: row.text(1), responseStatus: row.int(2), responseBody: row.blob(3), createdAt: row.date(4))
        }
    }

    /// Cancels every pending recipient of a message; canceled recipients post no event.
    static func cancel(messageID: String, now: Date, in transaction: WriteTransaction) throws(SQLiteError) -> CancelResult {
        let connection = transaction.connection
        let count = try connection.run(
            """
            UPDATE recipients
            SET status = 'canceled', next_attempt_at = NULL, claimable_at = NULL,
                lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
            WHERE message_id = ? AND status IN \(pendingStatuses)
            """,
            [.date(now), .text(messageID)]
        )
        if count > 0 {
            try connection.run("UPDATE messages SET status = 'canceled' WHERE id = ?", [.text(messageID)])
            transaction.pendingRecipients -= count
        }
        guard let record = try MessageQueries.message(id: messageID, now: now, withEvents: true, connection) else {
            return .notFound
        }
        return count > 0 ? .canceled(record, count: count) : .nothingToCancel(record)
    }

    /// Makes queued and deferred recipients due now. A recipient under a live
    /// lease keeps it: it becomes claimable when the lease ends, if still pending.
    static func retryNow(messageID: String?, now: Date, _ connection: SQLiteConnection) throws(SQLiteError) -> Int {
        let messageFilter = messageID == nil ? "" : "message_id = ?2 AND "
        return try connection.run(
            """
            UPDATE recipients
            SET next_attempt_at = ?1,
                claimable_at = CASE WHEN lease_expires_at > ?1 THEN claimable_at ELSE ?1 END
            WHERE \(messageFilter)status IN ('queued', 'deferred') AND next_attempt_at > ?1
            """,
            messageID.map { [.date(now), .text($0)] } ?? [.date(now)]
        )
    }

    static func encodeTags(_ tags: [String]) -> String {
        JSONWriter.string(.array(tags.map(JSONValue.string)))
    }

    static func decodeTags(_ text: String) -> [String] {
        ((try? JSONParser.parse(text))?.arrayValue ?? []).compactMap(\.stringValue)
    }
}
