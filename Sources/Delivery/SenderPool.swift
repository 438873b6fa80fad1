import Foundation
import MailQueue
import Metrics

/// Opens sessions to destinations: the only part of delivery that touches the
/// network (DNS and SMTP), behind a protocol so the pool is tested without it.
public protocol DestinationConnector: Sendable {
    /// Connects to `destination` for `job` (the first job that needs it). Runs on a
    /// sender thread and may block. Calls `beforeConnecting` once, right before its
    /// first connection attempt: DNS lookups before it hold no SMTP connection.
    func openSession(to destination: Destination, for job: DeliveryJob, beforeConnecting: () -> Void) -> SessionOpening
}

/// What opening a session gave.
public enum SessionOpening {
    case opened(any DeliverySession)
    /// The destination cannot be reached now (or ever, for a permanent verdict):
    /// every job waiting for it ends this way.
    case failed(RecipientAttempt.Verdict, SMTPResponseRecord, attempted: Bool)
}

/// An open SMTP session that carries transactions to one destination.
public protocol DeliverySession: AnyObject {
    /// Sends one job and returns an attempt for each of its recipients, or nil when
    /// a reused connection turned out stale before anything was decided: the job
    /// then goes again on a new connection.
    func deliver(_ job: DeliveryJob) -> [RecipientAttempt]?
    /// False once the session cannot carry another transaction.
    var isUsable: Bool { get }
    func close()
}

/// Threads that each hold at most one SMTP connection, at most `connections`
/// (`MAILGATE_SMTP_CONNECTIONS`) at once, taking jobs from per-destination queues
/// with at most `MAILGATE_DESTINATION_CONNECTIONS` connections to one destination.
/// There are `lookupThreads` more threads than connections: a thread waiting on
/// DNS holds no connection, so domains whose lookups time out cannot take every
/// connection from the others. A connection carries its destination's next jobs
/// (RSET between, in the session) and stays open a moment for more while nobody
/// else waits. SMTP I/O blocks, so it runs here, never on Swift's cooperative pool.
final class SenderPool: @unchecked Sendable {
    typealias AttemptsHandler = @Sendable (DeliveryJob, [RecipientAttempt]) -> Void

    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var queues: DestinationQueues
    private var stopping = false
    private var runningThreads = 0
    private var openSMTPConnections = 0
    /// Threads that have their destination looked up and wait for room to connect.
    private var waitingToConnect = 0

    private let connectionLimit: Int
    private let threadCount: Int
    private let connector: any DestinationConnector
    private let onAttempts: AttemptsHandler
    /// How long an idle connection waits for another job to its destination.
    private let idleKeepAlive: TimeInterval
    private let transactionDuration = Metrics.Timer(label: "mailgate_smtp_transaction_duration_seconds")

    init(
        connections: Int, lookupThreads: Int = 0, connectionsPerDestination: Int, connector: any DestinationConnector,
        idleKeepAlive: TimeInterval = 2, onAttempts: @escaping AttemptsHandler
    ) {
        connectionLimit = connections
        threadCount = connections + lookupThreads
        queues = DestinationQueues(connectionsPerDestination: connectionsPerDestination)
        self.connector = connector
        self.idleKeepAlive = idleKeepAlive
        self.onAttempts = onAttempts
    }

    func start() {
        condition.lock()
        runningThreads = threadCount
        condition.unlock()
        for index in 0..<threadCount {
            let thread = Thread { [self] in run() }
            thread.name = "mailgate-smtp-\(index)"
            thread.start()
        }
    }

    func enqueue(_ jobs: [DeliveryJob]) {
        guard !jobs.isEmpty else { return }
        condition.lock()
        for job in jobs { queues.enqueue(job) }
        condition.broadcast()
        condition.unlock()
    }

    /// Jobs waiting for a connection (for back-pressure and tests).
    var waitingJobCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return queues.waitingJobCount
    }

    /// Stops taking jobs; transactions in flight finish. Returns the jobs that
    /// never started, for the caller to release, once every thread has ended or
    /// the deadline passed.
    func stop(deadline: Date) -> [DeliveryJob] {
        condition.lock()
        stopping = true
        let unsent = queues.takeAllJobs()
        condition.broadcast()
        while runningThreads > 0 && condition.wait(until: deadline) {}
        condition.unlock()
        return unsent
    }

    private func run() {
        while let (destination, job) = nextConnectionJob() {
            serve(destination, startingWith: job)
        }
        condition.lock()
        runningThreads -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for a destination that may get a new connection, and its first job.
    private func nextConnectionJob() -> (Destination, DeliveryJob)? {
        condition.lock()
        defer { condition.unlock() }
        while !stopping {
            if let destination = queues.openConnectionForWaitingWork(), let job = queues.nextJob(for: destination) {
                return (destination, job)
            }
            condition.wait()
        }
        return nil
    }

    private func serve(_ destination: Destination, startingWith first: DeliveryJob) {
        var holdsConnection = false
        let opening = connector.openSession(to: destination, for: first) {
            acquireConnection()
            holdsConnection = true
        }
        defer { if holdsConnection { releaseConnection() } }
        switch opening {
        case .failed(let verdict, let response, let attempted):
            // Everything waiting for this destination shares its fate now, rather
            // than each job trying the same dead hosts in turn.
            condition.lock()
            let others = queues.takeAllJobs(for: destination)
            queues.connectionClosed(to: destination)
            condition.broadcast()
            condition.unlock()
            for job in [first] + others {
                onAttempts(job, job.recipients.map {
                    RecipientAttempt(recipientID: $0.recipientID, verdict: verdict, response: response, attempted: attempted)
                })
            }
        case .opened(let session):
            var job: DeliveryJob? = first
            var stale: DeliveryJob?
            while let current = job {
                let started = ContinuousClock.now
                guard let attempts = session.deliver(current) else {
                    stale = current
                    break
                }
                transactionDuration.record(duration: ContinuousClock.now - started)
                onAttempts(current, attempts)
                job = session.isUsable ? nextJobOnOpenConnection(to: destination) : nil
            }
            session.close()
            condition.lock()
            if let stale { queues.enqueueFirst(stale) }
            queues.connectionClosed(to: destination)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Waits for room under the connection limit and takes it. While stopping it
    /// does not wait: the job in hand goes now, as one already connected would.
    private func acquireConnection() {
        condition.lock()
        waitingToConnect += 1
        condition.broadcast()
        while openSMTPConnections >= connectionLimit && !stopping { condition.wait() }
        waitingToConnect -= 1
        openSMTPConnections += 1
        condition.unlock()
    }

    private func releaseConnection() {
        condition.lock()
        openSMTPConnections -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The next job for an open connection; waits up to `idleKeepAlive` for one
    /// while no other destination's work is waiting for a thread or a connection.
    private func nextJobOnOpenConnection(to destination: Destination) -> DeliveryJob? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(idleKeepAlive)
        while true {
            if let job = queues.nextJob(for: destination) { return job }
            if stopping || queues.waitingJobCount > 0 || waitingToConnect > 0 { return nil }
            if !condition.wait(until: deadline) { return queues.nextJob(for: destination) }
        }
    }
}
