import Foundation

/// The event outbox: claims of due events under leases and POST results. A
/// pending event's `webhook_next_attempt_at` is when a claim may take it (its
/// lease's expiry while leased), so the `events_due` index serves both claims
/// and `nextWebhookDue`; settled events have NULL there and leave the index.
enum WebhookSQL {
    static func claim(owner: String, now: Date, limit: Int, lease: Duration, _ connection: SQLiteConnection) throws(SQLiteError) -> [PendingWebhook] {
        let claimed = try connection.query(
            """
            UPDATE events SET lease_owner = ?1, lease_expires_at = ?2, webhook_next_attempt_at = ?2
            WHERE id IN (SELECT id FROM events WHERE webhook_next_attempt_at <= ?3 ORDER BY webhook_next_attempt_at LIMIT ?4)
            RETURNING id, type, created_at, message_id, recipient, delivery_attempt, response_code, response_enhanced_code,
                      response_message, response_host, reason, webhook_url, webhook_attempts
            """,
            [.text(owner), .date(now.addingTimeInterval(lease.seconds)), .date(now), .int(max(0, limit))]
        ) { row throws(SQLiteError) in
            PendingWebhook(
                eventID: row.text(0), type: try row.value(1, as: EventType.self), createdAt: row.date(2),
                messageID: row.text(3), recipient: row.text(4), deliveryAttempt: row.int(5),
                response: row.optionalInt(6).map {
                    SMTPResponseRecord(code: $0, enhancedCode: row.optionalText(7), message: row.text(8), host: row.optionalText(9))
                },
                reason: row.optionalText(10), tags: [], metadataJSON: "{}", webhookURL: row.text(11), postAttempts: row.int(12)
            )
        }
        var payloads: [String: (tags: [String], metadata: String)] = [:]
        var webhooks: [PendingWebhook] = []
        for var webhook in claimed.sorted(by: { $0.eventID < $1.eventID }) {
            if payloads[webhook.messageID] == nil {
                payloads[webhook.messageID] = try connection.queryFirst(
                    "SELECT tags, metadata FROM messages WHERE id = ?", [.text(webhook.messageID)]
                ) { (MessageSQL.decodeTags($0.text(0)), $0.text(1)) }
            }
            webhook.tags = payloads[webhook.messageID]?.tags ?? []
            webhook.metadataJSON = payloads[webhook.messageID]?.metadata ?? "{}"
            webhooks.append(webhook)
        }
        return webhooks
    }

    static func record(_ results: [WebhookPostResult], owner: String, _ connection: SQLiteConnection) throws(SQLiteError) {
        for result in results {
            let (status, next): (WebhookStatus, SQLiteValue) =
                switch result.kind {
                case .delivered: (.delivered, .null)
                case .dropped: (.dropped, .null)
                case .retry(let at): (.pending, .date(at))
                }
            try connection.run(
                """
                UPDATE events
                SET webhook_status = ?1, webhook_attempts = webhook_attempts + ?5, webhook_next_attempt_at = ?2,
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE id = ?3 AND lease_owner = ?4 AND webhook_status = 'pending'
                """,
                [.text(status.rawValue), next, .text(result.eventID), .text(owner), .integer(result.posted ? 1 : 0)]
            )
        }
    }

    /// Claimed events given back unposted: due again at once (their creation time
    /// is in the past and keeps them in order among the due ones).
    static func release(owner: String, eventIDs: [String], _ connection: SQLiteConnection) throws(SQLiteError) {
        for id in eventIDs {
            try connection.run(
                """
                UPDATE events SET lease_owner = NULL, lease_expires_at = NULL, webhook_next_attempt_at = created_at
                WHERE id = ? AND lease_owner = ? AND webhook_status = 'pending'
                """,
                [.text(id), .text(owner)]
            )
        }
    }

    static func nextDue(_ connection: SQLiteConnection) throws(SQLiteError) -> Date? {
        try connection.queryFirst(
            "SELECT webhook_next_attempt_at FROM events WHERE webhook_next_attempt_at IS NOT NULL ORDER BY webhook_next_attempt_at LIMIT 1"
        ) { $0.date(0) }
    }
}
