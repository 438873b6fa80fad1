import Foundation
import Synchronization

/// Pending recipients (queued, scheduled, deferred) across every replica, as the
/// queue limit needs them, without a `count(*)` per accept: the exact count taken
/// at open, moved by this instance's own commits, and replaced by a fresh count at
/// most `refreshInterval` old (other replicas' accepts and deliveries), and by an
/// exact count inside the transaction before an accept is refused.
final class PendingRecipientCount: Sendable {
    static let refreshInterval = Duration.seconds(1)

    private struct State {
        var value: Int
        /// Every recipient ever added here: a count taken while others commit
        /// is corrected by what was added since it started (`mark`).
        var added = 0
        var refreshedAt: ContinuousClock.Instant
        var refreshing = false
    }

    private let state: Mutex<State>

    init(_ value: Int) {
        state = Mutex(State(value: value, refreshedAt: .now))
    }

    var value: Int { state.withLock { $0.value } }

    func add(_ delta: Int) {
        state.withLock {
            $0.value += delta
            if delta > 0 { $0.added += delta }
        }
    }

    /// Taken just before counting, for `set(_:countedSince:)`.
    var mark: Int { state.withLock { $0.added } }

    /// Replaces the value with a count that started at `mark`. Recipients added
    /// since may or may not be in the count, so they are added again: the figure
    /// errs high (a send refused a moment early), never low (the limit passed).
    func set(_ counted: Int, countedSince mark: Int) {
        state.withLock {
            $0.value = counted + ($0.added - mark)
            $0.refreshedAt = .now
            $0.refreshing = false
        }
    }

    /// The mark to count from (once, until `set` or `refreshFailed`) when a
    /// refresh is due: the caller counts; nil when none is due.
    func claimRefresh() -> Int? {
        state.withLock {
            guard !$0.refreshing, ContinuousClock.now - $0.refreshedAt >= Self.refreshInterval else { return nil }
            $0.refreshing = true
            return $0.added
        }
    }

    func refreshFailed() {
        state.withLock {
            $0.refreshing = false
            $0.refreshedAt = .now
        }
    }
}

/// What a write operation works on: a writer thread's connection inside the
/// batch's transaction, and the pending-recipient count as the transaction sees it.
/// Created for one attempt at a batch and used only on its thread.
final class PostgresWriteTransaction: @unchecked Sendable {
    let connection: PostgresConnection
    let queueLimit: Int
    private let pending: PendingRecipientCount
    /// This transaction's own change to the pending count, applied when it commits.
    private(set) var pendingDelta = 0

    init(connection: PostgresConnection, queueLimit: Int, pending: PendingRecipientCount) {
        self.connection = connection
        self.queueLimit = queueLimit
        self.pending = pending
    }

    /// Pending recipients, counting this transaction's changes.
    var pendingRecipients: Int { pending.value + pendingDelta }

    func changePending(by delta: Int) { pendingDelta += delta }

    /// Counts the pending recipients exactly (this transaction's included) and
    /// corrects the shared figure with it.
    func recountPending() throws(PostgresError) {
        let mark = pending.mark
        let exact = try PostgresMessageSQL.countPending(connection)
        pending.set(exact - pendingDelta, countedSince: mark)
    }
}

/// One write waiting for a writer thread. `run` executes it inside a batch's
/// transaction and returns its failure, if any, with the completion that resumes
/// the caller once the batch's fate is known. A batch may run a write more than
/// once (after a deadlock, or another write's error, rolled the transaction back);
/// only the completion from the attempt that ends it is called.
struct PostgresWrite: Sendable {
    var durable: Bool
    var run: @Sendable (PostgresWriteTransaction) -> (failure: PostgresError?, complete: @Sendable (StoreError?) -> Void)
    var reject: @Sendable (StoreError) -> Void
}

