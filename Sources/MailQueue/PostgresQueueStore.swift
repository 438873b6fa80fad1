import Foundation
import Synchronization

/// The shared queue: PostgreSQL, through libpq, for several gateways at once
/// (`MAILGATE_DATABASE_URL`).
///
/// Each instance keeps a small pool of connections, each owned by one thread of
/// its own (libpq calls block; they never run on Swift's cooperative pool):
/// writer threads commit writes in groups (`PostgresGroupCommitWriter`), reader
/// threads serve reads. Claims lease rows with `FOR UPDATE SKIP LOCKED`, so
/// gateways never hold the same recipient or event at once, and leases of a
/// gateway that died run out and are claimed by the others. Unlike the SQLite
/// store, opening never clears leases (other gateways' are live); `close()`
/// gives back this instance's own.
///
/// When the server goes away every call fails with `.unavailable` within the
/// connect or statement timeout, and the pool reconnects once it is back.
///
/// Call `close()` before dropping the store: its threads keep it alive until then.
public final class PostgresQueueStore: QueueStore {
    public struct Configuration: Sendable {
        /// A `postgres://` URL (or libpq `key=value` string), handed to libpq as written.
        public var url: String
        public var queueLimit: Int
        public var writerConnections: Int
        public var readerConnections: Int
        public var connectTimeout: Duration
        /// The server's `statement_timeout`; the client gives up 2 s later.
        public var statementTimeout: Duration
        public var applicationName: String

        public init(
            url: String, queueLimit: Int = SQLiteQueueStore.defaultQueueLimit, writerConnections: Int = 2, readerConnections: Int = 2,
            connectTimeout: Duration = .seconds(5), statementTimeout: Duration = .seconds(10), applicationName: String = "mailgate"
        ) {
            self.url = url
            self.queueLimit = queueLimit
            self.writerConnections = writerConnections
            self.readerConnections = readerConnections
            self.connectTimeout = connectTimeout
            self.statementTimeout = statementTimeout
            self.applicationName = applicationName
        }
    }

    /// How often expired idempotency keys are swept.
    static let keyPurgeInterval = Duration.seconds(60)

    let writer: PostgresGroupCommitWriter
    let readers: PostgresReaderPool
    let pending: PendingRecipientCount
    let contents = PostgresContentCache()
    /// Lease owners this instance claimed for: `close()` releases their leases.
    let claimOwners = Mutex<Set<String>>([])
    let lastKeyPurge = Mutex<ContinuousClock.Instant?>(nil)

    /// Connects, applies migrations (under an advisory lock) and counts the pending
    /// recipients. Throws `.unavailable` when the server cannot be reached.
    public init(configuration: Configuration) throws(StoreError) {
        let connector = PostgresConnector(
            url: configuration.url, applicationName: configuration.applicationName,
            connectTimeout: configuration.connectTimeout, statementTimeout: configuration.statementTimeout)
        let connection: PostgresConnection
        do throws(PostgresError) { connection = try connector.connect() } catch { throw error.storeError }
        defer { connection.close() }
        try PostgresSchema.migrate(connection)
        let count: Int
        do throws(PostgresError) { count = try PostgresMessageSQL.countPending(connection) } catch { throw error.storeError }
        pending = PendingRecipientCount(count)
        writer = PostgresGroupCommitWriter(
            connector: connector, count: configuration.writerConnections, queueLimit: configuration.queueLimit, pending: pending)
        readers = PostgresReaderPool(connector: connector, count: configuration.readerConnections)
    }

    /// Commits counted since open: operations per commit shows group commit at work.
    public var writeStatistics: WriteStatistics { writer.statistics }

    /// True when the server answers a writer and is not a read-only standby.
    public func isAvailable() async -> Bool {
        guard !writer.isFailing else {
            return (try? await writer.perform(durable: false) { transaction throws(PostgresError) in
                try Self.isWritable(transaction.connection)
            }) ?? false
        }
        return (try? await readers.perform { connection throws(PostgresError) in try Self.isWritable(connection) }) ?? false
    }

    private static func isWritable(_ connection: PostgresConnection) throws(PostgresError) -> Bool {
        try connection.queryFirst("SELECT NOT pg_is_in_recovery()") { $0.bool(0) } ?? false
    }

    /// Gives back this instance's leases (so other gateways claim that work at
    /// once), finishes the queued writes and reads, and closes the connections.
    /// Calls after this throw `.closed`.
    public func close() async {
        let owners = claimOwners.withLock { $0 }
        if !owners.isEmpty {
            try? await writer.perform(durable: true) { transaction throws(PostgresError) in
                try PostgresDeliverySQL.releaseAll(owners: owners.sorted(), transaction.connection)
            }
        }
        await writer.close()
        await readers.close()
    }

    /// Notes `owner` as one of this instance's, for `close()`.
    func remember(owner: String) {
        claimOwners.withLock { _ = $0.insert(owner) }
    }

    /// Starts a background recount of the pending recipients when the last is over a second old.
    func refreshPendingCountIfDue() {
        guard let mark = pending.claimRefresh() else { return }
        let readers = self.readers
        let pending = self.pending
        Task {
            do {
                let count = try await readers.perform { connection throws(PostgresError) in try PostgresMessageSQL.countPending(connection) }
                pending.set(count, countedSince: mark)
            } catch {
                pending.refreshFailed()
            }
        }
    }

    /// True once a minute: this accept also sweeps expired idempotency keys.
    func claimKeyPurge() -> Bool {
        lastKeyPurge.withLock { last in
            let now = ContinuousClock.now
            guard last.map({ now - $0 >= Self.keyPurgeInterval }) ?? true else { return false }
            last = now
            return true
        }
    }
}
