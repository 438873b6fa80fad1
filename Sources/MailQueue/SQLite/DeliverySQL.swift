import Foundation

/// Delivery's side of the queue: claims under leases and outcomes with their events.
///
/// A pending recipient's `claimable_at` is when a claim may take it: its
/// `next_attempt_at` while no one holds it, its lease's expiry while someone
/// does. So claiming is one range scan of the `recipients_claimable` index, a
/// lapsed lease needs no sweeper, and `nextRecipientDue` is the index's first entry.
enum DeliverySQL {
    /// Leases the recipients due first, in one statement. (PostgreSQL: the same
    /// statement with `FOR UPDATE SKIP LOCKED` in the subquery.) A `scheduled`
    /// recipient becomes `queued` when first claimed.
    static func claim(owner: String, now: Date, limit: Int, lease: Duration, _ connection: SQLiteConnection) throws(SQLiteError) -> [ClaimedRecipient] {
        let claimed = try connection.query(
            """
            UPDATE recipients
            SET lease_owner = ?1, lease_expires_at = ?2, claimable_at = ?2,
                status = CASE status WHEN 'scheduled' THEN 'queued' ELSE status END
            WHERE id IN (SELECT id FROM recipients WHERE claimable_at <= ?3 ORDER BY claimable_at LIMIT ?4)
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

    static func renew(owner: String, recipientIDs: [Int64], until: Date, _ connection: SQLiteConnection) throws(SQLiteError) {
        for id in recipientIDs {
            try connection.run(
                "UPDATE recipients SET lease_expires_at = ?1, claimable_at = ?1 WHERE id = ?2 AND lease_owner = ?3 AND claimable_at IS NOT NULL",
                [.date(until), .integer(id), .text(owner)]
            )
        }
    }

    static func release(owner: String, recipientIDs: [Int64], _ connection: SQLiteConnection) throws(SQLiteError) {
        for id in recipientIDs {
            try connection.run(
                """
                UPDATE recipients SET lease_owner = NULL, lease_expires_at = NULL, claimable_at = next_attempt_at
                WHERE id = ? AND lease_owner = ? AND claimable_at IS NOT NULL
                """,
                [.integer(id), .text(owner)]
            )
        }
    }

    /// At a gateway's start: no other process can hold leases on this queue, so
    /// every lease is a dead process's and its work is claimable at once.
    static func clearLeases(_ connection: SQLiteConnection, now: Date) throws(SQLiteError) {
        try connection.run(
            """
            UPDATE recipients SET lease_owner = NULL, lease_expires_at = NULL, claimable_at = next_attempt_at
            WHERE lease_owner IS NOT NULL
            """
        )
        try connection.run(
            """
            UPDATE events SET lease_owner = NULL, lease_expires_at = NULL, webhook_next_attempt_at = ?
            WHERE lease_owner IS NOT NULL AND webhook_status = 'pending'
            """,
            [.date(now)]
        )
    }

    static func nextDue(_ connection: SQLiteConnection) throws(SQLiteError) -> Date? {
        try connection.queryFirst(
            "SELECT claimable_at FROM recipients WHERE claimable_at IS NOT NULL ORDER BY claimable_at LIMIT 1"
        ) { $0.date(0) }
    }

    static func content(messageID: String, _ connection: SQLiteConnection) throws(SQLiteError) -> MessageContent? {
        try connection.queryFirst(
            """
            SELECT m.id, m.envelope_from, c.content, m.requires_smtputf8, m.requires_8bitmime
            FROM messages m JOIN message_contents c ON c.message_id = m.id WHERE m.id = ?
            """,
            [.text(messageID)]
        ) { row in
            MessageContent(
                messageID: row.text(0), envelopeFrom: row.text(1), content: row.blob(2),
                requiresSMTPUTF8: row.bool(3), requires8BitMIME: row.bool(4)
            )
        }
    }
}

extension Duration {
    /// The duration in seconds, for date arithmetic.
    var seconds: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
