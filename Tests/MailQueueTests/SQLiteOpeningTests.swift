import Foundation
import Testing
@testable import MailQueue

/// What only the SQLite store does: the data directory's lock, files on disk,
/// schema versions in the file header, clearing a dead gateway's leases at open.
@Suite struct SQLiteOpeningTests {
    let origin = StoreFixture.origin

    @Test func gatewayOpenClearsTheLeasesOfADeadProcess() async throws {
        let directory = StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try SQLiteQueueStore(directory: directory)
        _ = try await StoreFixture.acceptMessages(2, into: first)
        #expect(try await first.claimDueRecipients(owner: "dead", now: origin.addingTimeInterval(10), limit: 10, lease: .seconds(3600)).count == 2)
        await first.close()

        let second = try SQLiteQueueStore(directory: directory)
        let retaken = try await second.claimDueRecipients(owner: "new", now: origin.addingTimeInterval(10), limit: 10, lease: .seconds(60))
        #expect(retaken.count == 2)
        await second.close()
    }

    @Test func secondGatewayIsRefusedWhileAdministrationWorksAlongside() async throws {
        try await StoreFixture.withStore { store, directory async throws in
            let ids = try await StoreFixture.acceptMessages(1, into: store)
            #expect(throws: StoreError.locked("\(directory) is in use by another mailgate process (pid \(getpid()))")) {
                try SQLiteQueueStore(directory: directory)
            }
            let admin = try SQLiteQueueStore(directory: directory, mode: .administration)
            #expect(try await admin.message(id: ids[0], now: origin) != nil)
            #expect(try await admin.retryNow(messageID: nil, now: origin) == 0)
            _ = try await admin.cancel(messageID: ids[0], now: origin)
            await admin.close()
            // The gateway sees what the administrator changed.
            #expect(try await store.message(id: ids[0], now: origin)?.status == .canceled)
        }
    }

    @Test func closingReleasesTheDirectory() async throws {
        let directory = StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try SQLiteQueueStore(directory: directory)
        await first.close()
        let second = try SQLiteQueueStore(directory: directory)
        await second.close()
        await #expect(throws: StoreError.closed) { try await first.nextRecipientDue() }
        await #expect(throws: StoreError.closed) { try await first.accept([StoreFixture.message()], idempotency: nil) }
        #expect(await first.isAvailable() == false)
    }

    /// The kernel drops a `flock` when its holder dies, `kill -9` included.
    @Test func lockOfAKilledProcessIsFree() async throws {
        let directory = StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            """
            import fcntl, os, sys, time
            fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0); os.write(fd, b"%d\\n" % os.getpid())
            print("locked", flush=True)
            time.sleep(60)
            """,
            "\(directory)/\(SQLiteQueueStore.lockFileName)",
        ]
        let output = Pipe()
        holder.standardOutput = output
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        // The holder prints once it holds the lock (or exits, ending the read).
        let line = output.fileHandleForReading.availableData
        #expect(String(decoding: line, as: UTF8.self).hasPrefix("locked"))

        #expect(throws: StoreError.locked("\(directory) is in use by another mailgate process (pid \(holder.processIdentifier))")) {
            try SQLiteQueueStore(directory: directory)
        }
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let store = try SQLiteQueueStore(directory: directory)
        await store.close()
    }

    @Test func reopeningKeepsTheDataAndTheSchemaVersion() async throws {
        let directory = StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try SQLiteQueueStore(directory: "\(directory)/nested/data")
        let ids = try await StoreFixture.acceptMessages(3, into: first)
        await first.close()

        let second = try SQLiteQueueStore(directory: "\(directory)/nested/data")
        #expect(try await second.listMessages(status: nil, limit: 10, cursor: nil, now: origin).messages.map(\.id) == ids.reversed())
        await second.close()
        let connection = try SQLiteConnection(path: "\(directory)/nested/data/\(SQLiteQueueStore.databaseFileName)")
        #expect(try connection.queryFirst("PRAGMA user_version") { $0.int(0) } == QueueSchema.currentVersion)
        #expect(try connection.queryFirst("PRAGMA journal_mode") { $0.text(0) } == "wal")
    }

    @Test func databaseFromANewerMailgateIsRefused() async throws {
        let directory = StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let connection = try SQLiteConnection(path: "\(directory)/\(SQLiteQueueStore.databaseFileName)")
        try connection.execute("PRAGMA user_version = \(QueueSchema.currentVersion + 1)")
        #expect {
            try SQLiteQueueStore(directory: directory)
        } throws: { error in
            (error as? StoreError)?.isUnavailable == true
        }
    }

    /// What a `kill -9` leaves: the files as they are while the store runs, never
    /// closed or checkpointed. Every accepted message is in them (most still only
    /// in the WAL), and a new gateway finds it and can claim it.
    @Test func filesOfAStoreThatNeverClosedHoldEveryAcceptedMessage() async throws {
        try await StoreFixture.withStore { store, directory async throws in
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let message = StoreFixture.message(createdAt: origin.addingTimeInterval(Double(index)))
                        _ = try await store.accept([message], idempotency: nil)
                        return message.id
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let copy = StoreFixture.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: copy) }
            let wal = "\(directory)/\(SQLiteQueueStore.databaseFileName)-wal"
            let walSize = try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int ?? 0
            #expect(walSize > 0)
            for suffix in ["", "-wal"] {
                let name = SQLiteQueueStore.databaseFileName + suffix
                try FileManager.default.copyItem(atPath: "\(directory)/\(name)", toPath: "\(copy)/\(name)")
            }

            let recovered = try SQLiteQueueStore(directory: copy)
            for id in ids { #expect(try await recovered.message(id: id, now: origin)?.recipients.count == 2) }
            let claimed = try await recovered.claimDueRecipients(owner: "new", now: origin.addingTimeInterval(60), limit: 500, lease: .seconds(60))
            #expect(claimed.count == 100)
            await recovered.close()
        }
    }
}
