import Foundation
import Testing
@testable import MailQueue

@Suite struct AcceptTests {
    let origin = StoreFixture.origin

    @Test(arguments: StoreBackend.available)
    func acceptedMessageReadsBackWithRecipientsAndContent(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let new = StoreFixture.message(content: Array(repeating: 0x41, count: 5000) + [0x0D, 0x0A])
            #expect(try await store.accept([new], idempotency: nil) == .accepted)

            let record = try #require(try await store.message(id: new.id, now: origin))
            #expect(record.status == .queued)
            #expect(record.createdAt == origin)
            #expect(record.subject == "Hello")
            #expect(record.fromDisplay == "Alice <alice@example.com>")
            #expect(record.tags == ["receipt"])
            #expect(record.metadataJSON == #"{"order":"1234"}"#)
            #expect(record.recipients.map(\.email) == ["bob@example.org", "carol@example.net"])
            #expect(record.recipients.allSatisfy { $0.status == .queued && $0.attempts == 0 && $0.lastResponse == nil })
            #expect(record.recipients.first?.nextAttemptAt == origin)
            #expect(record.events.isEmpty)

            let content = try #require(try await store.messageContent(id: new.id))
            #expect(content.envelopeFrom == "alice@example.com")
            #expect(content.content == new.content)
            #expect(try await store.message(id: "msg_unknown", now: origin) == nil)
            #expect(try await store.messageContent(id: "msg_unknown") == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func futureSendAtIsScheduledUntilItsTimeComes(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let sendAt = origin.addingTimeInterval(3600)
            let new = StoreFixture.message(sendAt: sendAt)
            _ = try await store.accept([new], idempotency: nil)

            let before = try #require(try await store.message(id: new.id, now: origin))
            #expect(before.status == .scheduled)
            #expect(before.sendAt == sendAt)
            #expect(before.recipients.allSatisfy { $0.status == .scheduled && $0.nextAttemptAt == sendAt })
            #expect(try await store.claimDueRecipients(owner: "a", now: origin, limit: 10, lease: .seconds(60)).isEmpty)
            #expect(try await store.nextRecipientDue() == sendAt)

            let after = try #require(try await store.message(id: new.id, now: sendAt))
            #expect(after.status == .queued)
            #expect(after.recipients.allSatisfy { $0.status == .queued })
            #expect(try await store.claimDueRecipients(owner: "a", now: sendAt, limit: 10, lease: .seconds(60)).count == 2)
        }
    }

    @Test(arguments: StoreBackend.available)
    func sendAtInThePastQueuesAtOnce(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let new = StoreFixture.message(sendAt: origin.addingTimeInterval(-60))
            _ = try await store.accept([new], idempotency: nil)
            #expect(try await store.message(id: new.id, now: origin)?.status == .queued)
            #expect(try await store.claimDueRecipients(owner: "a", now: origin, limit: 10, lease: .seconds(60)).count == 2)
        }
    }

    @Test(arguments: StoreBackend.available)
    func batchOfMessagesIsStoredTogether(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let batch = (0..<3).map { StoreFixture.message(createdAt: origin.addingTimeInterval(Double($0))) }
            #expect(try await store.accept(batch, idempotency: nil) == .accepted)
            for message in batch { #expect(try await store.message(id: message.id, now: origin) != nil) }
        }
    }

    @Test(arguments: StoreBackend.available)
    func duplicateMessageIDFailsAloneAsADatabaseError(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let new = StoreFixture.message()
            _ = try await store.accept([new], idempotency: nil)
            await #expect {
                try await store.accept([new], idempotency: nil)
            } throws: { error in
                if case .database = error as? StoreError { true } else { false }
            }
            #expect(try await store.statistics(now: origin).recipientsByStatus[.queued] == 2)
        }
    }

    @Test(arguments: StoreBackend.available)
    func idempotencyKeyStoresOnceAndAnswersForADay(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let record = IdempotencyRecord(key: "k1", bodyHash: "abc", responseStatus: 202, responseBody: Array("{}".utf8), createdAt: origin)
            let first = StoreFixture.message()
            #expect(try await store.accept([first], idempotency: record) == .accepted)
            #expect(try await store.idempotencyRecord(key: "k1", now: origin.addingTimeInterval(60)) == record)
            #expect(try await store.idempotencyRecord(key: "other", now: origin) == nil)

            let again = StoreFixture.message(createdAt: origin.addingTimeInterval(1))
            var retry = record
            retry.createdAt = origin.addingTimeInterval(1)
            #expect(try await store.accept([again], idempotency: retry) == .alreadyAccepted(record))
            #expect(try await store.message(id: again.id, now: origin) == nil)

            let dayLater = origin.addingTimeInterval(24 * 3600 + 1)
            #expect(try await store.idempotencyRecord(key: "k1", now: dayLater) == nil)
            var late = record
            late.createdAt = dayLater
            let third = StoreFixture.message(createdAt: dayLater)
            #expect(try await store.accept([third], idempotency: late) == .accepted)
            #expect(try await store.idempotencyRecord(key: "k1", now: dayLater) == late)
        }
    }

    @Test(arguments: StoreBackend.available)
    func concurrentAcceptsWithOneKeyStoreOneMessage(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let record = IdempotencyRecord(key: "race", bodyHash: "h", responseStatus: 202, responseBody: [1, 2], createdAt: origin)
            let messages = (0..<8).map { StoreFixture.message(createdAt: origin.addingTimeInterval(Double($0))) }
            let results = try await withThrowingTaskGroup(of: AcceptResult.self) { group in
                for message in messages { group.addTask { try await store.accept([message], idempotency: record) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 == .accepted }.count == 1)
            #expect(results.filter { $0 == .alreadyAccepted(record) }.count == 7)
            var stored = 0
            for message in messages where try await store.message(id: message.id, now: origin) != nil { stored += 1 }
            #expect(stored == 1)
        }
    }

    @Test(arguments: StoreBackend.available)
    func queueLimitRefusesWhatWouldPassIt(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend, queueLimit: 3) { store, _ async throws in
            _ = try await store.accept([StoreFixture.message()], idempotency: nil)
            await #expect(throws: StoreError.queueFull(limit: 3)) {
                try await store.accept([StoreFixture.message()], idempotency: nil)
            }
            let one = StoreFixture.message(recipients: ["dave@example.org"])
            #expect(try await store.accept([one], idempotency: nil) == .accepted)
            await #expect(throws: StoreError.queueFull(limit: 3)) {
                try await store.accept([StoreFixture.message(recipients: ["eve@example.org"])], idempotency: nil)
            }

            // Final outcomes make room again.
            let claimed = try await store.claimDueRecipients(owner: "a", now: origin, limit: 10, lease: .seconds(60))
            let delivered = claimed.prefix(2).map {
                RecipientOutcome(recipientID: $0.recipientID, kind: .delivered, response: nil, attempted: true, decidedAt: origin)
            }
            try await store.recordOutcomes(delivered, owner: "a")
            #expect(try await store.accept([StoreFixture.message()], idempotency: nil) == .accepted)
        }
    }

    @Test(arguments: StoreBackend.available)
    func queueLimitCountsWhatAnotherInstanceCanceledMeanwhile(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend, queueLimit: 2) { store, location async throws in
            let first = StoreFixture.message()
            _ = try await store.accept([first], idempotency: nil)
            let admin = try location.openInstance()
            #expect(try await admin.cancel(messageID: first.id, now: origin) != .notFound)
            await admin.close()
            #expect(try await store.accept([StoreFixture.message()], idempotency: nil) == .accepted)
        }
    }
}
