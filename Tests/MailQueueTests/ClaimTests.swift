import Foundation
import Testing
@testable import MailQueue

@Suite struct ClaimTests {
    let origin = StoreFixture.origin

    @Test(arguments: StoreBackend.available)
    func claimLeasesDueRecipientsOnce(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let ids = try await StoreFixture.acceptMessages(3, into: store, recipients: ["a@x.org", "b@y.org"])
            let now = origin.addingTimeInterval(10)
            let first = try await store.claimDueRecipients(owner: "one", now: now, limit: 4, lease: .seconds(60))
            #expect(first.count == 4)
            // Oldest due first: the two oldest messages.
            #expect(Set(first.map(\.messageID)) == Set(ids.prefix(2)))
            #expect(first.allSatisfy { $0.attempts == 0 && !$0.hasDeferred })
            #expect(first.first?.domain == "x.org")
            #expect(first.first?.queuedSince == origin)

            let second = try await store.claimDueRecipients(owner: "two", now: now, limit: 10, lease: .seconds(60))
            #expect(second.map(\.messageID) == [ids[2], ids[2]])
            #expect(try await store.claimDueRecipients(owner: "three", now: now, limit: 10, lease: .seconds(60)).isEmpty)
            #expect(try await store.nextRecipientDue() == now.addingTimeInterval(60))
        }
    }

    @Test(arguments: StoreBackend.available)
    func lapsedLeaseIsClaimableAgain(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            _ = try await StoreFixture.acceptMessages(1, into: store)
            let claimed = try await store.claimDueRecipients(owner: "dead", now: origin, limit: 10, lease: .milliseconds(100))
            #expect(claimed.count == 1)
            #expect(try await store.claimDueRecipients(owner: "live", now: origin.addingTimeInterval(0.05), limit: 10, lease: .seconds(60)).isEmpty)
            let retaken = try await store.claimDueRecipients(owner: "live", now: origin.addingTimeInterval(0.1), limit: 10, lease: .seconds(60))
            #expect(retaken.map(\.recipientID) == claimed.map(\.recipientID))
        }
    }

    @Test(arguments: StoreBackend.available)
    func renewalKeepsTheLeaseOnlyForItsOwner(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            _ = try await StoreFixture.acceptMessages(1, into: store)
            let claimed = try await store.claimDueRecipients(owner: "one", now: origin, limit: 10, lease: .seconds(1))
            let ids = claimed.map(\.recipientID)
            try await store.renewRecipientLeases(owner: "other", recipientIDs: ids, until: origin.addingTimeInterval(600))
            #expect(try await store.nextRecipientDue() == origin.addingTimeInterval(1))
            try await store.renewRecipientLeases(owner: "one", recipientIDs: ids, until: origin.addingTimeInterval(30))
            #expect(try await store.nextRecipientDue() == origin.addingTimeInterval(30))
            #expect(try await store.claimDueRecipients(owner: "two", now: origin.addingTimeInterval(10), limit: 10, lease: .seconds(1)).isEmpty)
            #expect(try await store.claimDueRecipients(owner: "two", now: origin.addingTimeInterval(30), limit: 10, lease: .seconds(1)).count == 1)
        }
    }

    @Test(arguments: StoreBackend.available)
    func releaseMakesRecipientsClaimableWithoutAnAttempt(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            _ = try await StoreFixture.acceptMessages(1, into: store)
            let claimed = try await store.claimDueRecipients(owner: "one", now: origin, limit: 10, lease: .seconds(60))
            try await store.releaseRecipients(owner: "other", recipientIDs: claimed.map(\.recipientID))
            #expect(try await store.claimDueRecipients(owner: "two", now: origin, limit: 10, lease: .seconds(60)).isEmpty)
            try await store.releaseRecipients(owner: "one", recipientIDs: claimed.map(\.recipientID))
            #expect(try await store.nextRecipientDue() == origin)
            let again = try await store.claimDueRecipients(owner: "two", now: origin, limit: 10, lease: .seconds(60))
            #expect(again.map(\.attempts) == [0])
        }
    }

    @Test(arguments: StoreBackend.available)
    func anotherInstanceLeavesTheLeases(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, location async throws in
            _ = try await StoreFixture.acceptMessages(1, into: store)
            #expect(try await store.claimDueRecipients(owner: "gw", now: origin, limit: 10, lease: .seconds(60)).count == 1)
            let admin = try location.openInstance()
            #expect(try await admin.claimDueRecipients(owner: "admin", now: origin, limit: 10, lease: .seconds(60)).isEmpty)
            await admin.close()
        }
    }

    /// Two instances on one queue claiming at once (two gateways on PostgreSQL; a
    /// gateway and an administration command on SQLite) never get the same recipient.
    @Test(arguments: StoreBackend.available)
    func instancesClaimingAtOnceNeverShareARecipient(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, location async throws in
            _ = try await StoreFixture.acceptMessages(60, into: store, recipients: ["a@x.org", "b@y.org"])
            let other = try location.openInstance()
            let now = origin.addingTimeInterval(100)
            let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for (index, instance) in [store, other, store, other].enumerated() {
                    group.addTask {
                        var mine: [Int64] = []
                        for _ in 0..<100 {
                            let claimed = try await instance.claimDueRecipients(owner: "claimer-\(index)", now: now, limit: 7, lease: .seconds(60))
                            if claimed.isEmpty { break }
                            mine += claimed.map(\.recipientID)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            await other.close()
            let all = claims.flatMap { $0 }
            #expect(all.count == 120)
            #expect(Set(all).count == 120)
        }
    }

    /// After a claim (which on PostgreSQL fetches the claimed messages' contents with
    /// it), the content reads back byte for byte, however many times it is asked for.
    @Test(arguments: StoreBackend.available)
    func contentOfClaimedMessagesReadsBackWhole(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let small = StoreFixture.message(content: Array("Subject: small\r\n\r\nhi\r\n".utf8))
            let large = StoreFixture.message(createdAt: origin.addingTimeInterval(1), content: (0..<1_500_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
            _ = try await store.accept([small, large], idempotency: nil)
            let claimed = try await store.claimDueRecipients(owner: "d", now: origin.addingTimeInterval(5), limit: 10, lease: .seconds(60))
            #expect(Set(claimed.map(\.messageID)) == [small.id, large.id])
            for message in [small, large, small, large] {
                let content = try #require(try await store.messageContent(id: message.id))
                #expect(content.content == message.content)
                #expect(content.envelopeFrom == message.envelopeFrom)
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func retryNowMakesDeferredRecipientsDue(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let ids = try await StoreFixture.acceptMessages(2, into: store)
            let claimed = try await store.claimDueRecipients(owner: "a", now: origin.addingTimeInterval(1), limit: 10, lease: .seconds(60))
            #expect(claimed.count == 2)
            let later = origin.addingTimeInterval(3600)
            try await store.recordOutcomes(
                claimed.map {
                    RecipientOutcome(
                        recipientID: $0.recipientID, kind: .deferred(nextAttemptAt: later),
                        response: StoreFixture.response(451, "4.3.0", "try later"), attempted: true, decidedAt: origin)
                }, owner: "a")
            let now = origin.addingTimeInterval(5)
            #expect(try await store.claimDueRecipients(owner: "a", now: now, limit: 10, lease: .seconds(60)).isEmpty)

            #expect(try await store.retryNow(messageID: ids[0], now: now) == 1)
            #expect(try await store.message(id: ids[0], now: now)?.recipients.first?.nextAttemptAt == now)
            let retried = try await store.claimDueRecipients(owner: "a", now: now, limit: 10, lease: .seconds(60))
            #expect(retried.map(\.messageID) == [ids[0]])
            #expect(retried.first?.attempts == 1 && retried.first?.hasDeferred == true)

            #expect(try await store.retryNow(messageID: nil, now: now) == 1)
            #expect(try await store.retryNow(messageID: nil, now: now) == 0)
            #expect(try await store.claimDueRecipients(owner: "a", now: now, limit: 10, lease: .seconds(60)).map(\.messageID) == [ids[1]])
        }
    }

    @Test(arguments: StoreBackend.available)
    func scheduledRecipientsAreNotRetriedEarly(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let new = StoreFixture.message(sendAt: origin.addingTimeInterval(600))
            _ = try await store.accept([new], idempotency: nil)
            #expect(try await store.retryNow(messageID: nil, now: origin) == 0)
            #expect(try await store.claimDueRecipients(owner: "a", now: origin, limit: 10, lease: .seconds(60)).isEmpty)
        }
    }
}
