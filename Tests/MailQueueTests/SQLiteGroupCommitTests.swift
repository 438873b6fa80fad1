import Dispatch
import Foundation
import Testing
@testable import MailQueue

@Suite struct SQLiteGroupCommitTests {
    let origin = StoreFixture.origin

    /// Holds the writer thread inside a batch until `release` is signalled, so that
    /// the writes sent meanwhile pile up and must share the next batch.
    private struct WriterGate: Sendable {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)

        func hold(_ store: SQLiteQueueStore) -> Task<Void, any Error> {
            let gate = self
            return Task {
                try await store.writer.perform(durable: false) { _ in
                    gate.started.signal()
                    gate.release.wait()
                }
            }
        }

        /// Waits (bounded) until `count` writes are queued behind the gate.
        func waitForQueue(_ store: SQLiteQueueStore, count: Int) async throws {
            for _ in 0..<1000 where store.writer.queuedWrites < count {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(store.writer.queuedWrites == count)
        }
    }

    @Test func concurrentAcceptsShareOneCommit() async throws {
        try await StoreFixture.withStore { store, _ async throws in
            let before = store.writeStatistics
            let gate = WriterGate()
            let holder = gate.hold(store)
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { gate.started.wait(); continuation.resume() }
            }
            let messages = (0..<200).map { StoreFixture.message(createdAt: origin.addingTimeInterval(Double($0))) }
            let accepts = Task {
                try await withThrowingTaskGroup(of: AcceptResult.self) { group in
                    for message in messages { group.addTask { try await store.accept([message], idempotency: nil) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            try await gate.waitForQueue(store, count: 200)
            gate.release.signal()
            try await holder.value
            let results = try await accepts.value

            #expect(results == Array(repeating: .accepted, count: 200))
            let after = store.writeStatistics
            #expect(after.operations - before.operations == 201)
            #expect(after.commits - before.commits == 2)
            #expect(after.durableCommits - before.durableCommits == 1)
            #expect(try await store.statistics(now: origin).recipientsByStatus[.queued] == 400)
        }
    }

    @Test func failingWriteInABatchFailsAlone() async throws {
        try await StoreFixture.withStore { store, _ async throws in
            let existing = StoreFixture.message()
            _ = try await store.accept([existing], idempotency: nil)
            let before = store.writeStatistics
            let gate = WriterGate()
            let holder = gate.hold(store)
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { gate.started.wait(); continuation.resume() }
            }
            let fresh = (1...4).map { StoreFixture.message(createdAt: origin.addingTimeInterval(Double($0))) }
            let batch = [fresh[0], fresh[1], existing, fresh[2], fresh[3]]
            let accepts = Task {
                await withTaskGroup(of: (String, Result<AcceptResult, StoreError>).self) { group in
                    for message in batch {
                        group.addTask {
                            do throws(StoreError) {
                                return (message.id, .success(try await store.accept([message], idempotency: nil)))
                            } catch {
                                return (message.id, .failure(error))
                            }
                        }
                    }
                    return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
                }
            }
            try await gate.waitForQueue(store, count: 5)
            gate.release.signal()
            try await holder.value
            let results = await accepts.value

            for message in fresh {
                #expect(try results[message.id]?.get() == .accepted)
                #expect(try await store.message(id: message.id, now: origin)?.recipients.count == 2)
            }
            #expect(throws: StoreError.self) { try results[existing.id]?.get() }
            #expect(store.writeStatistics.commits - before.commits == 2)
            #expect(try await store.statistics(now: origin).recipientsByStatus[.queued] == 10)
        }
    }

    @Test func fullDiskFailsTheWriteAsUnavailableAndTheStoreRecovers() async throws {
        try await StoreFixture.withStore { store, _ async throws in
            _ = try await store.accept([StoreFixture.message()], idempotency: nil)
            // Cap the database at its current size: the next growth is SQLITE_FULL.
            try await store.writer.perform(durable: false) { transaction throws(SQLiteError) in
                let pages = try transaction.connection.queryFirst("PRAGMA page_count") { $0.int(0) } ?? 0
                try transaction.connection.execute("PRAGMA max_page_count = \(pages)")
            }
            let large = StoreFixture.message(createdAt: origin.addingTimeInterval(1), content: Array(repeating: 0x61, count: 200_000))
            await #expect {
                try await store.accept([large], idempotency: nil)
            } throws: { error in
                (error as? StoreError)?.isUnavailable == true
            }
            #expect(await store.isAvailable() == false)
            #expect(try await store.message(id: large.id, now: origin) == nil)

            try await store.writer.perform(durable: false) { transaction throws(SQLiteError) in
                try transaction.connection.execute("PRAGMA max_page_count = 4294967294")
            }
            #expect(try await store.accept([large], idempotency: nil) == .accepted)
            #expect(await store.isAvailable())
            #expect(try await store.messageContent(id: large.id)?.content.count == 200_000)
        }
    }
}
