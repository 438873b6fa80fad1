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