/// Group commit on PostgreSQL: writes from any task queue up; each writer thread
/// takes everything queued, runs it in one transaction on its own connection and
/// commits once, then resumes every caller. Writes that arrive while a COMMIT
/// waits for its WAL flush share the next transaction (on another writer thread,
/// so that flushes overlap), and the server's own WAL group flush merges commits
/// further.
///
/// Durability: sessions run with `synchronous_commit` on (see `PostgresConnector`),
/// so COMMIT returns only once the transaction's WAL is flushed to disk (and to a
/// synchronous standby where one is configured); callers are resumed after that.
/// A batch of only webhook bookkeeping commits with `synchronous_commit = off`:
/// losing one in a server crash only posts an event again, which receivers
/// de-duplicate. Claims stay synchronous: the replica holding one keeps sending
/// through a server crash, and a lost claim would let another replica send too.
///
/// Failures: in PostgreSQL an error aborts the whole transaction. A write whose
/// statement fails (a duplicate id, a statement timeout) is answered with its
/// error and the batch runs again without it; a deadlock or serialization failure
/// runs the batch again as it was (a few times); a lost connection fails the
/// batch as unavailable, except that a pooled connection found dead before
/// anything was sent is replaced once.
final class PostgresGroupCommitWriter: Sendable {
    static let transientRetries = 3

    private let queue = JobQueue<PostgresWrite>()
    private let threads: [DedicatedThread]
    private let state = PostgresWriterState()

    init(connector: PostgresConnector, count: Int, queueLimit: Int, pending: PendingRecipientCount) {
        let queue = self.queue
        let state = self.state
        threads = (0..<max(1, count)).map { index in
            DedicatedThread(name: "mailgate-pg-writer-\(index)") {
                let session = PostgresSession(connector: connector)
                let runner = PostgresBatchRunner(session: session, queueLimit: queueLimit, pending: pending, state: state)
                while let batch = queue.takeAll() { runner.run(batch) }
                session.close()
            }
        }
    }

    /// Queues `body` for the next batch and returns its result once the batch has
    /// committed (and, when `durable`, flushed). Never blocks the calling thread.
    func perform<T: Sendable>(
        durable: Bool, _ body: @escaping @Sendable (PostgresWriteTransaction) throws(PostgresError) -> T
    ) async throws(StoreError) -> T {
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            let write = PostgresWrite(
                durable: durable,
                run: { transaction in
                    do throws(PostgresError) {
                        let value = try body(transaction)
                        return (nil, { commitFailure in continuation.resume(returning: commitFailure.map { .failure($0) } ?? .success(value)) })
                    } catch {
                        return (error, { _ in continuation.resume(returning: .failure(error.storeError)) })
                    }
                },
                reject: { continuation.resume(returning: .failure($0)) }
            )
            if !queue.enqueue(write) { continuation.resume(returning: .failure(.closed)) }
        }
        return try result.get()
    }

    var statistics: WriteStatistics { state.statistics }

    /// True when the last batch failed for want of the server: the store cannot
    /// take writes until a batch goes through.
    var isFailing: Bool { state.isFailing }

    /// Writes waiting for a writer thread.
    var queuedWrites: Int { queue.count }

    /// Runs what is queued, then stops the threads, which close their connections.
    func close() async {
        queue.close()
        for thread in threads { await thread.finished() }
    }
}

/// The counters the writer threads update and other threads read.
final class PostgresWriterState: Sendable {
    private struct Counts {
        var statistics = WriteStatistics()
        var failing = false
    }

    private let counts = Mutex(Counts())

    var statistics: WriteStatistics { counts.withLock { $0.statistics } }
    var isFailing: Bool { counts.withLock { $0.failing } }

    func committed(operations: Int, durable: Bool, healthy: Bool) {
        counts.withLock {
            $0.statistics.commits += 1
            $0.statistics.durableCommits += durable ? 1 : 0
            $0.statistics.operations += operations
            $0.failing = !healthy
        }
    }

    func failed() { counts.withLock { $0.failing = true } }
}

