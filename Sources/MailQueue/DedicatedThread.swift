import Foundation

/// A thread of its own, off Swift's cooperative pool, for work whose calls block:
/// SQLite and libpq (on the disk, on fsync, on a lock, on the network; STYLE: GRDB
/// keeps them on threads of their own too) and libcurl's multi loop in Webhooks.
/// `finished()` lets async code wait for it to end.
public final class DedicatedThread: @unchecked Sendable {
    private let lock = NSLock()
    private var hasFinished = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Starts a thread named `name` running `body` once.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            body()
            markFinished()
        }
        thread.name = name
        thread.start()
    }

    /// Returns once the thread's body has returned.
    public func finished() async {
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
