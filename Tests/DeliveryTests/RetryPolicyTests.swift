import Foundation
import MailQueue
import MailgateTesting
import Testing

@testable import Delivery


@Suite struct RetryPolicyTests {
    let start = Date(timeIntervalSince1970: 1_000_000)
    let policy = RetryPolicy(schedule: [.seconds(60), .seconds(300), .seconds(900)], maximumLifetime: .seconds(86_400))

    @Test func followsTheScheduleAndRepeatsTheLastWait() {
        let exact = RetryPolicy(schedule: policy.schedule, maximumLifetime: policy.maximumLifetime, jitter: 0)
        var random = SeededGenerator(seed: 1)
        for (deferrals, wait) in [(1, 60.0), (2, 300.0), (3, 900.0), (4, 900.0), (10, 900.0)] {
            guard case .retry(let at) = exact.decide(deferrals: deferrals, queuedSince: start, now: start, random: &random) else {
                Issue.record("expected a retry after \(deferrals) deferrals")
                continue
            }
            #expect(at.timeIntervalSince(start) == wait)
        }
    }

    @Test func jitterStaysWithinTenPercent() {
        var random = SystemRandomNumberGenerator()
        var seen = Set<Int>()
        for _ in 0..<500 {
            guard case .retry(let at) = policy.decide(deferrals: 1, queuedSince: start, now: start, random: &random) else {
                Issue.record("expected a retry")
                return
            }
            let wait = at.timeIntervalSince(start)
            #expect(wait >= 54 && wait <= 66)
            seen.insert(Int(wait))
        }
        #expect(seen.count > 5, "jitter spreads retries")
    }

    @Test func neverSchedulesPastTheLifetimeAndGivesUpAfterIt() {
        var random = SeededGenerator(seed: 7)
        let nearEnd = start.addingTimeInterval(86_400 - 10)
        guard case .retry(let at) = policy.decide(deferrals: 3, queuedSince: start, now: nearEnd, random: &random) else {
            Issue.record("expected one last retry at the end of the lifetime")
            return
        }
        #expect(at == start.addingTimeInterval(86_400))
        let decision = policy.decide(deferrals: 4, queuedSince: start, now: at, random: &random)
        guard case .giveUp(let reason) = decision else {
            Issue.record("expected to give up, got \(decision)")
            return
        }
        #expect(reason.contains("1d"))
    }
}

@Suite struct OutcomeDeciderTests {
    let decider = OutcomeDecider(retryPolicy: RetryPolicy(schedule: [.seconds(60)], maximumLifetime: .seconds(3600)))
    let now = Date(timeIntervalSince1970: 2_000_000)

    func recipient(attempts: Int, queuedSince: Date) -> ClaimedRecipient {
        ClaimedRecipient(recipientID: 7, messageID: "msg_x", email: "a@example.org", domain: "example.org", attempts: attempts, hasDeferred: attempts > 0, queuedSince: queuedSince)
    }

    func attempt(_ code: Int, attempted: Bool = true) -> RecipientAttempt {
        RecipientAttempt(
            recipientID: 7, verdict: RecipientAttempt.verdict(forCode: code),
            response: SMTPResponseRecord(code: code, enhancedCode: nil, message: "reply", host: "mx.example.org"), attempted: attempted)
    }

    @Test func mapsReplyClasses() {
        var random = SeededGenerator(seed: 7)
        let fresh = recipient(attempts: 0, queuedSince: now)
        #expect(decider.outcome(for: attempt(250), recipient: fresh, now: now, random: &random).kind == .delivered)
        #expect(decider.outcome(for: attempt(550), recipient: fresh, now: now, random: &random).kind == .bounced)
        guard case .deferred(let next) = decider.outcome(for: attempt(421), recipient: fresh, now: now, random: &random).kind else {
            Issue.record("a 421 defers")
            return
        }
        #expect(next.timeIntervalSince(now) >= 54 && next.timeIntervalSince(now) <= 66)
    }

    @Test func failsWhatOutlivedTheQueueLifetime() {
        var random = SeededGenerator(seed: 7)
        let old = recipient(attempts: 5, queuedSince: now.addingTimeInterval(-3600))
        let outcome = decider.outcome(for: attempt(451), recipient: old, now: now, random: &random)
        guard case .failed(let reason) = outcome.kind else {
            Issue.record("expected failed, got \(outcome.kind)")
            return
        }
        #expect(reason.contains("451"))
        #expect(outcome.attempted)
    }

    @Test func keepsWhetherAnAttemptWasMade() {
        var random = SeededGenerator(seed: 7)
        let outcome = decider.outcome(for: attempt(550, attempted: false), recipient: recipient(attempts: 0, queuedSince: now), now: now, random: &random)
        #expect(!outcome.attempted)
        #expect(outcome.response?.host == "mx.example.org")
    }
}
