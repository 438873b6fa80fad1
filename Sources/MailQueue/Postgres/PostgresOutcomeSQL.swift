import Foundation

/// Recording delivery outcomes on PostgreSQL, as `OutcomeSQL` does on SQLite: each
/// recipient's new state and its event, then the status of each message touched,
/// in the batch's transaction. All outcomes of a call go in one statement (the
/// outcomes as arrays, `unnest`ed), so that recording costs one round trip
/// however many recipients a transaction carried.
enum PostgresOutcomeSQL {
    static func record(_ outcomes: [RecipientOutcome], owner: String, in transaction: PostgresWriteTransaction) throws(PostgresError) {
        // One outcome per recipient: on SQLite a second one finds the lease already gone.
        var seen: Set<Int64> = []
        let unique = outcomes.filter { seen.insert($0.recipientID).inserted }
        guard !unique.isEmpty else { return }
        let applied = try transaction.connection.query(statement, parameters(unique, owner: owner)) { row throws(PostgresError) in
            (row.text(0), try row.value(1, as: RecipientStatus.self))
        }
        transaction.changePending(by: -applied.filter { $0.1.isFinal }.count)
        try updateMessageStatuses(Set(applied.map(\.0)).sorted(), transaction.connection)
    }

    /// Locks the recipients `$1` still leases that are not final (in id order), applies
    /// each one's outcome, and inserts its event unless it is a repeated deferral
    /// (SPEC §4); returns the message id and new status of each recipient applied.
    private static let statement = """
        WITH outcome AS (
            SELECT * FROM unnest($2::bigint[], $3::text[], $4::integer[], $5::bigint[], $6::bigint[], $7::boolean[],
                                 $8::boolean[], $9::integer[], $10::text[], $11::text[], $12::text[], $13::text[],
                                 $14::text[], $15::text[])
                AS o (recipient_id, status, attempted, next_attempt_at, decided_at, is_deferral, has_response,
                      code, enhanced_code, message, host, event_id, event_type, reason)
        ), leased AS (
            SELECT r.id, r.message_id, r.email, r.attempts, r.has_deferred, m.webhook_url
            FROM recipients r JOIN messages m ON m.id = r.message_id
            WHERE r.id IN (SELECT recipient_id FROM outcome) AND r.lease_owner = $1::text
              AND r.status IN \(PostgresMessageSQL.pendingStatuses)
            ORDER BY r.id
            FOR UPDATE OF r
        ), updated AS (
            UPDATE recipients r
            SET status = o.status, attempts = l.attempts + o.attempted, next_attempt_at = o.next_attempt_at,
                claimable_at = o.next_attempt_at, updated_at = o.decided_at, has_deferred = r.has_deferred OR o.is_deferral,
                lease_owner = NULL, lease_expires_at = NULL,
                last_code = CASE WHEN o.has_response THEN o.code ELSE r.last_code END,
                last_enhanced_code = CASE WHEN o.has_response THEN o.enhanced_code ELSE r.last_enhanced_code END,
                last_message = CASE WHEN o.has_response THEN o.message ELSE r.last_message END,
                last_host = CASE WHEN o.has_response THEN o.host ELSE r.last_host END
            FROM leased l JOIN outcome o ON o.recipient_id = l.id
            WHERE r.id = l.id
        ), event AS (
            INSERT INTO events (id, message_id, recipient_id, recipient, type, created_at, delivery_attempt,
                                response_code, response_enhanced_code, response_message, response_host, reason,
                                webhook_url, webhook_status, webhook_next_attempt_at)
            SELECT o.event_id, l.message_id, l.id, l.email, o.event_type, o.decided_at, l.attempts + o.attempted,
                   o.code, o.enhanced_code, o.message, o.host, o.reason, l.webhook_url,
                   CASE WHEN l.webhook_url IS NULL THEN 'none' ELSE 'pending' END,
                   CASE WHEN l.webhook_url IS NULL THEN NULL ELSE o.decided_at END
            FROM leased l JOIN outcome o ON o.recipient_id = l.id
            WHERE NOT (o.is_deferral AND l.has_deferred)
        )
        SELECT l.message_id, o.status FROM leased l JOIN outcome o ON o.recipient_id = l.id
        """

    private static func parameters(_ outcomes: [RecipientOutcome], owner: String) -> [PostgresValue] {
        let responses = outcomes.map(\.response)
        return [
            .text(owner),
            .integerArray(outcomes.map(\.recipientID)),
            .textArray(outcomes.map(\.kind.status.rawValue)),
            .integerArray(outcomes.map { $0.attempted ? 1 : 0 }),
            .integerArray(outcomes.map { if case .deferred(let at) = $0.kind { StoredTime.milliseconds(at) } else { nil } }),
            .integerArray(outcomes.map { StoredTime.milliseconds($0.decidedAt) }),
            .boolArray(outcomes.map(\.kind.isDeferral)),
            .boolArray(responses.map { $0 != nil }),
            .integerArray(responses.map { $0.map { Int64($0.code) } }),
            .textArray(responses.map { $0?.enhancedCode }),
            .textArray(responses.map { $0?.message }),
            .textArray(responses.map { $0?.host }),
            .textArray(outcomes.map { SortableID.generate(.event, at: $0.decidedAt) }),
            .textArray(outcomes.map(\.kind.eventType.rawValue)),
            .textArray(outcomes.map { if case .failed(let reason) = $0.kind { reason } else { nil } }),
        ]
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
