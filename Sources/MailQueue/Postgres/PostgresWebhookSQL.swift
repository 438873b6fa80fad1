import Foundation

/// The event outbox on PostgreSQL, as `WebhookSQL`: `webhook_next_attempt_at` is
/// when a claim may take an event (its lease's expiry while leased), claims skip
/// rows other gateways are claiming, and the claim returns each event with its
/// message's tags and metadata in the same round trip.
enum PostgresWebhookSQL {
    static func claim(owner: String, now: Date, limit: Int, lease: Duration, _ connection: PostgresConnection) throws(PostgresError) -> [PendingWebhook] {
        let claimed = try connection.query(
            """
            UPDATE events e SET lease_owner = $1, lease_expires_at = $2, webhook_next_attempt_at = $2
            FROM messages m
            WHERE e.id IN (
                SELECT id FROM events WHERE webhook_next_attempt_at <= $3 ORDER BY webhook_next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED
            ) AND m.id = e.message_id
            RETURNING e.id, e.type, e.created_at, e.message_id, e.recipient, e.delivery_attempt, e.response_code,
                      e.response_enhanced_code, e.response_message, e.response_host, e.reason, e.webhook_url,
                      e.webhook_attempts, m.tags, m.metadata
            """,
            [.text(owner), .date(now.addingTimeInterval(lease.seconds)), .date(now), .int(max(0, limit))]
        ) { row throws(PostgresError) in
            PendingWebhook(
                eventID: row.text(0), type: try row.value(1, as: EventType.self), createdAt: row.date(2),
                messageID: row.text(3), recipient: row.text(4), deliveryAttempt: row.int(5),
                response: row.optionalInt(6).map {
                    SMTPResponseRecord(code: $0, enhancedCode: row.optionalText(7), message: row.text(8), host: row.optionalText(9))
                },
                reason: row.optionalText(10), tags: MessageSQL.decodeTags(row.text(13)), metadataJSON: row.text(14),
                webhookURL: row.text(11), postAttempts: row.int(12)
            )
        }
        return claimed.sorted { $0.eventID < $1.eventID }
    }

    /// All results in one statement.
    static func record(_ results: [WebhookPostResult], owner: String, _ connection: PostgresConnection) throws(PostgresError) {
        guard !results.isEmpty else { return }
        var statuses: [String] = []
        var nextAttempts: [Int64?] = []
        for result in results {
            switch result.kind {
            case .delivered: statuses.append(WebhookStatus.delivered.rawValue); nextAttempts.append(nil)
            case .dropped: statuses.append(WebhookStatus.dropped.rawValue); nextAttempts.append(nil)
            case .retry(let at): statuses.append(WebhookStatus.pending.rawValue); nextAttempts.append(StoredTime.milliseconds(at))
            }
        }
        try connection.run(
            """
            UPDATE events e
            SET webhook_status = result.status, webhook_attempts = e.webhook_attempts + result.posts,
                webhook_next_attempt_at = result.next_attempt_at, lease_owner = NULL, lease_expires_at = NULL
            FROM unnest($1::text[], $2::text[], $3::bigint[], $5::bigint[]) AS result (id, status, next_attempt_at, posts)
            WHERE e.id = result.id AND e.lease_owner = $4 AND e.webhook_status = 'pending'
            """,
            [.textArray(results.map(\.eventID)), .textArray(statuses), .integerArray(nextAttempts), .text(owner),
             .integerArray(results.map { $0.posted ? 1 : 0 })]
        )
    }

    /// Claimed events given back unposted: due again at once (their creation time
    /// is in the past and keeps them in order among the due ones).
    static func release(owner: String, eventIDs: [String], _ connection: PostgresConnection) throws(PostgresError) {
        try connection.run(
            """
            UPDATE events SET lease_owner = NULL, lease_expires_at = NULL, webhook_next_attempt_at = created_at
            WHERE id = ANY($1::text[]) AND lease_owner = $2 AND webhook_status = 'pending'
            """,
            [.textArray(eventIDs), .text(owner)]
        )
    }

    static func nextDue(_ connection: PostgresConnection) throws(PostgresError) -> Date? {
        try connection.queryFirst(
            "SELECT webhook_next_attempt_at FROM events WHERE webhook_next_attempt_at IS NOT NULL ORDER BY webhook_next_attempt_at LIMIT 1"
        ) { $0.date(0) }
    }
}
