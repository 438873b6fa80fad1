import Foundation

/// A FIFO of jobs between async callers and the store's own threads. Callers
/// never block on it; the threads sleep on its condition until jobs arrive.
final class JobQueue<Job>: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var isClosed = false

    /// Adds a job; false once the queue is closed (the job will never run).
    func enqueue(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isClosed else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Waits for jobs and takes every one queued (the writer's batch); nil once
    /// the queue is closed and empty.
    func takeAll() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !isClosed { condition.wait() }
        guard !jobs.isEmpty else { return nil }
        let taken = jobs
        jobs.removeAll(keepingCapacity: true)
        return taken
    }

    /// Waits for a job and takes the oldest; nil once the queue is closed and empty.
    func takeOne() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !isClosed { condition.wait() }
        guard !jobs.isEmpty else { return nil }
        return jobs.removeFirst()
    }

    /// Jobs waiting to be taken.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count
    }

    /// Refuses new jobs; the threads finish the queued ones and then stop.
    func close() {
        condition.lock()
        isClosed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A thread of the store's own, off Swift's cooperative pool, because SQLite calls
/// block (on the disk, on fsync, on another process's lock) (STYLE: GRDB keeps
/// them on threads of their own too). `finished()` lets async code wait for it to end.
final class DatabaseThread: @unchecked Sendable {
    private let lock = NSLock()
    private var hasFinished = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Starts a thread named `name` running `body` once.
    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            body()
            markFinished()
        }
        thread.name = name
        thread.start()
    }

    /// Returns once the thread's body has returned.
    func finished() async {
        await withCheckedContinuation { continuation in
            lock.lock()
            if hasFinished {
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    private func markFinished() {
        lock.lock()
        hasFinished = true
        let waiting = waiters
        waiters = []
        lock.unlock()
        for waiter in waiting { waiter.resume() }
    }
}
