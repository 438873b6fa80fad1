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
            [.text(messageID)]
        ) { row in
            MessageContent(
                messageID: row.text(0), envelopeFrom: row.text(1), content: row.bytea(2),
                requiresSMTPUTF8: row.bool(3), requires8BitMIME: row.bool(4)
            )
        }
    }
}

/// Recording delivery outcomes on PostgreSQL, as `OutcomeSQL` does: the
/// recipient's new state and its event in one statement per outcome, then the
/// status of each message touched.
enum PostgresOutcomeSQL {
    static func record(_ outcomes: [RecipientOutcome], owner: String, in transaction: PostgresWriteTransaction) throws(PostgresError) {
        var touchedMessages: Set<String> = []
        for outcome in outcomes {
            guard let messageID = try apply(outcome, owner: owner, transaction.connection) else { continue }
            if outcome.kind.isFinal { transaction.changePending(by: -1) }
            touchedMessages.insert(messageID)
        }
        try updateMessageStatuses(touchedMessages.sorted(), transaction.connection)
    }

    /// Applies the outcome if `owner` still leases the recipient and it is not
    /// final (locking its row first), inserting its event unless it is a repeated
    /// deferral (SPEC §4). Returns the recipient's message id, nil when ignored.
    private static func apply(_ outcome: RecipientOutcome, owner: String, _ connection: PostgresConnection) throws(PostgresError) -> String? {
        let reason: String? = if case .failed(let reason) = outcome.kind { reason } else { nil }
        let nextAttempt: PostgresValue = if case .deferred(let at) = outcome.kind { .date(at) } else { .null }
        return try connection.queryFirst(
            """
            WITH leased AS (
                SELECT r.id, r.message_id, r.email, r.attempts, r.has_deferred, m.webhook_url
                FROM recipients r JOIN messages m ON m.id = r.message_id
                WHERE r.id = $1::bigint AND r.lease_owner = $2::text AND r.status IN \(PostgresMessageSQL.pendingStatuses)
                FOR UPDATE OF r
            ), updated AS (
                UPDATE recipients r
                SET status = $3::text, attempts = leased.attempts + $4::integer, next_attempt_at = $5::bigint,
                    claimable_at = $5::bigint, updated_at = $6::bigint, has_deferred = r.has_deferred OR $7::boolean,
                    lease_owner = NULL, lease_expires_at = NULL,
                    last_code = CASE WHEN $8::boolean THEN $9::integer ELSE r.last_code END,
                    last_enhanced_code = CASE WHEN $8::boolean THEN $10::text ELSE r.last_enhanced_code END,
                    last_message = CASE WHEN $8::boolean THEN $11::text ELSE r.last_message END,
                    last_host = CASE WHEN $8::boolean THEN $12::text ELSE r.last_host END
                FROM leased WHERE r.id = leased.id
            ), event AS (
                INSERT INTO events (id, message_id, recipient_id, recipient, type, created_at, delivery_attempt,
                                    response_code, response_enhanced_code, response_message, response_host, reason,
                                    webhook_url, webhook_status, webhook_next_attempt_at)
                SELECT $13::text, leased.message_id, leased.id, leased.email, $14::text, $6::bigint,
                       leased.attempts + $4::integer, $9::integer, $10::text, $11::text, $12::text, $15::text,
                       leased.webhook_url, CASE WHEN leased.webhook_url IS NULL THEN 'none' ELSE 'pending' END,
                       CASE WHEN leased.webhook_url IS NULL THEN NULL ELSE $6::bigint END
                FROM leased WHERE NOT ($7::boolean AND leased.has_deferred)
            )
            SELECT message_id FROM leased
            """,
            [
                .integer(outcome.recipientID), .text(owner), .text(outcome.kind.status.rawValue), .int(outcome.attempted ? 1 : 0),
                nextAttempt, .date(outcome.decidedAt), .bool(outcome.kind.isDeferral), .bool(outcome.response != nil),
                .optional(outcome.response?.code), .optional(outcome.response?.enhancedCode),
                .optional(outcome.response?.message), .optional(outcome.response?.host),
                .text(SortableID.generate(.event, at: outcome.decidedAt)), .text(outcome.kind.eventType.rawValue), .optional(reason),
            ]
        ) { $0.text(0) }
    }

    /// `complete` once every recipient is final, unless a cancel ended the message.
    /// The messages are locked first (in id order), so that the status is computed
    /// by a statement that starts after every other transaction that changed their
    /// recipients and locked them before us has committed: two gateways finishing
    /// a message's last recipients at once cannot both still see the other's as pending.
    static func updateMessageStatuses(_ messageIDs: [String], _ connection: PostgresConnection) throws(PostgresError) {
        guard !messageIDs.isEmpty else { return }
        try connection.run("SELECT 1 FROM messages WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE", [.textArray(messageIDs)])
        try connection.run(
            """
            UPDATE messages m
            SET status = CASE
                WHEN EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.status IN \(PostgresMessageSQL.pendingStatuses))
                THEN 'queued' ELSE 'complete' END
            WHERE m.id = ANY($1::text[]) AND m.status <> 'canceled'
            """,
            [.textArray(messageIDs)]
        )
    }
}
