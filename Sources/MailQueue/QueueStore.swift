import Foundation

/// Why the store could not do what was asked.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Accepting would pass `MAILGATE_QUEUE_LIMIT` pending recipients.
    case queueFull(limit: Int)
    /// The database cannot be reached or written (disk full, server down): a 503.
    case unavailable(String)
    /// Another process holds the queue (a second gateway on one SQLite directory).
    case locked(String)
    /// The store was closed.
    case closed
    /// The database said no in a way that is a bug or corruption, with its code.
    case database(code: Int32, message: String)
    /// A `cursor` for `listMessages` that no page handed out: the caller's mistake (a 400).
    case invalidCursor(String)

    public var description: String {
        switch self {
        case .queueFull(let limit): "the queue holds its limit of \(limit) pending recipients"
        case .unavailable(let reason): "the store is unavailable: \(reason)"
        case .locked(let reason): reason
        case .closed: "the store is closed"
        case .database(let code, let message): "database error \(code): \(message)"
        case .invalidCursor(let cursor): "invalid cursor \(cursor.debugDescription)"
        }
    }
}

/// The durable queue: the only state the gateway's parts share (STYLE: Postfix's
/// queue directories). The API writes messages in, delivery claims recipients and
/// records their outcomes with their events, webhooks drain the events.
///
/// Every write returns only once it is durable (committed and synced); concurrent
/// writes share transactions and syncs (group commit). Claims are leases: the
/// owner renews them while it works, and a claim whose lease ran out (its process
/// died) is claimable again.
public protocol QueueStore: Sendable {
    // MARK: The API

    /// Stores messages with all their recipients in one durable transaction. With an
    /// idempotency record, stores that too, unless the key is already there: then it
    /// stores nothing and returns the record that is. Throws `.queueFull` when the
    /// pending recipients would pass the limit.
    func accept(_ messages: [NewMessage], idempotency: IdempotencyRecord?) async throws(StoreError) -> AcceptResult

    /// The stored first answer for an idempotency key, if younger than 24 h.
    func idempotencyRecord(key: String, now: Date) async throws(StoreError) -> IdempotencyRecord?

    /// A message with its recipients and events; `now` turns `scheduled` whose time has come into `queued`.
    func message(id: String, now: Date) async throws(StoreError) -> MessageRecord?

    /// Newest first. `cursor` is a `nextCursor` from an earlier page; any other
    /// string throws `.invalidCursor`. `limit` is clamped to 1…500.
    func listMessages(status: MessageStatus?, limit: Int, cursor: String?, now: Date) async throws(StoreError) -> MessagePage

    /// Cancels every recipient not yet final (ending any lease on them).
    func cancel(messageID: String, now: Date) async throws(StoreError) -> CancelResult

    /// Makes the deferred (and due-later queued) recipients of a message due now;
    /// returns how many. With `messageID` nil, every message's.
    func retryNow(messageID: String?, now: Date) async throws(StoreError) -> Int

    /// True when the database answers (for `/readyz`).
    func isAvailable() async -> Bool

    /// Counts for `/metrics`.
    func statistics(now: Date) async throws(StoreError) -> QueueStatistics

    // MARK: Delivery

    /// Leases up to `limit` pending recipients whose next attempt is due, oldest
    /// due first, to `owner` until `now + lease`.
    func claimDueRecipients(owner: String, now: Date, limit: Int, lease: Duration) async throws(StoreError) -> [ClaimedRecipient]

    /// Extends the leases `owner` still holds on these recipients.
    func renewRecipientLeases(owner: String, recipientIDs: [Int64], until: Date) async throws(StoreError)

    /// Gives claimed recipients back without an attempt (shutting down, or no capacity).
    func releaseRecipients(owner: String, recipientIDs: [Int64]) async throws(StoreError)

    /// The envelope and content of a message.
    func messageContent(id: String) async throws(StoreError) -> MessageContent?

    /// Records outcomes for recipients that `owner` still leases, each with its
    /// event (delivered, bounced, failed, and deferred for a first deferral) in the
    /// same transaction. Outcomes for recipients no longer leased by `owner`
    /// (canceled, or taken over after the lease ran out) are ignored.
    func recordOutcomes(_ outcomes: [RecipientOutcome], owner: String) async throws(StoreError)

    /// When the earliest pending recipient is due (nil when none is pending).
    func nextRecipientDue() async throws(StoreError) -> Date?

    // MARK: Webhooks

    /// Leases up to `limit` events whose next POST is due.
    func claimDueWebhooks(owner: String, now: Date, limit: Int, lease: Duration) async throws(StoreError) -> [PendingWebhook]

    /// Records POST results for events `owner` still leases.
    func recordWebhookResults(_ results: [WebhookPostResult], owner: String) async throws(StoreError)

    /// Gives claimed events back unposted (the service is stopping, or cannot post
    /// them now): they are due again at once, for this or another gateway.
    func releaseWebhooks(owner: String, eventIDs: [String]) async throws(StoreError)

    /// When the earliest pending event is due (nil when none is pending).
    func nextWebhookDue() async throws(StoreError) -> Date?

    // MARK: Lifecycle

    /// Finishes pending writes and closes the database.
    func close() async
}
