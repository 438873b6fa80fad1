import Foundation
import Testing
@testable import MailQueue

@Suite struct WebhookOutboxTests {
    let origin = StoreFixture.origin

    /// One message with `count` recipients, all delivered at `origin`: `count` pending events.
    private func deliveredEvents(_ store: any QueueStore, count: Int) async throws -> NewMessage {
        let new = StoreFixture.message(recipients: (0..<count).map { "r\($0)@example.org" }, tags: ["a", "b"])
        _ = try await store.accept([new], idempotency: nil)
        let claimed = try await store.claimDueRecipients(owner: "d", now: origin, limit: 100, lease: .seconds(60))
        try await store.recordOutcomes(
            claimed.map {
                RecipientOutcome(recipientID: $0.recipientID, kind: .delivered, response: StoreFixture.response(250, "2.0.0", "queued as 1"), attempted: true, decidedAt: origin)
            }, owner: "d")
        return new
    }

    @Test(arguments: StoreBackend.available)
    func claimedEventCarriesItsPayload(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let new = try await deliveredEvents(store, count: 1)
            #expect(try await store.nextWebhookDue() == origin)
            let webhooks = try await store.claimDueWebhooks(owner: "w", now: origin, limit: 10, lease: .seconds(30))
            let webhook = try #require(webhooks.first)
            #expect(webhooks.count == 1)
            #expect(webhook.eventID.hasPrefix("evt_"))
            #expect(webhook.type == .delivered)
            #expect(webhook.createdAt == origin)
            #expect(webhook.messageID == new.id)
            #expect(webhook.recipient == "r0@example.org")
            #expect(webhook.deliveryAttempt == 1)
            #expect(webhook.response == StoreFixture.response(250, "2.0.0", "queued as 1"))
            #expect(webhook.reason == nil)
            #expect(webhook.tags == ["a", "b"])
            #expect(webhook.metadataJSON == #"{"order":"1234"}"#)
            #expect(webhook.webhookURL == "https://hooks.example.com/mail")
            #expect(webhook.postAttempts == 0)
            #expect(try await store.claimDueWebhooks(owner: "w2", now: origin, limit: 10, lease: .seconds(30)).isEmpty)
            #expect(try await store.nextWebhookDue() == origin.addingTimeInterval(30))
        }
    }

    @Test(arguments: StoreBackend.available)
    func resultsSettleOrRescheduleEvents(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let new = try await deliveredEvents(store, count: 3)
            let webhooks = try await store.claimDueWebhooks(owner: "w", now: origin, limit: 10, lease: .seconds(30))
            #expect(webhooks.count == 3)
            let retryAt = origin.addingTimeInterval(5)
            try await store.recordWebhookResults(
                [
                    WebhookPostResult(eventID: webhooks[0].eventID, kind: .delivered, postedAt: origin),
                    WebhookPostResult(eventID: webhooks[1].eventID, kind: .dropped, postedAt: origin, posted: false),
                    WebhookPostResult(eventID: webhooks[2].eventID, kind: .retry(at: retryAt), postedAt: origin),
                ], owner: "w")
            let events = try #require(try await store.message(id: new.id, now: origin)?.events)
            let byID = Dictionary(uniqueKeysWithValues: events.map { ($0.id, $0) })
            #expect(byID[webhooks[0].eventID]?.webhookStatus == .delivered)
            #expect(byID[webhooks[1].eventID]?.webhookStatus == .dropped)
            #expect(byID[webhooks[2].eventID]?.webhookStatus == .pending)
            #expect(events.map(\.webhookAttempts) == webhooks.map { $0.eventID == webhooks[1].eventID ? 0 : 1 },
                    "a refused address sends nothing, so it is no attempt")

            #expect(try await store.nextWebhookDue() == retryAt)
            #expect(try await store.claimDueWebhooks(owner: "w", now: origin, limit: 10, lease: .seconds(30)).isEmpty)
            let retried = try await store.claimDueWebhooks(owner: "w", now: retryAt, limit: 10, lease: .seconds(30))
            #expect(retried.map(\.eventID) == [webhooks[2].eventID])
            #expect(retried.first?.postAttempts == 1)
        }
    }

    @Test(arguments: StoreBackend.available)
    func resultsFromALostLeaseAreIgnored(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            _ = try await deliveredEvents(store, count: 1)
            let lost = try await store.claimDueWebhooks(owner: "slow", now: origin, limit: 10, lease: .seconds(1))
            let later = origin.addingTimeInterval(2)
            let taken = try await store.claimDueWebhooks(owner: "fast", now: later, limit: 10, lease: .seconds(30))
            #expect(taken.map(\.eventID) == lost.map(\.eventID))
            try await store.recordWebhookResults([WebhookPostResult(eventID: lost[0].eventID, kind: .dropped, postedAt: later)], owner: "slow")
            try await store.recordWebhookResults([WebhookPostResult(eventID: taken[0].eventID, kind: .delivered, postedAt: later)], owner: "fast")
            let event = try #require(try await store.message(id: lost[0].messageID, now: later)?.events.first)
            #expect(event.webhookStatus == .delivered)
            #expect(event.webhookAttempts == 1)
        }
    }

    @Test(arguments: StoreBackend.available)
    func claimHonoursTheLimitOldestFirst(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            _ = try await deliveredEvents(store, count: 5)
            let first = try await store.claimDueWebhooks(owner: "w", now: origin, limit: 2, lease: .seconds(30))
            let rest = try await store.claimDueWebhooks(owner: "w", now: origin, limit: 10, lease: .seconds(30))
            #expect(first.count == 2 && rest.count == 3)
            #expect(Set(first.map(\.eventID)).isDisjoint(with: rest.map(\.eventID)))
        }
    }

    @Test(arguments: StoreBackend.available)
    func releasedEventsAreDueAgainAtOnceForTheirOwnerOnly(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            _ = try await deliveredEvents(store, count: 3)
            let later = origin.addingTimeInterval(10)
            let claimed = try await store.claimDueWebhooks(owner: "w", now: later, limit: 10, lease: .seconds(300))
            #expect(claimed.count == 3)
            try await store.releaseWebhooks(owner: "other", eventIDs: claimed.map(\.eventID))
            #expect(try await store.claimDueWebhooks(owner: "w2", now: later, limit: 10, lease: .seconds(30)).isEmpty)

            try await store.releaseWebhooks(owner: "w", eventIDs: claimed.prefix(2).map(\.eventID))
            #expect(try await store.nextWebhookDue() == origin)
            let again = try await store.claimDueWebhooks(owner: "w2", now: later, limit: 10, lease: .seconds(30))
            #expect(again.map(\.eventID) == claimed.prefix(2).map(\.eventID))
            #expect(again.allSatisfy { $0.postAttempts == 0 })
        }
    }
}
