import Dispatch
import Foundation

/// What reaches the webhook service's loop from elsewhere: POST outcomes from the
/// client's thread, the end of a results write, `wake()` from the delivery side,
/// and the stop request. Posting never blocks; the loop takes everything at once,
/// or sleeps until something comes or its deadline passes (a Dispatch timer, so no
/// task sleeps and no thread of the cooperative pool waits).
final class WebhookMailbox: @unchecked Sendable {
    struct Mail {
        var outcomes: [(eventID: String, outcome: WebhookPostOutcome)] = []
        /// Whether the results write that just ended stored its batch.
        var resultsStored: Bool?
        var woken = false
        /// The end of the grace period, once a stop was asked for.
        var stopDeadline: ContinuousClock.Instant?

        var isEmpty: Bool { outcomes.isEmpty && resultsStored == nil && !woken && stopDeadline == nil }
    }

    private let lock = NSLock()
    private var mail = Mail()
    private var waiter: CheckedContinuation<Mail, Never>?
    private var waiterDeadline = ContinuousClock.now
    /// When the one pending timer fires, if one is pending. A wait whose deadline is
    /// later reuses it (it re-arms when it fires early), so the loop's many short
    /// waits cost a timer only now and then.
    private var armedFor: ContinuousClock.Instant?

    /// Adds an outcome without waking the loop: `outcomesDelivered()` does, once per
    /// round of completions (a loop that is not asleep finds them at its next look).
    func deliver(eventID: String, outcome: WebhookPostOutcome) {
        lock.lock()
        mail.outcomes.append((eventID, outcome))
        lock.unlock()
    }

    /// Wakes the loop for the outcomes delivered since it last looked.
    func outcomesDelivered() {
        resume { _ in }
    }

    func resultsWritten(stored: Bool) {
        resume { $0.resultsStored = stored }
    }

    func wake() {
        resume { $0.woken = true }
    }

    /// Asks the loop to stop; the earliest deadline asked for wins.
    func requestStop(deadline: ContinuousClock.Instant) {
        resume { mail in mail.stopDeadline = min(mail.stopDeadline ?? deadline, deadline) }
    }

    /// Everything posted so far, at once.
    func takeAll() -> Mail {
        lock.lock()
        defer { lock.unlock() }
        return takeLocked()
    }

    /// Everything posted so far; if nothing is, waits until something is or
    /// `deadline` passes (then returns empty mail).
    func next(until deadline: ContinuousClock.Instant) async -> Mail {
        await withCheckedContinuation { continuation in
            lock.lock()
            guard mail.isEmpty, ContinuousClock.now < deadline else {
                let taken = takeLocked()
                lock.unlock()
                continuation.resume(returning: taken)
                return
            }
            waiter = continuation
            waiterDeadline = deadline
            let arm = armedFor.map { $0 > deadline } ?? true
            if arm { armedFor = deadline }
            lock.unlock()
            if arm { armTimer(for: deadline) }
        }
    }

    private func armTimer(for deadline: ContinuousClock.Instant) {
        let delay = ContinuousClock.now.duration(to: deadline).components
        let nanoseconds = Int(delay.seconds) * 1_000_000_000 + Int(delay.attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(max(0, nanoseconds))) { [self] in
            timerFired(deadline)
        }
    }

    /// Resumes a waiter whose deadline has passed; re-arms for one still waiting.
    private func timerFired(_ deadline: ContinuousClock.Instant) {
        lock.lock()
        if armedFor == deadline { armedFor = nil }
        guard let waiting = waiter else {
            lock.unlock()
            return
        }
        if waiterDeadline <= ContinuousClock.now {
            waiter = nil
            lock.unlock()
            waiting.resume(returning: Mail())
            return
        }
        let rearm = armedFor == nil
        if rearm { armedFor = waiterDeadline }
        let next = waiterDeadline
        lock.unlock()
        if rearm { armTimer(for: next) }
    }

    private func resume(_ change: (inout Mail) -> Void) {
        lock.lock()
        change(&mail)
        guard !mail.isEmpty else {
            lock.unlock()
            return
        }
        let waiting = waiter
        waiter = nil
        let taken = waiting == nil ? nil : takeLocked()
        lock.unlock()
        if let waiting, let taken { waiting.resume(returning: taken) }
    }

    private func takeLocked() -> Mail {
        let taken = mail
        mail = Mail()
        return taken
    }
}
