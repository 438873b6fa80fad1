import CMailgateCurl
import Foundation

/// POSTs handed from any thread to the client's thread. Submitting never blocks
/// on network work: it appends under a lock and wakes the loop's poll.
final class CurlInbox: @unchecked Sendable {
    struct Submission: Sendable {
        let request: WebhookRequest
        let completion: @Sendable (WebhookPostOutcome) -> Void
    }

    private let lock = NSLock()
    private var submissions: [Submission] = []
    private var isClosed = false
    /// The multi handle to wake, until the loop cleans it up. Waking happens under
    /// the lock, so it never reaches a handle that is gone.
    private var multi: UnsafeMutableRawPointer?

    init(multi: UnsafeMutableRawPointer) { self.multi = multi }

    /// Queues a POST; false once the client is shut down (the POST will never run).
    func submit(_ submission: Submission) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !isClosed else { return false }
        submissions.append(submission)
        // Only the first one queued needs to wake the loop: it takes them all at once.
        if submissions.count == 1, let multi { _ = curl_multi_wakeup(multi) }
        return true
    }

    /// Everything queued, and whether the client is shutting down.
    func take() -> (submissions: [Submission], isClosed: Bool) {
        lock.lock()
        defer { lock.unlock() }
        let taken = submissions
        submissions.removeAll(keepingCapacity: true)
        return (taken, isClosed)
    }

    /// Refuses further POSTs and wakes the loop so that it ends.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        isClosed = true
        if let multi { _ = curl_multi_wakeup(multi) }
    }

    /// Called by the loop just before it frees the multi handle.
    func detach() {
        lock.lock()
        defer { lock.unlock() }
        multi = nil
    }
}
