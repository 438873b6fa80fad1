import Foundation
import Testing
@testable import MailQueue

/// `kill -9` for real: this test binary runs again as a child that accepts
/// messages and claims recipients until it is killed; the parent then opens the
/// same directory as a new gateway would.
@Suite struct SQLiteCrashTests {
    static let childDirectoryVariable = "MAILQUEUE_CRASH_CHILD_DIR"
    static let childDirectory = ProcessInfo.processInfo.environment[childDirectoryVariable]

    @Test func everyAcceptedMessageSurvivesKillNine() async throws {
        let directory = StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["--testing-library", "swift-testing", "--filter", "crashChildWritesUntilKilled"]
        child.environment = ProcessInfo.processInfo.environment.merging([Self.childDirectoryVariable: directory]) { $1 }
        let output = Pipe()
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        try child.run()
        defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }

        // Read what the child reports until 400 messages were accepted (or it ended).
        var text = ""
        while text.components(separatedBy: "accepted ").count <= 400 {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        let accepted = lines.compactMap { $0.hasPrefix("accepted ") ? String($0.dropFirst(9)) : nil }
        let claimed = Set(lines.compactMap { $0.hasPrefix("claimed ") ? Int64($0.dropFirst(8)) : nil })
        #expect(accepted.count >= 400)
        #expect(!claimed.isEmpty)

        let store = try SQLiteQueueStore(directory: directory)
        for id in accepted {
            #expect(try await store.message(id: id, now: Date())?.recipients.count == 2, "lost \(id)")
        }
        // The dead gateway's hour-long leases are gone: its recipients are claimable at once.
        let retaken = try await store.claimDueRecipients(owner: "restarted", now: Date().addingTimeInterval(1), limit: 100_000, lease: .seconds(60))
        #expect(claimed.isSubset(of: retaken.map(\.recipientID)))
        await store.close()
    }

    /// The child's part; it runs only when the parent sets the directory.
    @Test(.enabled(if: childDirectory != nil)) func crashChildWritesUntilKilled() async throws {
        let store = try SQLiteQueueStore(directory: try #require(Self.childDirectory))
        let deadline = Date().addingTimeInterval(60)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    while Date() < deadline {
                        let message = StoreFixture.message(createdAt: Date())
                        _ = try await store.accept([message], idempotency: nil)
                        Self.report("accepted \(message.id)\n")
                        guard writer == 0 else { continue }
                        let claimed = try await store.claimDueRecipients(owner: "doomed", now: Date(), limit: 2, lease: .seconds(3600))
                        for recipient in claimed { Self.report("claimed \(recipient.recipientID)\n") }
                    }
                }
            }
            try await group.waitForAll()
        }
        await store.close()
    }

    /// One `write(2)` per line, so that what the parent reads was said after the
    /// store returned, and no buffer holds it back at the kill.
    private static func report(_ line: String) {
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }
}
