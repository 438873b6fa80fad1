import Dispatch
import Foundation
import Testing
@testable import MailQueue

/// What only the PostgreSQL store does: migrations under an advisory lock, several
/// gateways on one queue, giving back its own leases at close, group commit on
/// its writer threads, and a server that goes away and comes back.
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.skipNote))
struct PostgresStoreTests {
    let origin = StoreFixture.origin

    /// Opens a store on `url`, runs `body`, closes the store.
    private func withStore(
        _ url: String, _ configuration: PostgresQueueStore.Configuration? = nil, _ body: (PostgresQueueStore) async throws -> Void
    ) async throws {
        let store = try PostgresQueueStore(configuration: configuration ?? PostgresTestServer.configuration(url: url))
        do {
            try await body(store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    @Test func gatewaysStartingTogetherMigrateOnce() async throws {
        try await PostgresTestServer.withDatabase { url in
            let stores = try await withThrowingTaskGroup(of: PostgresQueueStore.self) { group in
                for _ in 0..<4 {
                    group.addTask { try PostgresQueueStore(configuration: PostgresTestServer.configuration(url: url)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for store in stores { await store.close() }
            #expect(stores.count == 4)
            let versions = try PostgresTestServer.withConnection(url) { try PostgresSchema.appliedVersions($0) }
            #expect(versions == Array(1...PostgresSchema.currentVersion))
        }
    }

    @Test func databaseFromANewerMailgateIsRefused() async throws {
        try await PostgresTestServer.withDatabase { url in
            try await withStore(url) { _ in }
            _ = try PostgresTestServer.withConnection(url) { connection in
                try connection.run("INSERT INTO mailgate_schema_migrations (version) VALUES ($1)", [.int(PostgresSchema.currentVersion + 1)])
            }
            #expect {
                try PostgresQueueStore(configuration: PostgresTestServer.configuration(url: url))
            } throws: { error in
                (error as? StoreError)?.isUnavailable == true
            }
        }
    }

    /// Several gateways share the queue: opening one clears nobody's leases, and
    /// closing one gives back only its own, recipients and events.
    @Test func closingGivesBackOnlyItsOwnLeases() async throws {
        try await PostgresTestServer.withDatabase { url in
            try await withStore(url) { survivor in
                let ids = try await StoreFixture.acceptMessages(3, into: survivor)
                let departing = try PostgresQueueStore(configuration: PostgresTestServer.configuration(url: url))
                let now = origin.addingTimeInterval(10)
                let theirs = try await departing.claimDueRecipients(owner: "departing", now: now, limit: 2, lease: .seconds(3600))
                let ours = try await survivor.claimDueRecipients(owner: "survivor", now: now, limit: 10, lease: .seconds(3600))
                #expect(theirs.count == 2 && ours.count == 1)
                try await survivor.recordOutcomes(
                    [RecipientOutcome(recipientID: ours[0].recipientID, kind: .delivered, response: nil, attempted: true, decidedAt: now)],
                    owner: "survivor")
                let event = try #require(try await departing.claimDueWebhooks(owner: "departing", now: now, limit: 10, lease: .seconds(3600)).first)
                // A third gateway starting up leaves the live leases alone.
                try await withStore(url) { newcomer async throws in
                    #expect(try await newcomer.claimDueRecipients(owner: "newcomer", now: now, limit: 10, lease: .seconds(60)).isEmpty)
                }

                await departing.close()
                let retaken = try await survivor.claimDueRecipients(owner: "survivor", now: now, limit: 10, lease: .seconds(60))
                #expect(Set(retaken.map(\.recipientID)) == Set(theirs.map(\.recipientID)))
                #expect(Set(retaken.map(\.messageID)).isSubset(of: ids))
                let webhooks = try await survivor.claimDueWebhooks(owner: "survivor", now: now, limit: 10, lease: .seconds(60))
                #expect(webhooks.map(\.eventID) == [event.eventID])
                #expect(webhooks.first?.postAttempts == 0)
            }
        }
    }

    /// Two gateways finish the last two recipients of a message at the same time:
    /// the message still ends `complete` (each locks the message before it decides).
    @Test func twoGatewaysFinishingOneMessageLeaveItComplete() async throws {
        try await PostgresTestServer.withDatabase { url in
            try await withStore(url) { first in
                try await withStore(url) { second in
                    var ids: [String] = []
                    for index in 0..<20 {
                        let message = StoreFixture.message(createdAt: origin.addingTimeInterval(Double(index)), recipients: ["a@x.org", "b@y.org"])
                        _ = try await first.accept([message], idempotency: nil)
                        ids.append(message.id)
                    }
                    let now = origin.addingTimeInterval(100)
                    for _ in ids {
                        let mine = try await first.claimDueRecipients(owner: "first", now: now, limit: 1, lease: .seconds(60))
                        let theirs = try await second.claimDueRecipients(owner: "second", now: now, limit: 1, lease: .seconds(60))
                        try #require(mine.count == 1 && theirs.count == 1)
                        async let one: Void = first.recordOutcomes(
                            [RecipientOutcome(recipientID: mine[0].recipientID, kind: .delivered, response: nil, attempted: true, decidedAt: now)],
                            owner: "first")
                        async let other: Void = second.recordOutcomes(
                            [RecipientOutcome(recipientID: theirs[0].recipientID, kind: .bounced, response: nil, attempted: true, decidedAt: now)],
                            owner: "second")
                        _ = try await (one, other)
                    }
                    let complete = try await first.listMessages(status: .complete, limit: 100, cursor: nil, now: now).messages
                    #expect(Set(complete.map(\.id)) == Set(ids))
                }
            }
        }
    }

    /// PostgreSQL text cannot hold NUL, and libpq would cut a parameter there: such a
    /// write is refused whole (the API refuses NUL before it gets here).
    @Test func textWithANULByteIsRefusedNotCut() async throws {
        try await PostgresTestServer.withDatabase { url in
            try await withStore(url) { store async throws in
                var message = StoreFixture.message()
                message.subject = "cut\u{0}here"
                await #expect {
                    try await store.accept([message], idempotency: nil)
                } throws: { error in
                    if case .database(let code, _) = error as? StoreError { code == 22021 } else { false }
                }
                #expect(try await store.message(id: message.id, now: origin) == nil)
            }
        }
    }

    /// The same idempotency key sent to two gateways at once stores one message.
    @Test func oneKeyAcrossGatewaysStoresOneMessage() async throws {
        try await PostgresTestServer.withDatabase { url in
            try await withStore(url) { first in
                try await withStore(url) { second in
                    let record = IdempotencyRecord(key: "race", bodyHash: "h", responseStatus: 202, responseBody: [1, 2], createdAt: origin)
                    let messages = (0..<16).map { StoreFixture.message(createdAt: origin.addingTimeInterval(Double($0))) }
                    let results = try await withThrowingTaskGroup(of: AcceptResult.self) { group in
                        for (index, message) in messages.enumerated() {
                            let store = index.isMultiple(of: 2) ? first : second
                            group.addTask { try await store.accept([message], idempotency: record) }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    #expect(results.filter { $0 == .accepted }.count == 1)
                    #expect(results.filter { $0 == .alreadyAccepted(record) }.count == 15)
                    #expect(try await first.statistics(now: origin).recipientsByStatus[.queued] == 2)
                }
            }
        }
    }

    /// With one writer thread held inside a batch, the writes sent meanwhile pile
    /// up and share the next transaction; a failing one fails alone.
    @Test func concurrentWritesShareOneCommitAndAFailureFailsAlone() async throws {
        try await PostgresTestServer.withDatabase { url in
            try await withStore(url, PostgresTestServer.configuration(url: url, writers: 1)) { store in
                let existing = StoreFixture.message()
                _ = try await store.accept([existing], idempotency: nil)
                let before = store.writeStatistics
                let started = DispatchSemaphore(value: 0)
                let release = DispatchSemaphore(value: 0)
                let holder = Task {
                    try await store.writer.perform(durable: false) { _ in
                        started.signal()
                        release.wait()
                    }
                }
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().async { started.wait(); continuation.resume() }
                }
                let fresh = (1...100).map { StoreFixture.message(createdAt: origin.addingTimeInterval(Double($0))) }
                let batch = Array(fresh[..<50]) + [existing] + Array(fresh[50...])
                let accepts = Task {
                    await withTaskGroup(of: (String, Bool).self) { group in
                        for message in batch {
                            group.addTask { (message.id, (try? await store.accept([message], idempotency: nil)) == .accepted) }
                        }
                        return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
                    }
                }
                for _ in 0..<1000 where store.writer.queuedWrites < batch.count {
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(store.writer.queuedWrites == batch.count)
                release.signal()
                try await holder.value
                let results = await accepts.value

                #expect(fresh.allSatisfy { results[$0.id] == true })
                #expect(results[existing.id] == false)
                let after = store.writeStatistics
                #expect(after.commits - before.commits == 2)
                #expect(after.operations - before.operations == 101)
                #expect(try await store.statistics(now: origin).recipientsByStatus[.queued] == 202)
            }
        }
    }

    /// The server stops (the proxy cuts every connection and refuses new ones):
    /// calls fail as unavailable instead of hanging, and once it is back the pool
    /// reconnects and nothing accepted before is lost.
    @Test(.timeLimit(.minutes(2))) func serverThatGoesAwayAndComesBack() async throws {
        try await PostgresTestServer.withDatabase { url in
            let proxy = try TCPProxy(targetPort: UInt16(try #require(URLComponents(string: url)?.port)))
            defer { proxy.stop() }
            try await withStore(proxy.proxied(url)) { store in
                let before = try await StoreFixture.acceptMessages(3, into: store)
                #expect(await store.isAvailable())

                proxy.set(.cut)
                await #expect {
                    try await store.accept([StoreFixture.message()], idempotency: nil)
                } throws: { error in
                    (error as? StoreError)?.isUnavailable == true
                }
                await #expect(throws: StoreError.self) { try await store.message(id: before[0], now: origin) }
                #expect(await store.isAvailable() == false)

                proxy.set(.forward)
                var available = false
                for _ in 0..<100 where !available {
                    available = await store.isAvailable()
                    if !available { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(available)
                let after = StoreFixture.message(createdAt: origin.addingTimeInterval(100))
                var accepted: AcceptResult?
                for _ in 0..<50 where accepted == nil {
                    accepted = try? await store.accept([after], idempotency: nil)
                    if accepted == nil { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(accepted == .accepted)
                for id in before { #expect(try await store.message(id: id, now: origin)?.recipients.count == 1) }
                #expect(try await store.message(id: after.id, now: origin)?.recipients.count == 2)
            }
        }
    }

    /// The server stops answering with connections left open (paused, or the
    /// network drops packets): calls end as unavailable at the timeouts.
    @Test(.timeLimit(.minutes(2))) func serverThatHangsTimesOut() async throws {
        try await PostgresTestServer.withDatabase { url in
            let proxy = try TCPProxy(targetPort: UInt16(try #require(URLComponents(string: url)?.port)))
            defer { proxy.stop() }
            let configuration = PostgresQueueStore.Configuration(
                url: proxy.proxied(url), writerConnections: 1, readerConnections: 1,
                connectTimeout: .seconds(2), statementTimeout: .seconds(1))
            try await withStore(url, configuration) { store in
                let ids = try await StoreFixture.acceptMessages(1, into: store)
                proxy.set(.hang)
                await #expect {
                    try await store.accept([StoreFixture.message()], idempotency: nil)
                } throws: { error in
                    (error as? StoreError)?.isUnavailable == true
                }
                await #expect(throws: StoreError.self) { try await store.message(id: ids[0], now: origin) }
                // New connections hang too: connecting times out.
                await #expect(throws: StoreError.self) { try await store.nextRecipientDue() }
                proxy.set(.forward)
            }
        }
    }
}
