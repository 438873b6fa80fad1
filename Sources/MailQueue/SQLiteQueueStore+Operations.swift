import Foundation

/// The protocol's operations: each hands its SQL to the writer (one durable group
/// commit, or a cheaper one for lease bookkeeping) or to a reader.
extension SQLiteQueueStore {
    // MARK: The API

    public func accept(_ messages: [NewMessage], idempotency: IdempotencyRecord?) async throws(StoreError) -> AcceptResult {
        let decision = try await writer.perform(durable: true) { transaction throws(SQLiteError) in
            try MessageSQL.accept(messages, idempotency: idempotency, in: transaction)
        }
        switch decision {
        case .accepted: return .accepted
        case .alreadyAccepted(let record): return .alreadyAccepted(record)
        case .queueFull(let limit): throw .queueFull(limit: limit)
        }
    }

    public func idempotencyRecord(key: String, now: Date) async throws(StoreError) -> IdempotencyRecord? {
        try await readers.perform { connection throws(SQLiteError) in
            try MessageSQL.idempotencyRecord(key: key, after: now.addingTimeInterval(-MessageSQL.idempotencyLifetime), connection)
        }
    }

    public func message(id: String, now: Date) async throws(StoreError) -> MessageRecord? {
        try await readers.perform { connection throws(SQLiteError) in
            try MessageQueries.message(id: id, now: now, withEvents: true, connection)
        }
    }

    public func listMessages(status: MessageStatus?, limit: Int, cursor: String?, now: Date) async throws(StoreError) -> MessagePage {
        if let cursor, !SortableID.isValid(cursor, kind: .message) { throw .invalidCursor(cursor) }
        return try await readers.perform { connection throws(SQLiteError) in
            try MessageQueries.page(status: status, limit: limit, cursor: cursor, now: now, connection)
        }
    }

    public func cancel(messageID: String, now: Date) async throws(StoreError) -> CancelResult {
        try await writer.perform(durable: true) { transaction throws(SQLiteError) in
            try MessageSQL.cancel(messageID: messageID, now: now, in: transaction)
        }
    }

    public func retryNow(messageID: String?, now: Date) async throws(StoreError) -> Int {
        try await writer.perform(durable: true) { transaction throws(SQLiteError) in
            try MessageSQL.retryNow(messageID: messageID, now: now, transaction.connection)
        }
    }

    public func statistics(now: Date) async throws(StoreError) -> QueueStatistics {
        try await readers.perform { connection throws(SQLiteError) in
            try MessageQueries.statistics(now: now, connection)
        }
    }

    // MARK: Delivery

    /// Claims are not synced: one lost in a crash leaves its recipients claimable.
    public func claimDueRecipients(owner: String, now: Date, limit: Int, lease: Duration) async throws(StoreError) -> [ClaimedRecipient] {
        try await writer.perform(durable: false) { transaction throws(SQLiteError) in
            try DeliverySQL.claim(owner: owner, now: now, limit: limit, lease: lease, transaction.connection)
        }
    }

    public func renewRecipientLeases(owner: String, recipientIDs: [Int64], until: Date) async throws(StoreError) {
        try await writer.perform(durable: false) { transaction throws(SQLiteError) in
            try DeliverySQL.renew(owner: owner, recipientIDs: recipientIDs, until: until, transaction.connection)
        }
    }

    public func releaseRecipients(owner: String, recipientIDs: [Int64]) async throws(StoreError) {
        try await writer.perform(durable: false) { transaction throws(SQLiteError) in
            try DeliverySQL.release(owner: owner, recipientIDs: recipientIDs, transaction.connection)
        }
    }

    public func messageContent(id: String) async throws(StoreError) -> MessageContent? {
        try await readers.perform { connection throws(SQLiteError) in
            try DeliverySQL.content(messageID: id, connection)
        }
    }

    /// Synced: a lost `delivered` would send the message again, and a lost event
    /// would never be posted.
    public func recordOutcomes(_ outcomes: [RecipientOutcome], owner: String) async throws(StoreError) {
        try await writer.perform(durable: true) { transaction throws(SQLiteError) in
            try OutcomeSQL.record(outcomes, owner: owner, in: transaction)
        }
    }

    public func nextRecipientDue() async throws(StoreError) -> Date? {
        try await readers.perform { connection throws(SQLiteError) in try DeliverySQL.nextDue(connection) }
    }

    // MARK: Webhooks

    public func claimDueWebhooks(owner: String, now: Date, limit: Int, lease: Duration) async throws(StoreError) -> [PendingWebhook] {
        try await writer.perform(durable: false) { transaction throws(SQLiteError) in
            try WebhookSQL.claim(owner: owner, now: now, limit: limit, lease: lease, transaction.connection)
        }
    }

    /// Not synced: a result lost in a crash only posts the event again, which
    /// receivers de-duplicate by `webhook-id` (SPEC §4).
    public func recordWebhookResults(_ results: [WebhookPostResult], owner: String) async throws(StoreError) {
        try await writer.perform(durable: false) { transaction throws(SQLiteError) in
            try WebhookSQL.record(results, owner: owner, transaction.connection)
        }
    }

    public func releaseWebhooks(owner: String, eventIDs: [String]) async throws(StoreError) {
        try await writer.perform(durable: false) { transaction throws(SQLiteError) in
            try WebhookSQL.release(owner: owner, eventIDs: eventIDs, transaction.connection)
        }
    }

    public func nextWebhookDue() async throws(StoreError) -> Date? {
        try await readers.perform { connection throws(SQLiteError) in try WebhookSQL.nextDue(connection) }
    }
}
