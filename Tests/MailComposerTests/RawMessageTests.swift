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
