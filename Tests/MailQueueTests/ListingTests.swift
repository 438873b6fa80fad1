import Foundation
import Testing
@testable import MailQueue

@Suite struct ListingTests {
    let origin = StoreFixture.origin

    @Test(arguments: StoreBackend.available)
    func pagesWalkNewestFirstToTheEnd(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let ids = try await StoreFixture.acceptMessages(25, into: store)
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await store.listMessages(status: nil, limit: 10, cursor: cursor, now: origin)
                #expect(page.messages.allSatisfy { $0.events.isEmpty && $0.recipients.count == 1 })
                seen += page.messages.map(\.id)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == ids.reversed())
        }
    }

    @Test(arguments: StoreBackend.available)
    func exactlyFullLastPageHasNoCursor(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            _ = try await StoreFixture.acceptMessages(4, into: store)
            let first = try await store.listMessages(status: nil, limit: 2, cursor: nil, now: origin)
            let second = try await store.listMessages(status: nil, limit: 2, cursor: first.nextCursor, now: origin)
            #expect(first.nextCursor == first.messages.last?.id)
            #expect(second.messages.count == 2)
            #expect(second.nextCursor == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func statusFilterUsesTheMessageStatus(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            let ids = try await StoreFixture.acceptMessages(4, into: store)
            let scheduled = StoreFixture.message(createdAt: origin.addingTimeInterval(10), sendAt: origin.addingTimeInterval(100))
            _ = try await store.accept([scheduled], idempotency: nil)
            _ = try await store.cancel(messageID: ids[0], now: origin)
            let claimed = try await store.claimDueRecipients(owner: "d", now: origin.addingTimeInterval(1), limit: 1, lease: .seconds(60))
            #expect(claimed.map(\.messageID) == [ids[1]])
            try await store.recordOutcomes(
                [RecipientOutcome(recipientID: claimed[0].recipientID, kind: .delivered, response: nil, attempted: true, decidedAt: origin)],
                owner: "d")

            func list(_ status: MessageStatus?, at now: Date) async throws -> [String] {
                try await store.listMessages(status: status, limit: 50, cursor: nil, now: now).messages.map(\.id)
            }
            let now = origin.addingTimeInterval(20)
            #expect(try await list(.canceled, at: now) == [ids[0]])
            #expect(try await list(.complete, at: now) == [ids[1]])
            #expect(try await list(.queued, at: now) == [ids[3], ids[2]])
            #expect(try await list(.scheduled, at: now) == [scheduled.id])
            #expect(try await list(nil, at: now).count == 5)

            // Once send_at has passed, the scheduled message lists (and reads) as queued.
            let later = origin.addingTimeInterval(200)
            #expect(try await list(.scheduled, at: later).isEmpty)
            #expect(try await list(.queued, at: later) == [scheduled.id, ids[3], ids[2]])
            let page = try await store.listMessages(status: .queued, limit: 2, cursor: nil, now: later)
            #expect(page.messages.map(\.id) == [scheduled.id, ids[3]])
            #expect(page.messages.first?.status == .queued)
            let next = try await store.listMessages(status: .queued, limit: 2, cursor: page.nextCursor, now: later)
            #expect(next.messages.map(\.id) == [ids[2]])
            #expect(next.nextCursor == nil)
        }
    }

    @Test(arguments: StoreBackend.available)
    func malformedCursorIsRefused(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            for cursor in ["", "msg_", "abc", "msg_ABC", "msg_a'--", "evt_0123", "msg_" + String(repeating: "a", count: 65)] {
                await #expect(throws: StoreError.invalidCursor(cursor)) {
                    try await store.listMessages(status: nil, limit: 10, cursor: cursor, now: origin)
                }
            }
            let unknown = SortableID.generate(.message, at: origin)
            #expect(try await store.listMessages(status: nil, limit: 10, cursor: unknown, now: origin).messages.isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func limitIsClampedToItsRange(_ backend: StoreBackend) async throws {
        try await StoreFixture.withStore(backend) { store, _ async throws in
            _ = try await StoreFixture.acceptMessages(3, into: store)
            #expect(try await store.listMessages(status: nil, limit: 0, cursor: nil, now: origin).messages.count == 1)
            #expect(try await store.listMessages(status: nil, limit: 10_000, cursor: nil, now: origin).messages.count == 3)
        }
    }

    @Test func sortableIDsSortByTime() {
        let earlier = SortableID.generate(.message, at: origin)
        let later = SortableID.generate(.message, at: origin.addingTimeInterval(0.001))
        #expect(earlier < later)
        #expect(earlier.count == 30)
        #expect(SortableID.isValid(earlier, kind: .message))
        #expect(!SortableID.isValid(earlier, kind: .event))
    }
}
