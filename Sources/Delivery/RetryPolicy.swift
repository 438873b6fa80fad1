import Foundation
import MailQueue

/// When a deferred recipient is tried again, and when it is given up
/// (`MAILGATE_RETRY_SCHEDULE`, `MAILGATE_MAX_QUEUE_LIFETIME`).
///
/// The n-th deferral waits the n-th entry of the schedule (the last entry
/// repeats) with ±10% jitter, so that recipients deferred together do not come
/// back together. A recipient is never scheduled past its lifetime: the last try
/// happens when the lifetime ends, and a deferral at or after that point fails it.
public struct RetryPolicy: Sendable {
    public var schedule: [Duration]
    public var maximumLifetime: Duration
    /// The fraction of jitter either way; SPEC §1 says ±10%.
    public var jitter: Double

    public init(schedule: [Duration], maximumLifetime: Duration, jitter: Double = 0.1) {
        precondition(!schedule.isEmpty, "a retry schedule needs at least one wait")
        self.schedule = schedule
        self.maximumLifetime = maximumLifetime
        self.jitter = jitter
    }

    /// What becomes of a recipient that just failed temporarily.
    public enum Decision: Sendable, Equatable {
        case retry(at: Date)
        case giveUp(reason: String)
    }

    /// Decides for a recipient that has now been deferred `deferrals` times (1 for
    /// the first) and has been queued since `queuedSince`.
    public func decide(
        deferrals: Int, queuedSince: Date, now: Date, random: inout some RandomNumberGenerator
    ) -> Decision {
        let expiry = queuedSince.addingTimeInterval(maximumLifetime.seconds)
        if now >= expiry {
            return .giveUp(reason: "still deferred after the maximum queue lifetime of \(RetryPolicy.describe(maximumLifetime))")
        }
        let base = schedule[min(max(deferrals, 1), schedule.count) - 1].seconds
        let factor = jitter > 0 ? Double.random(in: (1 - jitter)...(1 + jitter), using: &random) : 1
        let next = now.addingTimeInterval(base * factor)
        return .retry(at: min(next, expiry))
    }

    static func describe(_ duration: Duration) -> String {
        let seconds = Int(duration.seconds)
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] where seconds >= size && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
