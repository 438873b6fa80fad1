import Foundation
import Testing
@testable import MailComposer

/// RFC 6857 downgrading for peers without SMTPUTF8: the result is read back by
/// Python's `email` package, the independent reader of every composition test.
@Suite struct HeaderDowngradeTests {
    @Test func asciiMessageIsReturnedUnchanged() throws {
        let composed = try Fixture.compose(Fixture.draft(subject: "Grüße ✓", text: "Schöne Grüße\n"))
        #expect(!composed.requiresSMTPUTF8)
        #expect(HeaderDowngrade.downgraded(composed.bytes) == composed.bytes)
    }

    @Test func utf8MailboxesBecomeGroupsAndTheRestStaysAsItWas() throws {
        var draft = Fixture.draft(to: ["bob@example.org", "José <jösé@example.org>", "Carol Ä <carol@example.net>"])
        draft.from = Fixture.mailbox("\"Jörg, Sales\" <jörg@example.com>")
        draft.replyTo = [Fixture.mailbox("ünï@example.com")]
        draft.cc = [Fixture.mailbox("plain@example.org")]
        let composed = try Fixture.compose(draft)
        #expect(composed.requiresSMTPUTF8)

        let downgraded = HeaderDowngrade.downgraded(composed.bytes)
        #expect(downgraded.allSatisfy { $0 < 0x80 }, "7-bit for a peer without SMTPUTF8 or 8BITMIME")
        let lines = MessageLines(downgraded)
        #expect(lines.hasOnlyCRLF)
        #expect(lines.headerLines.allSatisfy { $0.count <= 78 }, "\(String(decoding: downgraded, as: UTF8.self))")
        let body = { (bytes: [UInt8]) in bytes[HeaderSection.end(of: bytes[...])...] }
        #expect(body(downgraded).elementsEqual(body(composed.bytes)), "the body is not touched")

        let parsed = try PythonEmailParser.parse(downgraded)
        #expect(parsed.root.allDefects.isEmpty, "\(parsed.root.allDefects)")
        #expect(parsed.to == [
            ParsedAddress(name: "", username: "bob", domain: "example.org"),
            ParsedAddress(name: "Carol Ä", username: "carol", domain: "example.net"),
        ])
        #expect(parsed.cc == [ParsedAddress(name: "", username: "plain", domain: "example.org")])
        #expect(parsed.from == [], "no mailbox left that the peer could not carry")
        #expect(parsed.header("To").first?.contains("José <jösé@example.org>") == true, "\(parsed.header("To"))")
        #expect(parsed.header("From").first?.contains("Jörg, Sales <jörg@example.com>") == true, "\(parsed.header("From"))")
        #expect(parsed.header("Reply-To").first?.contains("ünï@example.com") == true, "\(parsed.header("Reply-To"))")
        #expect(parsed.subject == "Hello")
        #expect(parsed.messageID == Fixture.messageID.headerValue)
    }

    @Test func rawUTF8FieldsBecomeEncodedWords() throws {
        let raw = try RawMessage.normalize(Array((
            "From: Jörg <jörg@example.com>\nTo: team: a@example.org, jö@example.org;\nSubject: ünïcode\n"
                + "  continued\nX-Ascii: kept  as\n\tis\n\nGrüße, unchanged\n"
        ).utf8))
        let downgraded = HeaderDowngrade.downgraded(raw.bytes)
        let text = String(decoding: downgraded, as: UTF8.self)
        #expect(downgraded.prefix(HeaderSection.end(of: downgraded[...])).allSatisfy { $0 < 0x80 })
        #expect(text.contains("X-Ascii: kept  as\r\n\tis\r\n"), "ASCII fields are copied byte for byte")
        #expect(text.hasSuffix("\r\n\r\nGrüße, unchanged\r\n"))

        let parsed = try PythonEmailParser.parse(downgraded)
        #expect(parsed.subject == "ünïcode  continued")
        #expect(parsed.header("From").first?.contains("Jörg <jörg@example.com>") == true, "\(parsed.header("From"))")
        #expect(parsed.header("To").first?.contains("team: a@example.org, jö@example.org;") == true,
                "a group is shown whole: \(parsed.header("To"))")
    }

    @Test func aUTF8NameKeepsItsASCIIAddressAndStructuredFieldsStayAsTheyAre() throws {
        let raw = try RawMessage.normalize(Array((
            "From: Jörg <a@example.com>\nCc: \"Müller, Hans\" <h@example.com>, c@example.org\n"
                + "Content-Type: text/plain; x-ü=\"1\"\n\nbody\n"
        ).utf8))
        let downgraded = HeaderDowngrade.downgraded(raw.bytes)
        #expect(String(decoding: downgraded, as: UTF8.self).contains("Content-Type: text/plain; x-ü=\"1\"\r\n"),
                "no encoded-word form exists for a parameter: left for the peer to judge")
        let parsed = try PythonEmailParser.parse(downgraded)
        #expect(parsed.from == [ParsedAddress(name: "Jörg", username: "a", domain: "example.com")])
        #expect(parsed.cc == [
            ParsedAddress(name: "Müller, Hans", username: "h", domain: "example.com"),
            ParsedAddress(name: "", username: "c", domain: "example.org"),
        ])
    }

    @Test func callerAddressFieldsAreWrittenAsAddresses() throws {
        var draft = Fixture.draft()
        draft.headers = [HeaderField(name: "Reply-To", value: "Jörg <j@example.org>, ops@example.org"),
                         HeaderField(name: "Sender", value: "jö@example.org")]
        let composed = try Fixture.compose(draft)
        #expect(composed.requiresSMTPUTF8, "Sender has a UTF-8 local part")
        let parsed = try PythonEmailParser.parse(composed.bytes)
        #expect(parsed.replyTo == [
            ParsedAddress(name: "Jörg", username: "j", domain: "example.org"),
            ParsedAddress(name: "", username: "ops", domain: "example.org"),
        ])
    }

    @Test(arguments: [
        ("a@b.c, \"x, y\" <d@e.f>,  g@h.i (a, comment)", ["a@b.c", "\"x, y\" <d@e.f>", "g@h.i (a, comment)"]),
        ("<a@b.c>", ["<a@b.c>"]),
        ("\"quoted \\\" comma,\" <a@b.c>", ["\"quoted \\\" comma,\" <a@b.c>"]),
    ])
    func splitsAddressListsAtTopLevelCommas(_ list: String, _ items: [String]) {
        let found = AddressList.items(of: ArraySlice(list.utf8))
        #expect(found?.map { String(decoding: $0, as: UTF8.self) } == items)
    }

    @Test func groupsAreNotSplit() {
        #expect(AddressList.items(of: ArraySlice("team: a@b.c;".utf8)) == nil)
    }
}
