import Foundation
import MailQueue
import Testing
@testable import Webhooks

/// Which claimed events go out, driven with explicit instants (no waiting).
@Suite struct ReceiverQueuesTests {
    static let start = ContinuousClock.now

    static func queues(maxInFlight: Int = 8, perReceiver: Int = 3, maxOutstanding: Int = 16) -> ReceiverQueues {
        ReceiverQueues(limits: .init(
            maxInFlight: maxInFlight, maxInFlightPerReceiver: perReceiver, maxOutstanding: maxOutstanding,
            slowAfter: .seconds(1), holdLimit: .seconds(20)
        ))
    }

    static func events(_ count: Int, to host: String, from first: Int = 0) -> [PendingWebhook] {
        (first..<first + count).map { index in
            PendingWebhook(
                eventID: "evt_\(host)_\(index)", type: .delivered, createdAt: Date(), messageID: "msg_1", recipient: "r@example.org",
                deliveryAttempt: 1, response: nil, reason: nil, tags: [], metadataJSON: "{}",
                webhookURL: "https://\(host)/hook?token=\(index)", postAttempts: 0
            )
        }
    }

    @Test func limitsPostsInFlightPerReceiverAndInAll() {
        var queues = Self.queues()
        #expect(queues.admit(Self.events(5, to: "a.example") + Self.events(5, to: "b.example") + Self.events(5, to: "c.example"), now: Self.start).isEmpty)
        let ready = queues.takeReady(now: Self.start)
        #expect(ready.count == 8)
        let byReceiver = Dictionary(grouping: ready) { ReceiverQueues.receiverKey($0.webhookURL) }
        #expect(byReceiver.values.allSatisfy { $0.count <= 3 })
        #expect(queues.inFlightCount == 8)
        #expect(queues.heldCount == 7)
        #expect(queues.claimLimit == 1)
        #expect(queues.takeReady(now: Self.start).isEmpty)

        #expect(queues.finish(eventID: ready[0].eventID) == ready[0])
        #expect(queues.finish(eventID: ready[0].eventID) == nil)
        let next = queues.takeReady(now: Self.start)
        #expect(next.count == 1)
        #expect(ReceiverQueues.receiverKey(next[0].webhookURL) == ReceiverQueues.receiverKey(ready[0].webhookURL))
    }

    @Test func postsEachReceiversEventsInClaimOrder() {
        var queues = Self.queues(perReceiver: 2)
        _ = queues.admit(Self.events(4, to: "a.example"), now: Self.start)
        let first = queues.takeReady(now: Self.start)
        #expect(first.map(\.eventID) == ["evt_a.example_0", "evt_a.example_1"])
        for event in first { _ = queues.finish(eventID: event.eventID) }
        #expect(queues.takeReady(now: Self.start).map(\.eventID) == ["evt_a.example_2", "evt_a.example_3"])
    }

    @Test func skipsEventsAlreadyHeldOrInFlight() {
        var queues = Self.queues()
        let events = Self.events(2, to: "a.example")
        _ = queues.admit(events, now: Self.start)
        _ = queues.takeReady(now: Self.start)
        #expect(queues.admit(events, now: Self.start).isEmpty)
        #expect(queues.outstandingCount == 2)
    }

    @Test func letsGoOfACongestedReceiversExcess() {
        var queues = Self.queues(perReceiver: 2)
        _ = queues.admit(Self.events(6, to: "slow.example"), now: Self.start)
        #expect(queues.takeReady(now: Self.start).count == 2)
        #expect(queues.heldCount == 4)

        // Not yet congested: a POST in flight for less than `slowAfter` is normal.
        #expect(queues.shed(now: Self.start + .milliseconds(500)).isEmpty)

        let later = Self.start + .seconds(2)
        let shed = queues.shed(now: later)
        #expect(shed.count == 4)
        #expect(queues.heldCount == 0)
        let more = Self.events(3, to: "slow.example", from: 6) + Self.events(1, to: "fast.example")
        let letGo = queues.admit(more, now: later)
        #expect(letGo.map(\.eventID) == ["evt_slow.example_6", "evt_slow.example_7", "evt_slow.example_8"])
        #expect(queues.takeReady(now: later).map(\.eventID) == ["evt_fast.example_0"])
    }

    @Test func letsGoOfEventsHeldPastTheHoldLimit() {
        var queues = Self.queues(maxInFlight: 1, perReceiver: 1)
        _ = queues.admit(Self.events(1, to: "a.example") + Self.events(1, to: "b.example"), now: Self.start)
        let posted = queues.takeReady(now: Self.start)
        #expect(posted.count == 1)
        _ = queues.finish(eventID: posted[0].eventID)
        let shed = queues.shed(now: Self.start + .seconds(21))
        #expect(shed.count == 1)
        #expect(queues.outstandingCount == 0)
    }

    @Test func releasesEveryHeldEventWhenStopping() {
        var queues = Self.queues(perReceiver: 1)
        _ = queues.admit(Self.events(3, to: "a.example"), now: Self.start)
        _ = queues.takeReady(now: Self.start)
        #expect(queues.releaseHeld().count == 2)
        #expect(queues.outstandingCount == 1)
        #expect(queues.inFlightCount == 1)
    }

    @Test(arguments: [
        ("https://Hooks.Example.com/mail?token=secret", "https://hooks.example.com"),
        ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080"),
        ("http://[::1]:9/x#y", "http://[::1]:9"),
        ("https://user:pw@example.com/", "https://example.com"),
        ("https://example.com", "https://example.com"),
    ])
    func namesReceiversWithoutPathOrCredentials(url: String, key: String) {
        #expect(ReceiverQueues.receiverKey(url) == key)
    }
}

/// Results on their way to the store: one batch at a time, failures first in line again.
@Suite struct PendingResultsTests {
    static func result(_ id: String) -> WebhookPostResult {
        WebhookPostResult(eventID: id, kind: .delivered, postedAt: Date(timeIntervalSince1970: 0))
    }

    @Test func writesOneBatchAtATime() {
        var results = PendingResults()
        let now = ContinuousClock.now
        #expect(results.startBatch(now: now) == nil)
        results.add(Self.result("a"))
        results.add(Self.result("b"))
        #expect(results.startBatch(now: now)?.map(\.eventID) == ["a", "b"])
        results.add(Self.result("c"))
        #expect(results.startBatch(now: now) == nil)
        #expect(results.count == 3)
        results.batchFinished(stored: true, now: now)
        #expect(results.startBatch(now: now)?.map(\.eventID) == ["c"])
        results.batchFinished(stored: true, now: now)
        #expect(results.isEmpty)
    }

    @Test func pausesAfterAFailureAndWritesTheFailedBatchFirst() {
        var results = PendingResults()
        let now = ContinuousClock.now
        results.add(Self.result("a"))
        _ = results.startBatch(now: now)
        results.add(Self.result("b"))
        results.batchFinished(stored: false, now: now)
        #expect(results.isFailing)
        #expect(results.startBatch(now: now) == nil)
        #expect(results.startBatch(now: now, ignoringPause: true)?.map(\.eventID) == ["a", "b"])
        results.batchFinished(stored: false, now: now)
        #expect(results.startBatch(now: now + PendingResults.retryPause)?.map(\.eventID) == ["a", "b"])
        results.batchFinished(stored: true, now: now)
        #expect(!results.isFailing)
        #expect(results.isEmpty)
    }
}
