import Foundation
import MailComposer
import Testing

@Suite struct RawMessageTests {
    @Test(arguments: [
        ("Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n\r\nbody\r\n"),
        ("Subject: x\n\nbody\n", "Subject: x\r\n\r\nbody\r\n"),
        ("Subject: x\r\rbody", "Subject: x\r\n\r\nbody\r\n"),
        ("Subject: x\r\n\nbody\rmore\n\r", "Subject: x\r\n\r\nbody\r\nmore\r\n\r\n"),
        ("Subject: x\r\n  folded\r\nX-Other:y", "Subject: x\r\n  folded\r\nX-Other:y\r\n"),
        ("From: a@b.c\n\n.\n..\nFrom the start\n", "From: a@b.c\r\n\r\n.\r\n..\r\nFrom the start\r\n"),
    ])
    func normalisesLineEndsOnly(_ input: String, _ expected: String) throws {
        let message = try RawMessage.normalize(Array(input.utf8))
        #expect(message.bytes == Array(expected.utf8))
        #expect(!message.has8BitContent)
        #expect(!message.requiresSMTPUTF8)
    }

    @Test func reportsEightBitContent() throws {
        let body = try RawMessage.normalize(Array("Subject: x\n\nGrüße\n".utf8))
        #expect(body.has8BitContent)
        #expect(!body.requiresSMTPUTF8)
        let header = try RawMessage.normalize(Array("To: jörg@example.de\n\nhi\n".utf8))
        #expect(header.has8BitContent)
        #expect(header.requiresSMTPUTF8)
        let binary = try RawMessage.normalize(Array("Subject: x\n\n".utf8) + [0xFF, 0x00, 0x80])
        #expect(binary.bytes == Array("Subject: x\r\n\r\n".utf8) + [0xFF, 0x00, 0x80, 0x0D, 0x0A])
    }

    static let refused: [(String, RawMessageError)] = [
        ("", .empty),
        ("just a body line\n", .missingHeaderSection),
        (" continuation first: x\n", .missingHeaderSection),
        (": no name\n", .missingHeaderSection),
        ("Subject: x\nbody without a separator\n", .malformedHeaderLine(line: 2)),
        ("Subject: x\n" + String(repeating: "a", count: 999) + "\n", .lineTooLong(line: 2, octets: 999)),
        ("Subject: x\n\n" + String(repeating: "b", count: 998) + "\n" + String(repeating: "c", count: 1000), .lineTooLong(line: 4, octets: 1000)),
    ]

    @Test(arguments: refused)
    func refusesWhatCannotBeSent(_ input: String, _ error: RawMessageError) {
        #expect(throws: error) { try RawMessage.normalize(Array(input.utf8)) }
        #expect(!error.message.isEmpty)
    }

    @Test func acceptsLinesOfExactly998Octets() throws {
        let line = String(repeating: "z", count: 998)
        let message = try RawMessage.normalize(Array("Subject: x\n\n\(line)".utf8))
        #expect(MessageLines(message.bytes).longest == 998)
    }

    @Test func acceptsAHeaderOnlyMessage() throws {
        let message = try RawMessage.normalize(Array("Subject: only headers".utf8))
        #expect(message.bytes == Array("Subject: only headers\r\n".utf8))
    }
}

@Suite struct RawMessageHeaderCompletionTests {
    let id = MessageID(id: "msg_01jdq3z7x8k9m2n4p6r8t0v2w4", host: "gw.test")!
    let date = Date(timeIntervalSince1970: 1_796_040_000)

    func complete(_ text: String) throws -> String {
        let normalized = try RawMessage.normalize(Array(text.utf8))
        return String(decoding: RawMessage.completingHeaders(normalized, messageID: id, date: date).bytes, as: UTF8.self)
    }

    @Test func addsDateAndMessageIDWhenMissing() throws {
        #expect(try complete("Subject: x\r\n\r\nbody\r\n")
            == "Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <msg_01jdq3z7x8k9m2n4p6r8t0v2w4@gw.test>\r\nSubject: x\r\n\r\nbody\r\n")
    }

    @Test func keepsTheCallersOwnAndChangesNothingElse() throws {
        let message = "Message-ID: <own@x>\r\nDATE: Tue, 1 Dec 2026 09:00:00 +0100\r\nX-A: 1\r\n\r\nBcc: not a header here\r\n"
        #expect(try complete(message) == message)
    }

    @Test func removesBccFieldsWithTheirContinuations() throws {
        let message = "Date: x\r\nMessage-ID: <own@x>\r\nBcc: a@x,\r\n  b@y\r\nTo: c@z\r\nbcc: d@w\r\n\r\nbody\r\n"
        #expect(try complete(message) == "Date: x\r\nMessage-ID: <own@x>\r\nTo: c@z\r\n\r\nbody\r\n")
    }

    @Test func handlesAMessageWithoutBody() throws {
        #expect(try complete("Date: x\r\nMessage-ID: <a@b>\r\nBcc: q@r") == "Date: x\r\nMessage-ID: <a@b>\r\n")
    }
}