/// A writer thread's side: runs one batch at a time on its session's connection.
private final class PostgresBatchRunner {
    private enum Attempt {
        case committed([@Sendable (StoreError?) -> Void], delta: Int)
        /// Write `index` failed on its own; the transaction was rolled back.
        case writeFailed(index: Int, error: PostgresError, complete: @Sendable (StoreError?) -> Void)
        /// The transaction failed as a whole; `sentCommit` when the failure came at
        /// or after COMMIT (its fate is then unknown).
        case transactionFailed(PostgresError, sentCommit: Bool)
    }

    private let session: PostgresSession
    private let queueLimit: Int
    private let pending: PendingRecipientCount
    private let state: PostgresWriterState

    init(session: PostgresSession, queueLimit: Int, pending: PendingRecipientCount, state: PostgresWriterState) {
        self.session = session
        self.queueLimit = queueLimit
        self.pending = pending
        self.state = state
    }

    func run(_ batch: [PostgresWrite]) {
        var writes = batch
        var transientRetries = 0
        var replacedConnection = false
        var sawEnvironmentalFailure = false
        while !writes.isEmpty {
            let connection: PostgresConnection
            let reused: Bool
            do throws(PostgresError) { (connection, reused) = try session.connection() } catch {
                return reject(writes, error.storeError)
            }
            let durable = writes.contains(where: \.durable)
            switch attempt(writes, durable: durable, on: connection) {
            case .committed(let completions, let delta):
                pending.add(delta)
                state.committed(operations: completions.count, durable: durable, healthy: !sawEnvironmentalFailure)
                for complete in completions { complete(nil) }
                return
            case .writeFailed(let index, let error, let complete):
                sawEnvironmentalFailure = sawEnvironmentalFailure || error.isEnvironmental
                complete(nil)
                writes.remove(at: index)
            case .transactionFailed(let error, let sentCommit):
                if error.isTransient && transientRetries < PostgresGroupCommitWriter.transientRetries {
                    transientRetries += 1
                } else if error.kind == .connection && reused && !replacedConnection && !sentCommit {
                    replacedConnection = true
                } else {
                    return reject(writes, sentCommit ? Self.unknownCommit(error) : error.storeError)
                }
            }
        }
        if sawEnvironmentalFailure { state.failed() }
    }

    private func attempt(_ writes: [PostgresWrite], durable: Bool, on connection: PostgresConnection) -> Attempt {
        let transaction = PostgresWriteTransaction(connection: connection, queueLimit: queueLimit, pending: pending)
        var completions: [@Sendable (StoreError?) -> Void] = []
        do throws(PostgresError) {
            try connection.execute(durable ? "BEGIN" : "BEGIN; SET LOCAL synchronous_commit = off")
        } catch {
            return .transactionFailed(error, sentCommit: false)
        }
        for (index, write) in writes.enumerated() {
            let (failure, complete) = write.run(transaction)
            guard let failure else {
                completions.append(complete)
                continue
            }
            if connection.isInTransaction { try? connection.execute("ROLLBACK") }
            if failure.kind == .server && !failure.isTransient && !connection.isBroken {
                return .writeFailed(index: index, error: failure, complete: complete)
            }
            return .transactionFailed(failure, sentCommit: false)
        }
        do throws(PostgresError) {
            try connection.execute("COMMIT")
        } catch {
            if connection.isInTransaction { try? connection.execute("ROLLBACK") }
            return .transactionFailed(error, sentCommit: true)
        }
        return .committed(completions, delta: transaction.pendingDelta)
    }

    /// The connection broke while COMMIT was under way: the writes may or may not be stored.
    private static func unknownCommit(_ error: PostgresError) -> StoreError {
        .unavailable("\(error.description) (during COMMIT: the writes may or may not have been stored)")
    }

    private func reject(_ writes: [PostgresWrite], _ error: StoreError) {
        state.failed()
        for write in writes { write.reject(error) }
    }
}
