import Testing
@testable import SMTPClient

@Suite("SMTP reply parser")
struct SMTPReplyParserTests {
    /// Parses every reply in `text`, feeding it in two parts split at `offset`.
    private func parse(_ text: String, splitAt offset: Int? = nil) throws -> [SMTPReply] {
        let bytes = Array(text.utf8)
        var parser = SMTPReplyParser()
        var replies: [SMTPReply] = []
        let cut = offset ?? bytes.count
        for part in [bytes[..<cut], bytes[cut...]] {
            parser.append(part)
            while let reply = try parser.nextReply() { replies.append(reply) }
        }
        #expect(!parser.hasPartialReply)
        return replies
    }

    @Test func multiLineReplyGivesTheSameResultAtEveryByteSplit() throws {
        let text = "250-mx.example.org greets you\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n354 go ahead\r\n"
        for offset in 0...text.utf8.count {
            let replies = try parse(text, splitAt: offset)
            #expect(replies.map(\.code) == [250, 354], "split at \(offset)")
            #expect(replies.first?.lines == ["mx.example.org greets you", "PIPELINING", "SIZE 1000", "8BITMIME"])
            #expect(replies.last?.message == "go ahead")
        }
    }

    @Test func fedOneByteAtATime() throws {
        var parser = SMTPReplyParser()
        var replies: [SMTPReply] = []
        for byte in "220 ready\r\n421-4.3.2 shutting\r\n421 4.3.2 down\r\n".utf8 {
            parser.append([byte])
            while let reply = try parser.nextReply() { replies.append(reply) }
        }
        #expect(replies.map(\.code) == [220, 421])
        #expect(replies[1].lines == ["shutting", "down"])
        #expect(replies[1].enhancedCode == EnhancedStatusCode(statusClass: 4, subject: 3, detail: 2))
    }

    @Test func enhancedCodeIsSplitOffOnlyWhenItsClassMatches() throws {
        let replies = try parse("550 5.1.1 <bob@x.test>: unknown\r\n451 5.1.1 odd\r\n250 2.0.0\r\n252 2.1.5.9 not a code\r\n")
        #expect(replies[0].enhancedCode?.description == "5.1.1")
        #expect(replies[0].message == "<bob@x.test>: unknown")
        #expect(replies[1].enhancedCode == nil)
        #expect(replies[1].message == "5.1.1 odd")
        #expect(replies[2].enhancedCode?.description == "2.0.0")
        #expect(replies[2].message == "")
        #expect(replies[3].enhancedCode == nil)
    }

    @Test func replyClasses() throws {
        let replies = try parse("250 ok\r\n354 data\r\n451 later\r\n554 never\r\n421 bye\r\n")
        #expect(replies.map(\.isPositive) == [true, false, false, false, false])
        #expect(replies.map(\.isIntermediate) == [false, true, false, false, false])
        #expect(replies.map(\.isTransient) == [false, false, true, false, true])
        #expect(replies.map(\.isPermanent) == [false, false, false, true, false])
        #expect(replies.map(\.isClosingConnection) == [false, false, false, false, true])
    }

    @Test func toleratesBareLineFeedsAndCodeOnlyLines() throws {
        let replies = try parse("250\n220 ok\r\n")
        #expect(replies.map(\.code) == [250, 220])
        #expect(replies[0].lines == [""])
    }

    @Test(arguments: [
        "25 short\r\n", "abc text\r\n", "250*star\r\n", "150 too low\r\n", "650 too high\r\n", "\r\n",
    ])
    func malformedLinesAreProtocolErrors(_ text: String) {
        var parser = SMTPReplyParser()
        parser.append(Array(text.utf8))
        #expect(throws: SMTPProtocolViolation.self) { try parser.nextReply() }
    }

    @Test func codesMustAgreeAcrossLines() {
        var parser = SMTPReplyParser()
        parser.append(Array("250-first\r\n251 second\r\n".utf8))
        #expect(throws: SMTPProtocolViolation.inconsistentCode(first: 250, later: 251)) { try parser.nextReply() }
    }

    @Test func overlongLineIsRefusedWithoutWaitingForItsEnd() {
        var parser = SMTPReplyParser()
        parser.append(Array("250 ".utf8) + Array(repeating: UInt8(ascii: "x"), count: SMTPReplyParser.maximumLineLength))
        #expect(throws: SMTPProtocolViolation.lineTooLong(limit: SMTPReplyParser.maximumLineLength)) { try parser.nextReply() }
    }

    @Test func lineJustUnderTheCapIsAccepted() throws {
        let text = "250 " + String(repeating: "x", count: SMTPReplyParser.maximumLineLength - 6) + "\r\n"
        #expect(try parse(text).first?.code == 250)
    }

    @Test func tooManyLinesInOneReplyIsRefused() {
        var parser = SMTPReplyParser()
        let lines = String(repeating: "250-more\r\n", count: SMTPReplyParser.maximumLinesPerReply + 1)
        parser.append(Array(lines.utf8))
        #expect(throws: SMTPProtocolViolation.tooManyLines(limit: SMTPReplyParser.maximumLinesPerReply)) { try parser.nextReply() }
    }

    @Test func synthesizedReplyDescribesItself() {
        let reply = SMTPReply(code: 552, enhancedCode: EnhancedStatusCode(statusClass: 5, subject: 3, detail: 4), text: "too big")
        #expect(reply.description == "552 5.3.4 too big")
        #expect(reply.isPermanent)
    }
}
