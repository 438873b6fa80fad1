import Foundation
import MailQueue

/// How one try at a recipient ended, before the retry policy turns it into a
/// stored outcome: the reply that decided it and that reply's class.
public struct RecipientAttempt: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        /// 2xx after the end of DATA.
        case accepted
        /// 4xx, a refused or broken connection, a timeout: try again later.
        case transient
        /// 5xx: bounce, no retry.
        case permanent
    }

    public var recipientID: Int64
    public var verdict: Verdict
    public var response: SMTPResponseRecord
    /// False when the outcome was decided without connecting (NXDOMAIN, null MX):
    /// SPEC §6 counts only real attempts.
    public var attempted: Bool

    public init(recipientID: Int64, verdict: Verdict, response: SMTPResponseRecord, attempted: Bool) {
        self.recipientID = recipientID
        self.verdict = verdict
        self.response = response
        self.attempted = attempted
    }

    /// The verdict SPEC §3 gives a reply code.
    public static func verdict(forCode code: Int) -> Verdict {
        switch code {
        case 200..<300: .accepted
        case 500..<600: .permanent
        default: .transient
        }
    }
}

/// Turns attempts into the outcomes the store records, applying the retry policy
/// to transient failures.
public struct OutcomeDecider: Sendable {
    public var retryPolicy: RetryPolicy

    public init(retryPolicy: RetryPolicy) { self.retryPolicy = retryPolicy }

    public func outcome(
        for attempt: RecipientAttempt, recipient: ClaimedRecipient, now: Date, random: inout some RandomNumberGenerator
    ) -> RecipientOutcome {
        let kind: RecipientOutcome.Kind
        switch attempt.verdict {
        case .accepted:
            kind = .delivered
        case .permanent:
            kind = .bounced
        case .transient:
            let deferrals = recipient.attempts + (attempt.attempted ? 1 : 0)
            switch retryPolicy.decide(deferrals: max(deferrals, 1), queuedSince: recipient.queuedSince, now: now, random: &random) {
            case .retry(let date): kind = .deferred(nextAttemptAt: date)
            case .giveUp(let reason): kind = .failed(reason: "\(reason); last response: \(attempt.response.code) \(attempt.response.message)")
            }
        }
        return RecipientOutcome(
            recipientID: attempt.recipientID, kind: kind, response: attempt.response, attempted: attempt.attempted,
            decidedAt: now)
    }
}
