import Foundation

/// Delivery's side of the queue on PostgreSQL: `DeliverySQL`'s `claimable_at`
/// scheme (a pending recipient is claimable from its next attempt while free,
/// from its lease's expiry while leased), with claims that several gateways make
/// at once: the subquery locks the rows it picks `FOR UPDATE SKIP LOCKED`, so
/// concurrent claims pass over each other's rows instead of waiting for them or
/// taking them twice, and the lock's re-check of `claimable_at` (READ COMMITTED)
/// drops a row another claim has just leased.
enum PostgresDeliverySQL {
    static func claim(
        owner: String, now: Date, limit: Int, lease: Duration, _ connection: PostgresConnection
    ) throws(PostgresError) -> [ClaimedRecipient] {
        let claimed = try connection.query(
            """
            UPDATE recipients
            SET lease_owner = $1, lease_expires_at = $2, claimable_at = $2,
                status = CASE status WHEN 'scheduled' THEN 'queued' ELSE status END
            WHERE id IN (
                SELECT id FROM recipients WHERE claimable_at <= $3 ORDER BY claimable_at LIMIT $4 FOR UPDATE SKIP LOCKED
            )
            RETURNING id, message_id, email, domain, attempts, has_deferred, queued_since
            """,
            [.text(owner), .date(now.addingTimeInterval(lease.seconds)), .date(now), .int(max(0, limit))]
        ) { row in
            ClaimedRecipient(
                recipientID: row.int64(0), messageID: row.text(1), email: row.text(2), domain: row.text(3),
                attempts: row.int(4), hasDeferred: row.bool(5), queuedSince: row.date(6)
            )
        }
        return claimed.sorted { ($0.messageID, $0.recipientID) < ($1.messageID, $1.recipientID) }
    }

    static func renew(owner: String, recipientIDs: [Int64], until: Date, _ connection: PostgresConnection) throws(PostgresError) {
        try connection.run(
            """
            UPDATE recipients SET lease_expires_at = $1, claimable_at = $1
            WHERE id = ANY($2::bigint[]) AND lease_owner = $3 AND claimable_at IS NOT NULL
            """,
            [.date(until), .integerArray(recipientIDs), .text(owner)]
        )
    }

    static func release(owner: String, recipientIDs: [Int64], _ connection: PostgresConnection) throws(PostgresError) {
        try connection.run(
            """
            UPDATE recipients SET lease_owner = NULL, lease_expires_at = NULL, claimable_at = next_attempt_at
            WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND claimable_at IS NOT NULL
            """,
            [.integerArray(recipientIDs), .text(owner)]
        )
    }

    /// At `close()`: every recipient and event still leased by these owners (this
    /// instance's) is claimable at once, by this or another gateway. Leases of
    /// other gateways sharing the queue are left alone.
    static func releaseAll(owners: [String], _ connection: PostgresConnection) throws(PostgresError) {
        try connection.run(
            """
            UPDATE recipients SET lease_owner = NULL, lease_expires_at = NULL, claimable_at = next_attempt_at
            WHERE lease_owner = ANY($1::text[]) AND claimable_at IS NOT NULL
            """,
            [.textArray(owners)]
        )
        try connection.run(
            """
            UPDATE events SET lease_owner = NULL, lease_expires_at = NULL, webhook_next_attempt_at = created_at
            WHERE lease_owner = ANY($1::text[]) AND webhook_status = 'pending'
            """,
            [.textArray(owners)]
        )
    }

    static func nextDue(_ connection: PostgresConnection) throws(PostgresError) -> Date? {
        try connection.queryFirst(
            "SELECT claimable_at FROM recipients WHERE claimable_at IS NOT NULL ORDER BY claimable_at LIMIT 1"
        ) { $0.date(0) }
    }

    static func content(messageID: String, _ connection: PostgresConnection) throws(PostgresError) -> MessageContent? {
        try connection.queryFirst(
            """
            SELECT m.id, m.envelope_from, c.content, m.requires_smtputf8, m.requires_8bitmime
            FROM messages m JOIN message_contents c ON c.message_id = m.id WHERE m.id = $1
            """,
            [.text(messageID)],
            messageContent
        )
    }

    /// The contents of several messages, those of at most `largest` bytes.
    static func contents(messageIDs: [String], largest: Int, _ connection: PostgresConnection) throws(PostgresError) -> [MessageContent] {
        try connection.query(
            """
            SELECT m.id, m.envelope_from, c.content, m.requires_smtputf8, m.requires_8bitmime
            FROM messages m JOIN message_contents c ON c.message_id = m.id
            WHERE m.id = ANY($1::text[]) AND octet_length(c.content) <= $2
            """,
            [.textArray(messageIDs), .int(largest)],
            messageContent
        )
    }

    private static func messageContent(_ row: PostgresRow) -> MessageContent {
        MessageContent(
            messageID: row.text(0), envelopeFrom: row.text(1), content: row.bytea(2),
            requiresSMTPUTF8: row.bool(3), requires8BitMIME: row.bool(4)
        )
    }
}
