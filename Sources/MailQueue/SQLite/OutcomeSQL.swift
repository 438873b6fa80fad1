import Foundation

/// Recording delivery outcomes: the recipient's new state, its event for the
/// webhook outbox, and the message's status, all in the writer's transaction
/// (SPEC §4: events are stored with the outcome in the same transaction).
enum OutcomeSQL {
    /// The recipient as its leaseholder sees it before the outcome applies.
    private struct Leased {
        var messageID: String
        var email: String
        var attempts: Int
        var hasDeferred: Bool
        var webhookURL: String?
    }

    static func record(_ outcomes: [RecipientOutcome], owner: String, in transaction: WriteTransaction) throws(SQLiteError) {
        var touchedMessages: [String] = []
        for outcome in outcomes {
            guard let leased = try leasedRecipient(outcome.recipientID, owner: owner, transaction.connection) else { continue }
            try apply(outcome, to: leased, transaction.connection)
            if outcome.kind.isFinal { transaction.pendingRecipients -= 1 }
            if !touchedMessages.contains(leased.messageID) { touchedMessages.append(leased.messageID) }
        }
        for messageID in touchedMessages { try updateMessageStatus(messageID, transaction.connection) }
    }

    /// The recipient if `owner` still leases it and it is not final: a canceled
    /// recipient, or one another claim took after the lease lapsed, is left alone.
    private static func leasedRecipient(_ id: Int64, owner: String, _ connection: SQLiteConnection) throws(SQLiteError) -> Leased? {
        try connection.queryFirst(
            """
            SELECT r.message_id, r.email, r.attempts, r.has_deferred, m.webhook_url
            FROM recipients r JOIN messages m ON m.id = r.message_id
            WHERE r.id = ? AND r.lease_owner = ? AND r.status IN \(MessageSQL.pendingStatuses)
            """,
            [.integer(id), .text(owner)]
        ) { row in
            Leased(messageID: row.text(0), email: row.text(1), attempts: row.int(2), hasDeferred: row.bool(3), webhookURL: row.optionalText(4))
        }
    }

    private static func apply(_ outcome: RecipientOutcome, to leased: Leased, _ connection: SQLiteConnection) throws(SQLiteError) {
        let attempts = leased.attempts + (outcome.attempted ? 1 : 0)
        let nextAttempt: SQLiteValue = if case .deferred(let at) = outcome.kind { .date(at) } else { .null }
        // Without a new reply (a lifetime that ran out), the last one still explains the status.
        try connection.run(
            """
            UPDATE recipients
            SET status = ?2, attempts = ?3, next_attempt_at = ?4, claimable_at = ?4, updated_at = ?5,
                has_deferred = has_deferred OR ?6, lease_owner = NULL, lease_expires_at = NULL,
                last_code = CASE WHEN ?7 THEN ?8 ELSE last_code END,
                last_enhanced_code = CASE WHEN ?7 THEN ?9 ELSE last_enhanced_code END,
                last_message = CASE WHEN ?7 THEN ?10 ELSE last_message END,
                last_host = CASE WHEN ?7 THEN ?11 ELSE last_host END
            WHERE id = ?1
            """,
            [
                .integer(outcome.recipientID), .text(outcome.kind.status.rawValue), .int(attempts), nextAttempt,
                .date(outcome.decidedAt), .bool(outcome.kind.isDeferral), .bool(outcome.response != nil),
                .optional(outcome.response?.code), .optional(outcome.response?.enhancedCode),
                .optional(outcome.response?.message), .optional(outcome.response?.host),
            ]
        )
        // SPEC §4: a deferral posts an event only the first time.
        if outcome.kind.isDeferral && leased.hasDeferred { return }
        try insertEvent(for: outcome, leased: leased, attempts: attempts, connection)
    }

    private static func insertEvent(for outcome: RecipientOutcome, leased: Leased, attempts: Int, _ connection: SQLiteConnection) throws(SQLiteError) {
        let reason: String? = if case .failed(let reason) = outcome.kind { reason } else { nil }
        let webhookStatus: WebhookStatus = leased.webhookURL == nil ? .none : .pending
        try connection.run(
            """
            INSERT INTO events (id, message_id, recipient_id, recipient, type, created_at, delivery_attempt,
                                response_code, response_enhanced_code, response_message, response_host, reason,
                                webhook_url, webhook_status, webhook_next_attempt_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, CASE WHEN ?13 IS NULL THEN NULL ELSE ?6 END)
            """,
            [
                .text(SortableID.generate(.event, at: outcome.decidedAt)), .text(leased.messageID),
                .integer(outcome.recipientID), .text(leased.email), .text(outcome.kind.eventType.rawValue),
                .date(outcome.decidedAt), .int(attempts),
                .optional(outcome.response?.code), .optional(outcome.response?.enhancedCode),
                .optional(outcome.response?.message), .optional(outcome.response?.host), .optional(reason),
                .optional(leased.webhookURL), .text(webhookStatus.rawValue),
            ]
        )
    }

    /// `complete` once every recipient is final, unless a cancel ended the message.
    static func updateMessageStatus(_ messageID: String, _ connection: SQLiteConnection) throws(SQLiteError) {
        try connection.run(
            """
            UPDATE messages
            SET status = CASE
                WHEN EXISTS (SELECT 1 FROM recipients WHERE message_id = ?1 AND status IN \(MessageSQL.pendingStatuses)) THEN 'queued'
                ELSE 'complete' END
            WHERE id = ?1 AND status <> 'canceled'
            """,
            [.text(messageID)]
        )
    }
}

extension RecipientOutcome.Kind {
    var status: RecipientStatus {
        switch self {
        case .delivered: .delivered
        case .deferred: .deferred
        case .bounced: .bounced
        case .failed: .failed
        }
    }

    var eventType: EventType {
        switch self {
        case .delivered: .delivered
        case .deferred: .deferred
        case .bounced: .bounced
        case .failed: .failed
        }
    }

    var isFinal: Bool { status.isFinal }

    var isDeferral: Bool { if case .deferred = self { true } else { false } }
}
