import Foundation
import Testing
@testable import MailQueue

@Suite struct OutcomeTests {
    let origin = StoreFixture.origin

    private func claimOne(_ store: any QueueStore, recipients: [String] = ["bob@example.org"], webhookURL: String? = "https://hooks.example.com/a")
        async throws -> (NewMessage, [ClaimedRecipient])
    {
        let new = StoreFixture.message(recipients: recipients, webhookURL: webhookURL)
        _ = try await store.accept([new], idempotency: nil)
        return (new, try await store.claimDueRecipients(owner: "d", now: origin, limit: 100, lease: .seconds(60)))
    }

    @Test(arguments: StoreBackend.available)
    func eachFinalOutcomeUpdatesTheRecipientAndPostsAnEvent(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let (new, claimed) = try await claimOne(store, recipients: ["a@x.org", "b@x.org", "c@x.org"])
            let decided = origin.addingTimeInterval(2)
            let outcomes = [
                RecipientOutcome(recipientID: claimed[0].recipientID, kind: .delivered, response: StoreFixture.response(250, "2.0.0", "OK"), attempted: true, decidedAt: decided),
                RecipientOutcome(recipientID: claimed[1].recipientID, kind: .bounced, response: StoreFixture.response(550, "5.1.1", "no such user"), attempted: true, decidedAt: decided),
                RecipientOutcome(recipientID: claimed[2].recipientID, kind: .failed(reason: "NXDOMAIN"), response: StoreFixture.response(550, "5.1.2", "no domain"), attempted: false, decidedAt: decided),
            ]
            try await store.recordOutcomes(outcomes, owner: "d")

            let record = try #require(try await store.message(id: new.id, now: decided))
            #expect(record.status == .complete)
            #expect(record.recipients.map(\.status) == [.delivered, .bounced, .failed])
            #expect(record.recipients.map(\.attempts) == [1, 1, 0])
            #expect(record.recipients.allSatisfy { $0.nextAttemptAt == nil && $0.updatedAt == decided })
            #expect(record.recipients[1].lastResponse == StoreFixture.response(550, "5.1.1", "no such user"))
            #expect(record.events.map(\.type) .sorted { $0.rawValue < $1.rawValue } == [.bounced, .delivered, .failed])
            #expect(record.events.allSatisfy { $0.id.hasPrefix("evt_") && $0.webhookStatus == .pending && $0.webhookAttempts == 0 })
            #expect(Set(record.events.map(\.recipient)) == ["a@x.org", "b@x.org", "c@x.org"])
            #expect(try await store.nextRecipientDue() == nil)

            let statistics = try await store.statistics(now: decided)
            #expect(statistics.recipientsByStatus[.delivered] == 1)
            #expect(statistics.recipientsByStatus[.bounced] == 1)
            #expect(statistics.recipientsByStatus[.failed] == 1)
            #expect(statistics.recipientsByStatus[.queued] == 0)
        }
    }

    @Test(arguments: StoreBackend.available)
    func onlyTheFirstDeferralPostsAnEvent(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let (new, claimed) = try await claimOne(store)
            let id = claimed[0].recipientID
            var now = origin
            for attempt in 1...3 {
                now = now.addingTimeInterval(60)
                try await store.recordOutcomes(
                    [RecipientOutcome(recipientID: id, kind: .deferred(nextAttemptAt: now), response: StoreFixture.response(451, "4.7.1", "greylisted \(attempt)"), attempted: true, decidedAt: now)],
                    owner: "d")
                let again = try await store.claimDueRecipients(owner: "d", now: now, limit: 10, lease: .seconds(60))
                #expect(again.map(\.attempts) == [attempt])
                #expect(again.map(\.hasDeferred) == [true])
            }
            let deferred = try #require(try await store.message(id: new.id, now: now))
            #expect(deferred.status == .queued)
            #expect(deferred.recipients[0].status == .deferred)
            #expect(deferred.recipients[0].lastResponse?.message == "greylisted 3")
            #expect(deferred.events.map(\.type) == [.deferred])

            // A lifetime that ran out: no new reply, the last one stays.
            try await store.recordOutcomes(
                [RecipientOutcome(recipientID: id, kind: .failed(reason: "queue lifetime expired"), response: nil, attempted: false, decidedAt: now)],
                owner: "d")
            let failed = try #require(try await store.message(id: new.id, now: now))
            #expect(failed.recipients[0].status == .failed)
            #expect(failed.recipients[0].attempts == 3)
            #expect(failed.recipients[0].lastResponse?.message == "greylisted 3")
            #expect(failed.events.map(\.type) == [.deferred, .failed])
            let statistics = try await store.statistics(now: now)
            #expect(statistics.recipientsByStatus[.deferred] == 0 && statistics.oldestDeferredSeconds == 0)
        }
    }

    @Test(arguments: StoreBackend.available)
    func outcomeIsIgnoredOnceTheLeaseWasLost(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let new = StoreFixture.message(recipients: ["bob@example.org"])
            _ = try await store.accept([new], idempotency: nil)
            let lost = try await store.claimDueRecipients(owner: "slow", now: origin, limit: 10, lease: .seconds(1))
            let later = origin.addingTimeInterval(5)
            let taken = try await store.claimDueRecipients(owner: "fast", now: later, limit: 10, lease: .seconds(60))
            #expect(taken.map(\.recipientID) == lost.map(\.recipientID))

            try await store.recordOutcomes(
                [RecipientOutcome(recipientID: lost[0].recipientID, kind: .bounced, response: StoreFixture.response(550, "5.0.0", "no"), attempted: true, decidedAt: later)],
                owner: "slow")
            let afterSlow = try #require(try await store.message(id: new.id, now: later))
            #expect(afterSlow.recipients[0].status == .queued)
            #expect(afterSlow.events.isEmpty)

            try await store.recordOutcomes(
                [RecipientOutcome(recipientID: taken[0].recipientID, kind: .delivered, response: StoreFixture.response(250, "2.0.0", "ok"), attempted: true, decidedAt: later)],
                owner: "fast")
            #expect(try await store.message(id: new.id, now: later)?.recipients[0].status == .delivered)
        }
    }

    @Test(arguments: StoreBackend.available)
    func cancelEndsPendingRecipientsWithoutEvents(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let (new, claimed) = try await claimOne(store, recipients: ["a@x.org", "b@x.org"])
            try await store.recordOutcomes(
                [RecipientOutcome(recipientID: claimed[0].recipientID, kind: .delivered, response: nil, attempted: true, decidedAt: origin)],
                owner: "d")
            #expect(try await store.cancel(messageID: "msg_missing", now: origin) == .notFound)

            let result = try await store.cancel(messageID: new.id, now: origin.addingTimeInterval(1))
            guard case .canceled(let record, let count) = result else { Issue.record("not canceled: \(result)"); return }
            #expect(count == 1)
            #expect(record.status == .canceled)
            #expect(record.recipients.map(\.status) == [.delivered, .canceled])

            // The in-flight attempt reports after the cancel: ignored.
            try await store.recordOutcomes(
                [RecipientOutcome(recipientID: claimed[1].recipientID, kind: .delivered, response: nil, attempted: true, decidedAt: origin.addingTimeInterval(2))],
                owner: "d")
            let after = try #require(try await store.message(id: new.id, now: origin))
            #expect(after.recipients.map(\.status) == [.delivered, .canceled])
            #expect(after.status == .canceled)
            #expect(after.events.map(\.type) == [.delivered])
            #expect(try await store.cancel(messageID: new.id, now: origin) == .nothingToCancel(after))
            #expect(try await store.claimDueRecipients(owner: "d", now: origin.addingTimeInterval(3600), limit: 10, lease: .seconds(60)).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func messageWithoutWebhookRecordsEventsThatPostNothing(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let (new, claimed) = try await claimOne(store, webhookURL: nil)
            try await store.recordOutcomes(
                [RecipientOutcome(recipientID: claimed[0].recipientID, kind: .delivered, response: nil, attempted: true, decidedAt: origin)],
                owner: "d")
            #expect(try await store.message(id: new.id, now: origin)?.events.map(\.webhookStatus) == [WebhookStatus.none])
            #expect(try await store.nextWebhookDue() == nil)
            #expect(try await store.claimDueWebhooks(owner: "w", now: origin, limit: 10, lease: .seconds(30)).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func statisticsCountQueueDepthAndOldestDeferral(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            _ = try await store.accept([StoreFixture.message(createdAt: origin, sendAt: origin.addingTimeInterval(100))], idempotency: nil)
            let (_, claimed) = try await claimOne(store, recipients: ["a@x.org"])
            try await store.recordOutcomes(
                [RecipientOutcome(recipientID: claimed[0].recipientID, kind: .deferred(nextAttemptAt: origin.addingTimeInterval(60)), response: nil, attempted: true, decidedAt: origin)],
                owner: "d")
            let early = try await store.statistics(now: origin.addingTimeInterval(30))
            #expect(early.recipientsByStatus[.scheduled] == 2)
            #expect(early.recipientsByStatus[.deferred] == 1)
            #expect(early.oldestDeferredSeconds == 30)
            let late = try await store.statistics(now: origin.addingTimeInterval(100))
            #expect(late.recipientsByStatus[.scheduled] == 0)
            #expect(late.recipientsByStatus[.queued] == 2)
        }
    }
}
