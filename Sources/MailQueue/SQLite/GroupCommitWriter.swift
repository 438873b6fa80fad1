import Foundation

/// Counts of the writer's work, for benchmarks and tests: with group commit,
/// `commits` stays well below `operations` under concurrent load.
public struct WriteStatistics: Sendable, Equatable {
    /// Transactions committed.
    public var commits: Int
    /// Commits made with `synchronous=FULL`, each one fsync of the WAL.
    public var durableCommits: Int
    /// Write operations in committed transactions.
    public var operations: Int

    public init(commits: Int = 0, durableCommits: Int = 0, operations: Int = 0) {
        self.commits = commits
        self.durableCommits = durableCommits
        self.operations = operations
    }
}

/// What a write operation works on: the writer's connection inside the batch's
/// transaction, and the pending-recipient count as the transaction leaves it.
/// Created for the writer thread and used only there, hence `@unchecked Sendable`.
final class WriteTransaction: @unchecked Sendable {
    let connection: SQLiteConnection
    let queueLimit: Int
    /// Recipients queued, scheduled or deferred, counting this transaction's changes.
    var pendingRecipients: Int
    /// Set when an operation failed for want of disk or I/O, even if the batch commits.
    var sawEnvironmentalFailure = false

    init(connection: SQLiteConnection, queueLimit: Int, pendingRecipients: Int) {
        self.connection = connection
        self.queueLimit = queueLimit
        self.pendingRecipients = pendingRecipients
    }

    /// Runs one operation inside a savepoint, so that its failure undoes only its
    /// own changes and the batch's other operations still commit.
    func attempt<T>(_ body: (WriteTransaction) throws(SQLiteError) -> T) -> Result<T, SQLiteError> {
        let pendingBefore = pendingRecipients
        do throws(SQLiteError) {
            try connection.run("SAVEPOINT operation")
            let value = try body(self)
            try connection.run("RELEASE operation")
            return .success(value)
        } catch {
            pendingRecipients = pendingBefore
            sawEnvironmentalFailure = sawEnvironmentalFailure || error.isEnvironmental
            if connection.isInTransaction {
                _ = try? connection.run("ROLLBACK TO operation")
                _ = try? connection.run("RELEASE operation")
            }
            return .failure(error)
        }
    }
}

/// One write waiting for the writer. `run` executes it inside the batch's
/// transaction and returns what to do once the batch's fate is known: resume the
/// caller with its result, or with the commit's failure. `reject` resumes the
/// caller with an error without running it (no transaction could be opened).
struct PendingWrite: Sendable {
    var durable: Bool
    var run: @Sendable (WriteTransaction) -> @Sendable (_ commitFailure: StoreError?) -> Void
    var reject: @Sendable (StoreError) -> Void
}

/// Group commit: one thread owns the write connection; writes from any task queue
/// up for it; it takes everything queued, runs it in one transaction, commits
/// once (one fsync) and then resumes every caller. Under load, the writes that
/// arrive while one commit syncs share the next commit, so throughput is not one
/// fsync per message.
///
/// Durability (why a 202 is only sent for what is on disk): the connection runs
/// in WAL mode, and a batch holding any durable write commits with
/// `synchronous=FULL`, under which SQLite fsyncs the WAL file as part of COMMIT,
/// after writing the batch's pages and its commit frame. A caller is resumed only
/// after COMMIT returned, so what it was told is stored has reached the disk and
/// survives `kill -9` or a power cut: opening the database replays the WAL up to
/// its last checksummed commit frame. A checkpoint (`Checkpointer`) moves pages
/// from the WAL into the database file and syncs that file before the WAL is
/// reused, so it never takes a committed page off the disk.
///
/// Batches of only lease bookkeeping (claims, renewals, releases, webhook
/// results) commit with `synchronous=NORMAL`, no fsync: losing one in a crash
/// only makes work claimable again, and the next FULL commit syncs it too, as the
/// WAL is written in order. (Measured on this machine: claims and releases run
/// 2.5–5× faster so.)
final class GroupCommitWriter: Sendable {
    private let queue = JobQueue<PendingWrite>()
    private let state: WriterState
    private let thread: DedicatedThread
    private let checkpointer: Checkpointer

    /// Starts the writer thread on `connection`, with a checkpointer on `checkpointConnection`.
    init(connection: SQLiteConnection, checkpointConnection: SQLiteConnection, queueLimit: Int, pendingRecipients: Int) {
        let state = WriterState()
        let queue = self.queue
        let checkpointer = Checkpointer(connection: checkpointConnection)
        let transaction = WriteTransaction(connection: connection, queueLimit: queueLimit, pendingRecipients: pendingRecipients)
        self.state = state
        self.checkpointer = checkpointer
        self.thread = DedicatedThread(name: "mailgate-sqlite-writer") {
            let loop = WriterLoop(transaction: transaction, state: state, checkpointer: checkpointer)
            while let batch = queue.takeAll() { loop.run(batch) }
            connection.close()
        }
    }

