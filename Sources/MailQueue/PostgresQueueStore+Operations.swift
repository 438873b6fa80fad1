import Foundation

/// The protocol's operations: each hands its SQL to a writer thread (one group
/// commit) or to a reader thread.
extension PostgresQueueStore {
    // MARK: The API

    public func accept(_ messages: [NewMessage], idempotency: IdempotencyRecord?) async throws(StoreError) -> AcceptResult {
        refreshPendingCountIfDue()
        let purgeBefore = idempotency.flatMap { claimKeyPurge() ? $0.createdAt.addingTimeInterval(-MessageSQL.idempotencyLifetime) : nil }
        let decision = try await writer.perform(durable: true) { transaction throws(PostgresError) in
            if let purgeBefore { try PostgresMessageSQL.purgeExpiredKeys(before: purgeBefore, transaction.connection) }
            return try PostgresMessageSQL.accept(messages, idempotency: idempotency, in: transaction)
        }
        switch decision {
        case .accepted: return .accepted
        case .alreadyAccepted(let record): return .alreadyAccepted(record)
        case .queueFull(let limit): throw .queueFull(limit: limit)
        }
    }

    public func idempotencyRecord(key: String, now: Date) async throws(StoreError) -> IdempotencyRecord? {
        try await readers.perform { connection throws(PostgresError) in
            try PostgresMessageSQL.idempotencyRecord(key: key, after: now.addingTimeInterval(-MessageSQL.idempotencyLifetime), connection)
        }
    }

    public func message(id: String, now: Date) async throws(StoreError) -> MessageRecord? {
        try await readers.perform(snapshot: true) { connection throws(PostgresError) in
            try PostgresQueries.message(id: id, now: now, withEvents: true, connection)
        }
    }

    public func listMessages(status: MessageStatus?, limit: Int, cursor: String?, now: Date) async throws(StoreError) -> MessagePage {
        if let cursor, !SortableID.isValid(cursor, kind: .message) { throw .invalidCursor(cursor) }
        return try await readers.perform(snapshot: true) { connection throws(PostgresError) in
            try PostgresQueries.page(status: status, limit: limit, cursor: cursor, now: now, connection)
        }
    }

    public func cancel(messageID: String, now: Date) async throws(StoreError) -> CancelResult {
        try await writer.perform(durable: true) { transaction throws(PostgresError) in
            try PostgresMessageSQL.cancel(messageID: messageID, now: now, in: transaction)
        }
    }

    public func retryNow(messageID: String?, now: Date) async throws(StoreError) -> Int {
        try await writer.perform(durable: true) { transaction throws(PostgresError) in
            try PostgresMessageSQL.retryNow(messageID: messageID, now: now, transaction.connection)
        }
    }

    public func statistics(now: Date) async throws(StoreError) -> QueueStatistics {
        try await readers.perform { connection throws(PostgresError) in try PostgresQueries.statistics(now: now, connection) }
    }

    // MARK: Delivery

    /// Also fetches the claimed messages' contents (see `PostgresContentCache`).
    public func claimDueRecipients(owner: String, now: Date, limit: Int, lease: Duration) async throws(StoreError) -> [ClaimedRecipient] {
        remember(owner: owner)
        let claimed = try await writer.perform(durable: true) { transaction throws(PostgresError) in
            try PostgresDeliverySQL.claim(owner: owner, now: now, limit: limit, lease: lease, transaction.connection)
        }
        let missing = contents.missing(Set(claimed.map(\.messageID)))
        if !missing.isEmpty, let fetched = try? await readers.perform({ connection throws(PostgresError) in
            try PostgresDeliverySQL.contents(messageIDs: missing, largest: PostgresContentCache.largestKept, connection)
        }) {
            contents.keep(fetched)
        }
        return claimed
    }

    public func renewRecipientLeases(owner: String, recipientIDs: [Int64], until: Date) async throws(StoreError) {
        try await writer.perform(durable: true) { transaction throws(PostgresError) in
            try PostgresDeliverySQL.renew(owner: owner, recipientIDs: recipientIDs, until: until, transaction.connection)
        }
    }

    public func releaseRecipients(owner: String, recipientIDs: [Int64]) async throws(StoreError) {
        try await writer.perform(durable: true) { transaction throws(PostgresError) in
            try PostgresDeliverySQL.release(owner: owner, recipientIDs: recipientIDs, transaction.connection)
        }
    }

    public func messageContent(id: String) async throws(StoreError) -> MessageContent? {
        if let kept = contents.take(id) { return kept }
        return try await readers.perform { connection throws(PostgresError) in try PostgresDeliverySQL.content(messageID: id, connection) }
    }

    public func recordOutcomes(_ outcomes: [RecipientOutcome], owner: String) async throws(StoreError) {
        try await writer.perform(durable: true) { transaction throws(PostgresError) in
            try PostgresOutcomeSQL.record(outcomes, owner: owner, in: transaction)
        }
    }

    public func nextRecipientDue() async throws(StoreError) -> Date? {
        try await readers.perform { connection throws(PostgresError) in try PostgresDeliverySQL.nextDue(connection) }
    }

    // MARK: Webhooks

    /// Not flushed: a claim lost in a server crash only lets the event be posted
    /// twice, which receivers de-duplicate by `webhook-id` (SPEC §4).
    public func claimDueWebhooks(owner: String, now: Date, limit: Int, lease: Duration) async throws(StoreError) -> [PendingWebhook] {
        remember(owner: owner)
        return try await writer.perform(durable: false) { transaction throws(PostgresError) in
            try PostgresWebhookSQL.claim(owner: owner, now: now, limit: limit, lease: lease, transaction.connection)
        }
    }

    public func recordWebhookResults(_ results: [WebhookPostResult], owner: String) async throws(StoreError) {
        try await writer.perform(durable: false) { transaction throws(PostgresError) in
            try PostgresWebhookSQL.record(results, owner: owner, transaction.connection)
        }
    }

    public func releaseWebhooks(owner: String, eventIDs: [String]) async throws(StoreError) {
        try await writer.perform(durable: false) { transaction throws(PostgresError) in
            try PostgresWebhookSQL.release(owner: owner, eventIDs: eventIDs, transaction.connection)
        }
    }

    public func nextWebhookDue() async throws(StoreError) -> Date? {
        try await readers.perform { connection throws(PostgresError) in try PostgresWebhookSQL.nextDue(connection) }
    }
}
