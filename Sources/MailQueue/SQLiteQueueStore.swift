import Foundation

/// The embedded queue: one SQLite database in `MAILGATE_DATA_DIR`, in WAL mode.
///
/// Writes go to one writer thread that commits them in groups (see
/// `GroupCommitWriter` for why an answered write is on disk); reads run on a
/// small pool of reader threads, each with its own connection, which WAL lets run
/// beside the writer. Every SQLite call happens on these threads, never on
/// Swift's cooperative pool: the async methods hand work over and are resumed
/// when it is done.
///
/// Only one gateway may own a data directory (`Mode.gateway` takes an exclusive
/// lock); `mailgate queue …` commands open it in `Mode.administration` beside a
/// running gateway and rely on SQLite's own locking. A gateway copes with rows an
/// administrator changed under it because every change it makes to a recipient
/// or event is conditional on its lease.
///
/// Call `close()` before dropping the store: its threads keep it alive until then.
public final class SQLiteQueueStore: QueueStore {
    /// How the store is opened.
    public enum Mode: Sendable {
        /// The gateway: takes the directory's lock for the store's life and, since
        /// no other gateway can hold leases on this queue, clears the leases a
        /// previous process left so its recipients are claimable at once.
        case gateway
        /// A `mailgate queue …` command: no lock, and the leases a running gateway
        /// holds are left alone.
        case administration
    }

    public static let databaseFileName = "queue.sqlite3"
    public static let lockFileName = "queue.lock"
    /// `MAILGATE_QUEUE_LIMIT`'s default.
    public static let defaultQueueLimit = 1_000_000
    /// How long SQLite waits for another process's lock before a write fails as unavailable.
    static let busyTimeoutMilliseconds = 5_000

    let writer: GroupCommitWriter
    let readers: ReaderPool
    private let lock: DirectoryLock?

    /// Opens (creating if missing) the queue in `directory`, applying migrations.
    /// Throws `.locked` in gateway mode when another process holds the directory.
    public init(
        directory: String, mode: Mode = .gateway, queueLimit: Int = defaultQueueLimit, readerCount: Int = 2
    ) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .unavailable("cannot create the data directory \(directory): \(error.localizedDescription)")
        }
        let base = URL(fileURLWithPath: directory)
        lock = switch mode {
        case .gateway: try DirectoryLock(path: base.appendingPathComponent(Self.lockFileName).path, directory: directory)
        case .administration: nil
        }
        let path = base.appendingPathComponent(Self.databaseFileName).path
        let writeConnection = try Self.openWriteConnection(path: path)
        try QueueSchema.migrate(writeConnection)
        // A new data directory and database file must outlive a power cut too:
        // SQLite syncs the directory only for the WAL it creates.
        DirectoryLock.sync(directory: directory)
        DirectoryLock.sync(directory: base.deletingLastPathComponent().path)
        let pending = try Self.prepareForWork(writeConnection, clearingLeases: mode == .gateway, now: Date())
        var readConnections: [SQLiteConnection] = []
        for _ in 0..<max(1, readerCount) {
            readConnections.append(try Self.openReadConnection(path: path))
        }
        let checkpointConnection = try Self.openCheckpointConnection(path: path)
        writer = GroupCommitWriter(
            connection: writeConnection, checkpointConnection: checkpointConnection, queueLimit: queueLimit, pendingRecipients: pending
        )
        readers = ReaderPool(connections: readConnections)
    }

    /// Commits and syncs counted since open: the benchmark's fsyncs per message.
    public var writeStatistics: WriteStatistics { writer.statistics }

    public func isAvailable() async -> Bool {
        guard !writer.isFailing else { return false }
        let answered = try? await readers.perform { connection throws(SQLiteError) in
            try connection.queryFirst("SELECT count(*) FROM messages WHERE id = ''") { $0.int(0) }
        }
        return answered != nil
    }

    /// Finishes the queued writes and reads, closes the connections and releases
    /// the directory. Calls after this throw `.closed`.
    public func close() async {
        await writer.close()
        await readers.close()
        lock?.release()
    }

    private static func openWriteConnection(path: String) throws(StoreError) -> SQLiteConnection {
        do throws(SQLiteError) {
            let connection = try SQLiteConnection(path: path)
            try connection.execute("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)")
            let journal = try connection.queryFirst("PRAGMA journal_mode = WAL") { $0.text(0) }
            guard journal == "wal" else {
                throw SQLiteError(code: 1, message: "cannot switch \(path) to WAL (journal mode \(journal ?? "unknown"))")
            }
            // Each write runs in a savepoint, whose statement journal then stays
            // in memory instead of a temporary file (a quarter of the writer's CPU).
            try connection.execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY")
            return connection
        } catch {
            throw error.storeError
        }
    }

    private static func openCheckpointConnection(path: String) throws(StoreError) -> SQLiteConnection {
        do throws(SQLiteError) {
            let connection = try SQLiteConnection(path: path)
            try connection.execute("PRAGMA busy_timeout = \(busyTimeoutMilliseconds); PRAGMA synchronous = FULL")
            return connection
        } catch {
            throw error.storeError
        }
    }

    private static func openReadConnection(path: String) throws(StoreError) -> SQLiteConnection {
        do throws(SQLiteError) {
            let connection = try SQLiteConnection(path: path)
            try connection.execute("PRAGMA busy_timeout = \(busyTimeoutMilliseconds); PRAGMA query_only = ON")
            return connection
        } catch {
            throw error.storeError
        }
    }

    /// Clears a dead gateway's leases (gateway mode) and counts the pending
    /// recipients the writer starts its queue-limit count from.
    private static func prepareForWork(_ connection: SQLiteConnection, clearingLeases: Bool, now: Date) throws(StoreError) -> Int {
        do throws(SQLiteError) {
            try connection.execute("BEGIN IMMEDIATE")
            if clearingLeases { try DeliverySQL.clearLeases(connection, now: now) }
            let pending = try MessageSQL.countPending(connection)
            try connection.execute("COMMIT")
            return pending
        } catch {
            if connection.isInTransaction { try? connection.execute("ROLLBACK") }
            throw error.storeError
        }
    }
}
