import Foundation
import MailgateTesting
@testable import MailComposer

enum Fixture {
    static let messageID = MessageID(id: "msg_01jdq3z7x8k9m2n4p6r8t0v2w4", host: "mx.gateway.test")!
    /// 2026-11-30T12:00:00Z, a Monday.
    static let date = Date(timeIntervalSince1970: 1_796_040_000)

    static func mailbox(_ text: String) -> Mailbox {
        try! Mailbox.parse(text)
    }

    static func draft(
        to: [String] = ["Bob <bob@example.org>"], subject: String? = "Hello", text: String? = "Hi Bob.\n",
        html: String? = nil
    ) -> MessageDraft {
        MessageDraft(
            from: mailbox("Alice <alice@example.com>"), to: to.map(mailbox), subject: subject, text: text, html: html,
            messageID: messageID, date: date
        )
    }

    static func compose(_ draft: MessageDraft, seed: UInt64 = 1) throws -> ComposedMessage {
        var generator = SeededGenerator(seed: seed)
        return try MessageComposer.compose(draft, using: &generator)
    }
}

/// The physical lines of a message, split at CRLF.
struct MessageLines {
    let lines: [ArraySlice<UInt8>]
    /// Every line ended with CRLF, with no CR or LF elsewhere.
    let hasOnlyCRLF: Bool

    init(_ bytes: [UInt8]) {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var onlyCRLF = true
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A {
                lines.append(bytes[start..<index])
                index += 2
                start = index
            } else {
                if bytes[index] == 0x0D || bytes[index] == 0x0A { onlyCRLF = false }
                index += 1
            }
        }
        if start != bytes.count { onlyCRLF = false }
        self.lines = lines
        self.hasOnlyCRLF = onlyCRLF
    }

    var longest: Int { lines.map(\.count).max() ?? 0 }

    /// Lines of the message's own header section.
    var headerLines: [ArraySlice<UInt8>] {
        Array(lines.prefix { !$0.isEmpty })
    }

    static func text(_ line: ArraySlice<UInt8>) -> String {
        String(decoding: line, as: UTF8.self)
    }
}

extension String {
    /// The text with every line end (CRLF, LF, CR) made CRLF.
    var withCRLF: String {
        var result = ""
        var previousWasCR = false
        for scalar in unicodeScalars {
            switch scalar {
            case "\r":
                result += "\r\n"
                previousWasCR = true
            case "\n":
                if !previousWasCR { result += "\r\n" }
                previousWasCR = false
            default:
                result.unicodeScalars.append(scalar)
                previousWasCR = false
            }
        }
        return result
    }
}
