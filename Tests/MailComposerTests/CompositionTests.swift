import Foundation
import MailComposer
import Testing

/// Composed messages read back by Python's `email` package and compared field
/// by field.
@Suite struct CompositionTests {
    @Test func writesGatewayHeadersInOrderAndNeverBcc() throws {
        var draft = Fixture.draft(to: ["bob@example.org", "Carol <carol@example.net>"])
        draft.cc = [Fixture.mailbox("dave@example.com")]
        draft.bcc = [Fixture.mailbox("Audit <audit@example.com>")]
        draft.replyTo = [Fixture.mailbox("support@example.com")]
        draft.headers = [HeaderField(name: "X-Campaign", value: "fall"), HeaderField(name: "X-Order", value: "1234")]
        let message = try Fixture.compose(draft)
        let parsed = try PythonEmailParser.parse(message.bytes)

        #expect(parsed.headerNames == [
            "Date", "From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "MIME-Version", "X-Campaign", "X-Order",
            "Content-Type", "Content-Transfer-Encoding",
        ])
        #expect(parsed.date == "2026-11-30T12:00:00+00:00")
        #expect(parsed.from == [ParsedAddress(name: "Alice", username: "alice", domain: "example.com")])
        #expect(parsed.to == [
            ParsedAddress(name: "", username: "bob", domain: "example.org"),
            ParsedAddress(name: "Carol", username: "carol", domain: "example.net"),
        ])
        #expect(parsed.cc == [ParsedAddress(name: "", username: "dave", domain: "example.com")])
        #expect(parsed.replyTo == [ParsedAddress(name: "", username: "support", domain: "example.com")])
        #expect(parsed.messageID == "<msg_01jdq3z7x8k9m2n4p6r8t0v2w4@mx.gateway.test>")
        #expect(parsed.header("MIME-Version") == ["1.0"])
        #expect(parsed.header("X-Campaign") == ["fall"])
        #expect(parsed.header("Bcc").isEmpty)
        #expect(!String(decoding: message.bytes, as: UTF8.self).contains("audit"))
        #expect(parsed.root.contentType == "text/plain")
        #expect(parsed.root.parameters["charset"] == "utf-8")
        #expect(parsed.root.transferEncoding == "7bit")
        #expect(parsed.root.contentBytes == Array("Hi Bob.\r\n".utf8))
        #expect(parsed.root.allDefects.isEmpty)
        try expectWellFormed(message)
        #expect(!message.requiresSMTPUTF8)
        #expect(!message.has8BitContent)
    }

    @Test func bccOnlyMessageGetsUndisclosedRecipients() throws {
        var draft = Fixture.draft(to: [])
        draft.bcc = [Fixture.mailbox("hidden@example.com")]
        let message = try Fixture.compose(draft)
        let text = String(decoding: message.bytes, as: UTF8.self)
        #expect(text.contains("\r\nTo: undisclosed-recipients:;\r\n"))
        #expect(!text.contains("hidden"))
        let parsed = try PythonEmailParser.parse(message.bytes)
        #expect(parsed.to == [])
        #expect(parsed.root.allDefects.isEmpty)
    }

    @Test func utf8SubjectsAndNamesDecodeExactly() throws {
        let subjects = [
            "Your order ✓",
            "Grüße aus Köln — Bestellung Nr. 1234 ist unterwegs und kommt morgen an, versprochen!",
            "日本語の件名：ご注文ありがとうございます。商品は明日発送されます。よろしくお願いいたします。",
            "Emoji 🙂🙃🎉 and a =?utf-8?q?fake?= encoded word",
            "  leading and trailing spaces  ",
            String(repeating: "Ä", count: 300),
        ]
        let names = ["Carol Ä", "Jörg Müller, Jr.", "李小龍", "Zoë \"Z\" O'Brien", "=?utf-8?q?not_encoded?=", String(repeating: "ñ", count: 120)]
        var messages: [[UInt8]] = []
        for (index, subject) in subjects.enumerated() {
            var draft = Fixture.draft(subject: subject)
            draft.to = [try Mailbox(email: "carol@example.net", name: names[index]), Fixture.mailbox("x@example.org")]
            draft.from = try Mailbox(email: "alice@example.com", name: names[(index + 1) % names.count])
            let message = try Fixture.compose(draft)
            try expectWellFormed(message)
            messages.append(message.bytes)
        }
        let parsed = try PythonEmailParser.parse(messages)
        for (index, result) in parsed.enumerated() {
            #expect(result.subject == subjects[index])
            #expect(result.toNames == [names[index], ""])
            #expect(result.to?.first?.username == "carol")
            #expect(result.to?.last == ParsedAddress(name: "", username: "x", domain: "example.org"))
            #expect(result.fromNames == [names[(index + 1) % names.count]])
            if names[index].utf8.count <= 30 {
                // Short names fit one encoded word, which policy.default reads exactly too.
                #expect(result.to?.first?.name == names[index])
            }
            #expect(result.root.allDefects.isEmpty)
        }
    }

    @Test func longSubjectsFoldUnder78Columns() throws {
        let words = (1...60).map { "word\($0)" }.joined(separator: " ")
        let subjects = [words, "a  double  spaced\tand\ttabbed " + words, String(repeating: "x", count: 200), "https://example.com/" + String(repeating: "p", count: 120)]
        var messages: [[UInt8]] = []
        for subject in subjects {
            let message = try Fixture.compose(Fixture.draft(subject: subject))
            try expectWellFormed(message)
            let subjectLines = MessageLines(message.bytes).headerLines.drop { !$0.starts(with: Array("Subject:".utf8)) }
                .prefix { $0.starts(with: Array("Subject:".utf8)) || $0.first == 0x20 || $0.first == 0x09 }
            #expect(subjectLines.count > 1)
            messages.append(message.bytes)
        }
        let parsed = try PythonEmailParser.parse(messages)
        #expect(parsed.map(\.subject) == subjects)
    }

    @Test func manyRecipientsFoldBetweenAddresses() throws {
        let recipients = (1...40).map { "Person Number \($0) <person.\($0)@example.org>" }
        let message = try Fixture.compose(Fixture.draft(to: recipients))
        try expectWellFormed(message)
        let parsed = try PythonEmailParser.parse(message.bytes)
        #expect(parsed.to?.count == 40)
        #expect(parsed.to?.last == ParsedAddress(name: "Person Number 40", username: "person.40", domain: "example.org"))
        #expect(parsed.root.allDefects.isEmpty)
    }

    @Test func extraHeaderValuesAreFoldedOrEncoded() throws {
        var draft = Fixture.draft()
        let longValue = (1...40).map { "token\($0)" }.joined(separator: " ")
        let url = "<https://example.com/unsubscribe/" + String(repeating: "a", count: 300) + ">"
        draft.headers = [
            HeaderField(name: "X-Unicode", value: "Grüße ✓ from the gateway"),
            HeaderField(name: "X-Long", value: longValue),
            HeaderField(name: "List-Unsubscribe", value: url),
            HeaderField(name: "X-" + String(repeating: "n", count: 74), value: "日本語"),
        ]
        let message = try Fixture.compose(draft)
        try expectWellFormed(message, headerLinesWithin78: false)
        let lines = MessageLines(message.bytes)
        #expect(lines.headerLines.contains { MessageLines.text($0) == "List-Unsubscribe: " + url })
        let parsed = try PythonEmailParser.parse(message.bytes)
        #expect(parsed.header("X-Unicode") == ["Grüße ✓ from the gateway"])
        #expect(parsed.header("X-Long") == [longValue])
        #expect(parsed.header("List-Unsubscribe") == [url])
        #expect(parsed.header("X-" + String(repeating: "n", count: 74)) == ["日本語"])
        #expect(parsed.root.allDefects.isEmpty)
    }

    @Test func injectionAttemptsAreRefused() throws {
        var subjectDraft = Fixture.draft(subject: "Hello\r\nBcc: evil@example.net")
        #expect(throws: CompositionError.subject(.lineBreak)) { try Fixture.compose(subjectDraft) }
        subjectDraft.subject = "Hello\nX: y"
        #expect(throws: CompositionError.subject(.lineBreak)) { try Fixture.compose(subjectDraft) }
        subjectDraft.subject = "Hello\rX: y"
        #expect(throws: CompositionError.subject(.lineBreak)) { try Fixture.compose(subjectDraft) }

        var headerDraft = Fixture.draft()
        headerDraft.headers = [HeaderField(name: "X-Ok", value: "fine"), HeaderField(name: "X-Evil", value: "a\r\n\r\nbody")]
        #expect(throws: CompositionError.header(name: "X-Evil", .lineBreak)) { try Fixture.compose(headerDraft) }
        headerDraft.headers = [HeaderField(name: "X-Evil\r\nBcc", value: "a")]
        #expect(throws: CompositionError.header(name: "X-Evil\r\nBcc", .invalidName)) { try Fixture.compose(headerDraft) }
        headerDraft.headers = [HeaderField(name: "content-type", value: "text/html")]
        #expect(throws: CompositionError.header(name: "content-type", .reservedName("content-type"))) { try Fixture.compose(headerDraft) }

        headerDraft.headers = [HeaderField(name: "subject", value: "second subject")]
        #expect(throws: CompositionError.header(name: "subject", .repeatedField)) { try Fixture.compose(headerDraft) }
        headerDraft.headers = [HeaderField(name: "In-Reply-To", value: "<a@b>"), HeaderField(name: "in-reply-to", value: "<c@d>")]
        #expect(throws: CompositionError.header(name: "in-reply-to", .repeatedField)) { try Fixture.compose(headerDraft) }
        headerDraft.subject = nil
        headerDraft.headers = [HeaderField(name: "Subject", value: "from the headers"), HeaderField(name: "Reply-To", value: "r@example.com")]
        let parsed = try PythonEmailParser.parse(try Fixture.compose(headerDraft).bytes)
        #expect(parsed.subject == "from the headers")
        #expect(parsed.replyTo == [ParsedAddress(name: "", username: "r", domain: "example.com")])

        var attachmentDraft = Fixture.draft()
        attachmentDraft.attachments = [MessageAttachment(filename: "a.txt\r\nX: y", contentType: "text/plain", content: [1])]
        #expect(throws: CompositionError.attachment(index: 0, .filenameLineBreak)) { try Fixture.compose(attachmentDraft) }
        attachmentDraft.attachments = [MessageAttachment(filename: "a.txt", contentType: "text/plain\r\nX: y", content: [1])]
        #expect(throws: CompositionError.attachment(index: 0, .invalidContentType(reason: "it may hold only printable ASCII"))) {
            try Fixture.compose(attachmentDraft)
        }
        attachmentDraft.attachments = [MessageAttachment(filename: "a.png", contentType: "image/png", content: [1], contentID: "logo>\r\n<x")]
        #expect(throws: CompositionError.attachment(index: 0, .invalidContentID)) { try Fixture.compose(attachmentDraft) }

        #expect(throws: AddressError.displayNameLineBreak) { try Mailbox(email: "a@example.com", name: "A\r\nBcc: evil@example.net") }
        #expect(throws: AddressError.lineBreak) { try Mailbox.parse("A <a@example.com>\nBcc: evil@example.net") }
        #expect(MessageID(id: "msg_1\r\nX", host: "h") == nil)
        #expect(MessageID(id: "msg_1", host: "h\r\nX: y") == nil)
    }

    @Test func bodyEdgeCasesSurviveByteForByte() throws {
        let texts = [
            ".\n..hidden\n.\n. leading dot\n",
            String(repeating: "0123456789", count: 500),
            "trailing spaces   \ntrailing tab\t\n  \n\t\nend ",
            "crlf\r\nlf\ncr\rmixed\n\rend\r\n",
            "Unicode ✓ — Grüße\nand a very long line " + String(repeating: "ü", count: 1200),
            "--=_A.looks-like-a-boundary\n--=_B.\nfrom the content",
            "",
        ]
        var messages: [[UInt8]] = []
        for text in texts {
            // Multipart, so the part's body is exactly the text (no final CRLF added).
            let message = try Fixture.compose(Fixture.draft(text: text, html: "<p>" + text + "</p>"))
            try expectWellFormed(message)
            let lines = MessageLines(message.bytes)
            #expect(lines.lines.allSatisfy { $0.count <= 78 })
            messages.append(message.bytes)
        }
        let parsed = try PythonEmailParser.parse(messages)
        for (text, result) in zip(texts, parsed) {
            #expect(result.root.contentType == "multipart/alternative")
            let leaves = result.leaves
            #expect(leaves.map(\.contentType) == ["text/plain", "text/html"])
            #expect(leaves[0].contentBytes == Array(text.withCRLF.utf8))
            #expect(leaves[1].contentBytes == Array(("<p>" + text + "</p>").withCRLF.utf8))
            #expect(result.root.allDefects.isEmpty)
        }
    }

    /// Text that holds the very delimiter line this message will use (learnt
    /// from a first composition with the same seed) is sent quoted-printable,
    /// so the part still parses whole.
    @Test func contentCannotHoldTheBoundary() throws {
        let probe = try Fixture.compose(Fixture.draft(text: "x", html: "<p>x</p>"), seed: 99)
        let boundaryLine = try #require(MessageLines(probe.bytes).lines.map(MessageLines.text).first { $0.hasPrefix("--=_") })
        let hostile = "before\n" + boundaryLine + "\n" + boundaryLine + "--\nafter\n"
        let message = try Fixture.compose(Fixture.draft(text: hostile, html: "<p>x</p>"), seed: 99)
        #expect(MessageLines(message.bytes).lines.map(MessageLines.text).filter { $0.hasPrefix(boundaryLine) }.count == 3)
        let parsed = try PythonEmailParser.parse(message.bytes)
        #expect(parsed.leaves.count == 2)
        #expect(parsed.leaves.first?.contentBytes == Array(hostile.withCRLF.utf8))
        #expect(parsed.root.allDefects.isEmpty)
    }

    @Test func singlePartBodyEndsWithOneLineEnd() throws {
        for (text, expected) in [("no newline", "no newline\r\n"), ("newline\n", "newline\r\n"), ("", "")] {
            let message = try Fixture.compose(Fixture.draft(text: text))
            try expectWellFormed(message)
            #expect(try PythonEmailParser.parse(message.bytes).root.contentBytes == Array(expected.utf8))
        }
        let htmlOnly = try Fixture.compose(Fixture.draft(text: nil, html: "<b>hi</b>"))
        let parsed = try PythonEmailParser.parse(htmlOnly.bytes)
        #expect(parsed.root.contentType == "text/html")
        #expect(parsed.root.contentBytes == Array("<b>hi</b>\r\n".utf8))
    }

    @Test func utf8LocalPartNeedsSMTPUTF8() throws {
        var draft = Fixture.draft(to: ["Jörg <jörg@bücher.de>"])
        var message = try Fixture.compose(draft)
        #expect(message.requiresSMTPUTF8)
        #expect(message.has8BitContent)
        #expect(String(decoding: message.bytes, as: UTF8.self).contains("<jörg@xn--bcher-kva.de>"))
        try expectWellFormed(message, sevenBit: false)

        draft.to = [Fixture.mailbox("plain@example.org")]
        draft.bcc = [Fixture.mailbox("jörg@example.de")]
        message = try Fixture.compose(draft)
        #expect(!message.requiresSMTPUTF8)
        #expect(!message.has8BitContent)
    }

    @Test func seededGeneratorMakesCompositionRepeatable() throws {
        var draft = Fixture.draft(html: "<p>hi</p>")
        draft.attachments = [MessageAttachment(filename: "a.bin", contentType: "", content: [1, 2, 3])]
        #expect(try Fixture.compose(draft, seed: 7).bytes == Fixture.compose(draft, seed: 7).bytes)
        #expect(try Fixture.compose(draft, seed: 7).bytes != Fixture.compose(draft, seed: 8).bytes)
    }
}

/// The structural promises of every composed message: CRLF only, no line over
/// 998 octets, header lines within 78 columns where asked, 7-bit, no Bcc.
func expectWellFormed(
    _ message: ComposedMessage, headerLinesWithin78: Bool = true, sevenBit: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let lines = MessageLines(message.bytes)
    #expect(lines.hasOnlyCRLF, sourceLocation: sourceLocation)
    #expect(lines.longest <= 998, sourceLocation: sourceLocation)
    #expect(message.bytes.suffix(2) == [0x0D, 0x0A], sourceLocation: sourceLocation)
    if sevenBit {
        #expect(message.bytes.allSatisfy { $0 < 0x80 }, sourceLocation: sourceLocation)
    }
    if headerLinesWithin78 {
        let long = lines.headerLines.filter { $0.count > 78 }.map(MessageLines.text)
        #expect(long.isEmpty, "header lines over 78: \(long)", sourceLocation: sourceLocation)
    }
    #expect(!lines.headerLines.contains { $0.count >= 4 && MessageLines.text($0.prefix(4)).lowercased() == "bcc:" }, sourceLocation: sourceLocation)
}