    /// Queues `body` for the next batch and returns its result once the batch has
    /// committed (and, when `durable`, synced). Never blocks the calling thread.
    func perform<T: Sendable>(
        durable: Bool, _ body: @escaping @Sendable (WriteTransaction) throws(SQLiteError) -> T
    ) async throws(StoreError) -> T {
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            let write = PendingWrite(
                durable: durable,
                run: { transaction in
                    let outcome = transaction.attempt(body).mapError(\.storeError)
                    return { commitFailure in
                        if case .success = outcome, let commitFailure {
                            continuation.resume(returning: .failure(commitFailure))
                        } else {
                            continuation.resume(returning: outcome)
                        }
                    }
                },
                reject: { continuation.resume(returning: .failure($0)) }
            )
            if !queue.enqueue(write) { continuation.resume(returning: .failure(.closed)) }
        }
        return try result.get()
    }

    var statistics: WriteStatistics { state.statistics }

    /// True when the last batch could not commit, or one of its writes failed for
    /// want of disk or I/O: the store cannot take writes until a batch goes through cleanly.
    var isFailing: Bool { state.isFailing }

    /// Writes waiting for the next batch.
    var queuedWrites: Int { queue.count }

    /// Runs what is queued, then stops the thread, which closes the connection.
    func close() async {
        queue.close()
        await thread.finished()
        await checkpointer.close()
    }
}

/// The counters the writer thread updates and other threads read.
private final class WriterState: @unchecked Sendable {
    private let lock = NSLock()
    private var counts = WriteStatistics()
    private var failing = false

    var statistics: WriteStatistics { lock.withLock { counts } }
    var isFailing: Bool { lock.withLock { failing } }

    func committed(operations: Int, durable: Bool, healthy: Bool) {
        lock.withLock {
            counts.commits += 1
            counts.durableCommits += durable ? 1 : 0
            counts.operations += operations
            failing = !healthy
        }
    }

    func failed() { lock.withLock { failing = true } }
}

/// The writer thread's side: runs one batch at a time on the write connection.
private final class WriterLoop {
    private let transaction: WriteTransaction
    private let state: WriterState
    private let checkpointer: Checkpointer
    private let wal = WALObserver()
    private var connection: SQLiteConnection { transaction.connection }
    private var committedPending: Int
    private var synchronousFull = true

    init(transaction: WriteTransaction, state: WriterState, checkpointer: Checkpointer) {
        self.transaction = transaction
        self.state = state
        self.checkpointer = checkpointer
        self.committedPending = transaction.pendingRecipients
        transaction.connection.observeWAL(wal)
    }

    func run(_ batch: [PendingWrite]) {
        let durable = batch.contains(where: \.durable)
        var completions: [@Sendable (StoreError?) -> Void] = []
        var remaining = batch[...]
        transaction.sawEnvironmentalFailure = false
        if let failure = begin(durable: durable) {
            return reject(batch, failure)
        }
        while let write = remaining.popFirst() {
            completions.append(write.run(transaction))
            guard !connection.isInTransaction else { continue }
            // SQLite rolled the whole transaction back (SQLITE_FULL, SQLITE_IOERR):
            // what ran before is lost with it; the rest get a transaction of their own.
            fail(completions, .unavailable("the transaction was rolled back after a write error"))
            completions = []
            transaction.sawEnvironmentalFailure = true
            if let failure = begin(durable: durable) {
                return reject(remaining, failure)
            }
        }
        commit(completions, durable: durable)
    }

    /// Sets the sync level this batch needs and opens its transaction.
    private func begin(durable: Bool) -> StoreError? {
        transaction.pendingRecipients = committedPending
        do throws(SQLiteError) {
            if durable != synchronousFull {
                try connection.execute(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
                synchronousFull = durable
            }
            try connection.execute("BEGIN IMMEDIATE")
            return nil
        } catch {
            return error.storeError
        }
    }

    private func commit(_ completions: [@Sendable (StoreError?) -> Void], durable: Bool) {
        do throws(SQLiteError) {
            try connection.execute("COMMIT")
        } catch {
            if connection.isInTransaction { try? connection.execute("ROLLBACK") }
            return fail(completions, error.storeError)
        }
        committedPending = transaction.pendingRecipients
        if !completions.isEmpty {
            state.committed(operations: completions.count, durable: durable, healthy: !transaction.sawEnvironmentalFailure)
        }
        for completion in completions { completion(nil) }
        checkpointIfLong()
    }

    /// Hands the WAL to the checkpointer once it is long; copies it here only if
    /// the checkpointer fell far behind, after the batch's callers were resumed.
    private func checkpointIfLong() {
        if wal.frames >= Checkpointer.writerFrames {
            try? connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        } else if wal.frames >= Checkpointer.requestFrames {
            checkpointer.request()
        }
    }

    private func reject(_ writes: some Sequence<PendingWrite>, _ error: StoreError) {
        state.failed()
        for write in writes { write.reject(error) }
    }

    private func fail(_ completions: [@Sendable (StoreError?) -> Void], _ error: StoreError) {
        state.failed()
        for completion in completions { completion(error) }
    }
}
