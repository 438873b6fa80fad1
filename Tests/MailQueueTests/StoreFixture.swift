import Foundation
import Testing
@testable import MailQueue

/// A store on real files in a fresh temporary directory, and messages to put in it.
enum StoreFixture {
    /// A fixed clock origin: tests pass `now` explicitly, so nothing waits on real time.
    static let origin = Date(timeIntervalSince1970: 1_800_000_000)

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("mailqueue-tests-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Opens a gateway-mode store in a new directory, runs `body`, then closes it
    /// and removes the directory.
    static func withStore(
        queueLimit: Int = SQLiteQueueStore.defaultQueueLimit,
        _ body: (SQLiteQueueStore, String) async throws -> Void
    ) async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteQueueStore(directory: directory, queueLimit: queueLimit)
        do {
            try await body(store, directory)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    static func message(
        createdAt: Date = origin, recipients: [String] = ["bob@example.org", "carol@example.net"],
        sendAt: Date? = nil, webhookURL: String? = "https://hooks.example.com/mail",
        tags: [String] = ["receipt"], content: [UInt8] = Array("Subject: hi\r\n\r\nhello\r\n".utf8)
    ) -> NewMessage {
        NewMessage(
            id: SortableID.generate(.message, at: createdAt), createdAt: createdAt, sendAt: sendAt,
            envelopeFrom: "alice@example.com",
            recipients: recipients.map { NewRecipient(email: $0, domain: String($0.split(separator: "@").last ?? "")) },
            fromDisplay: "Alice <alice@example.com>", subject: "Hello", tags: tags, metadataJSON: #"{"order":"1234"}"#,
            webhookURL: webhookURL, content: content, requiresSMTPUTF8: false, requires8BitMIME: false
        )
    }

    /// Accepts `count` messages created one second apart, oldest first; returns their ids.
    static func acceptMessages(_ count: Int, into store: SQLiteQueueStore, recipients: [String] = ["bob@example.org"]) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            let message = message(createdAt: origin.addingTimeInterval(Double(index)), recipients: recipients)
            #expect(try await store.accept([message], idempotency: nil) == .accepted)
            ids.append(message.id)
        }
        return ids
    }

    static func response(_ code: Int, _ enhanced: String, _ text: String) -> SMTPResponseRecord {
        SMTPResponseRecord(code: code, enhancedCode: enhanced, message: text, host: "mx.example.org")
    }
}

extension StoreError {
    /// True for `.unavailable`, whatever its text.
    var isUnavailable: Bool { if case .unavailable = self { true } else { false } }
}
