import Foundation

/// The API's writes on PostgreSQL: accepting, canceling and retrying messages,
/// statement for statement what `MessageSQL` does on SQLite, except where many
/// gateways share the queue: the idempotency key is claimed with
/// `INSERT … ON CONFLICT`, which waits for a concurrent transaction holding the
/// same key and then sees its row, so exactly one request stores the message.
enum PostgresMessageSQL {
    static let pendingStatuses = MessageSQL.pendingStatuses

    static func countPending(_ connection: PostgresConnection) throws(PostgresError) -> Int {
        try connection.queryFirst("SELECT count(*) FROM recipients WHERE status IN \(pendingStatuses)") { $0.int(0) } ?? 0
    }

    static func accept(
        _ messages: [NewMessage], idempotency: IdempotencyRecord?, in transaction: PostgresWriteTransaction
    ) throws(PostgresError) -> AcceptDecision {
        let connection = transaction.connection
        let cutoff = idempotency.map { $0.createdAt.addingTimeInterval(-MessageSQL.idempotencyLifetime) }
        if let record = idempotency, let cutoff, let existing = try idempotencyRecord(key: record.key, after: cutoff, connection) {
            return .alreadyAccepted(existing)
        }
        let added = messages.reduce(0) { $0 + $1.recipients.count }
        if transaction.pendingRecipients + added > transaction.queueLimit {
            try transaction.recountPending()
            guard transaction.pendingRecipients + added <= transaction.queueLimit else {
                return .queueFull(limit: transaction.queueLimit)
            }
        }
        if let record = idempotency, let cutoff, !(try claimKey(record, cutoff: cutoff, connection)) {
            // Another request stored the key after our first look: its answer stands.
            if let existing = try idempotencyRecord(key: record.key, after: cutoff, connection) { return .alreadyAccepted(existing) }
        }
        for message in messages { try insert(message, connection) }
        transaction.changePending(by: added)
        return .accepted
    }

    /// Stores the key unless a record younger than `cutoff` holds it (an older one
    /// is replaced); false when one does.
    private static func claimKey(_ record: IdempotencyRecord, cutoff: Date, _ connection: PostgresConnection) throws(PostgresError) -> Bool {
        try connection.queryFirst(
            """
            INSERT INTO idempotency_keys (key, body_hash, response_status, response_body, created_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (key) DO UPDATE
            SET body_hash = EXCLUDED.body_hash, response_status = EXCLUDED.response_status,
                response_body = EXCLUDED.response_body, created_at = EXCLUDED.created_at
            WHERE idempotency_keys.created_at <= $6
            RETURNING 1
            """,
            [.text(record.key), .text(record.bodyHash), .int(record.responseStatus), .bytes(record.responseBody), .date(record.createdAt), .date(cutoff)]
        ) { _ in true } ?? false
    }

    /// The message, its content and its recipients in one statement (one round trip).
    private static func insert(_ message: NewMessage, _ connection: PostgresConnection) throws(PostgresError) {
        let scheduled = message.sendAt.map { $0 > message.createdAt } ?? false
        let due = scheduled ? message.sendAt ?? message.createdAt : message.createdAt
        try connection.run(
            """
            WITH message AS (
                INSERT INTO messages (id, status, created_at, send_at, envelope_from, from_display, subject, tags,
                                      metadata, webhook_url, requires_smtputf8, requires_8bitmime)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                RETURNING id
            ), content AS (
                INSERT INTO message_contents (message_id, content) SELECT id, $13::bytea FROM message
            )
            INSERT INTO recipients (message_id, position, email, domain, status, next_attempt_at, claimable_at,
                                    queued_since, updated_at)
            SELECT message.id, recipient.position - 1, recipient.email, recipient.domain, $2::text,
                   $14::bigint, $14::bigint, $14::bigint, $3::bigint
            FROM message, unnest($15::text[], $16::text[]) WITH ORDINALITY AS recipient (email, domain, position)
            """,
            [
                .text(message.id), .text(scheduled ? "scheduled" : "queued"), .date(message.createdAt), .optional(message.sendAt),
                .text(message.envelopeFrom), .text(message.fromDisplay), .optional(message.subject),
                .text(MessageSQL.encodeTags(message.tags)), .text(message.metadataJSON), .optional(message.webhookURL),
                .bool(message.requiresSMTPUTF8), .bool(message.requires8BitMIME), .bytes(message.content), .date(due),
                .textArray(message.recipients.map(\.email)), .textArray(message.recipients.map(\.domain)),
            ]
        )
    }

    static func idempotencyRecord(key: String, after cutoff: Date, _ connection: PostgresConnection) throws(PostgresError) -> IdempotencyRecord? {
        try connection.queryFirst(
            "SELECT key, body_hash, response_status, response_body, created_at FROM idempotency_keys WHERE key = $1 AND created_at > $2",
            [.text(key), .date(cutoff)]
        ) { row in
            IdempotencyRecord(key: row.text(0), bodyHash: row.text(1), responseStatus: row.int(2), responseBody: row.bytea(3), createdAt: row.date(4))
        }
    }

    /// Deletes up to 1,000 expired keys, skipping rows another replica is deleting
    /// (no waits, no deadlocks); run now and then rather than on every accept.
    static func purgeExpiredKeys(before cutoff: Date, _ connection: PostgresConnection) throws(PostgresError) {
        try connection.run(
            """
            DELETE FROM idempotency_keys
            WHERE key IN (SELECT key FROM idempotency_keys WHERE created_at <= $1 LIMIT 1000 FOR UPDATE SKIP LOCKED)
            """,
            [.date(cutoff)]
        )
    }

    /// Cancels every pending recipient of a message; canceled recipients post no event.
    static func cancel(messageID: String, now: Date, in transaction: PostgresWriteTransaction) throws(PostgresError) -> CancelResult {
        let connection = transaction.connection
        let count = try connection.run(
            """
            UPDATE recipients
            SET status = 'canceled', next_attempt_at = NULL, claimable_at = NULL,
                lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
            WHERE message_id = $2 AND status IN \(pendingStatuses)
            """,
            [.date(now), .text(messageID)]
        )
        if count > 0 {
            try connection.run("UPDATE messages SET status = 'canceled' WHERE id = $1", [.text(messageID)])
            transaction.changePending(by: -count)
        }
        guard let record = try PostgresQueries.message(id: messageID, now: now, withEvents: true, connection) else {
            return .notFound
        }
        return count > 0 ? .canceled(record, count: count) : .nothingToCancel(record)
    }

    /// Makes queued and deferred recipients due now. A recipient under a live
    /// lease keeps it: it becomes claimable when the lease ends, if still pending.
    static func retryNow(messageID: String?, now: Date, _ connection: PostgresConnection) throws(PostgresError) -> Int {
        let messageFilter = messageID == nil ? "" : "message_id = $2 AND "
        return try connection.run(
            """
            UPDATE recipients
            SET next_attempt_at = $1,
                claimable_at = CASE WHEN lease_expires_at > $1 THEN claimable_at ELSE $1 END
            WHERE \(messageFilter)status IN ('queued', 'deferred') AND next_attempt_at > $1
            """,
            messageID.map { [.date(now), .text($0)] } ?? [.date(now)]
        )
    }
}
