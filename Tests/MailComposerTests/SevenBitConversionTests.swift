import Foundation
import Testing
@testable import MailComposer

/// 8-bit `raw` bodies re-encoded for a peer without 8BITMIME, read back by
/// Python's `email` package: the decoded content must be what was sent.
@Suite struct SevenBitConversionTests {
    private func raw(_ text: String) throws -> [UInt8] {
        try RawMessage.normalize(Array(text.utf8)).bytes
    }

    private func bodyIsSevenBit(_ message: [UInt8]) -> Bool {
        message[HeaderSection.end(of: message[...])...].allSatisfy { $0 < 0x80 }
    }

    private func lines(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }

    @Test func aSevenBitMessageIsReturnedAsItIs() throws {
        let message = try raw("Subject: x\n\nplain\n")
        #expect(SevenBitConversion.converted(message) == message)
        let composed = try Fixture.compose(Fixture.draft(text: "Grüße, a composed body is quoted-printable already\n"))
        #expect(SevenBitConversion.converted(composed.bytes) == composed.bytes)
    }

    @Test func anEightBitTextBodyBecomesQuotedPrintable() throws {
        let message = try raw("Subject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße 😀\n.dot\n")
        let converted = SevenBitConversion.converted(message)
        #expect(bodyIsSevenBit(converted))
        let text = String(decoding: converted, as: UTF8.self)
        #expect(text.contains("Content-Transfer-Encoding: quoted-printable\r\n\r\n"))
        #expect(!text.contains("8bit"))
        let parsed = try PythonEmailParser.parse(converted)
        #expect(lines(parsed.root.contentBytes) == "Grüße 😀\n.dot\n")
        #expect(parsed.root.allDefects.isEmpty)
    }

    @Test func multipartLeavesAreConvertedOneByOne() throws {
        let binary: [UInt8] = [0x00, 0xFF, 0x80, 0x41, 0x0D, 0x0A, 0xC3]
        let head = """
            From: a@example.com
            Content-Type: multipart/mixed; boundary="b;1"

            preamble
            --b;1
            Content-Type: text/html; charset=utf-8

            <p>été</p>
            --b;1
            Content-Type: text/plain
            Content-Transfer-Encoding: base64

            aGk=
            --b;1
            Content-Type: application/octet-stream
            Content-Transfer-Encoding: binary


            """
        let tail = "\n--b;1--\nepilogue\n"
        let message = try RawMessage.normalize(Array(head.utf8) + binary + Array(tail.utf8)).bytes
        let converted = SevenBitConversion.converted(message)
        #expect(bodyIsSevenBit(converted))
        let text = String(decoding: converted, as: UTF8.self)
        #expect(text.contains("\r\n\r\npreamble\r\n--b;1\r\n"), "preamble and delimiters byte for byte")
        #expect(text.hasSuffix("\r\n--b;1--\r\nepilogue\r\n"))
        #expect(text.contains("Content-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b;1"), "encoded parts untouched")

        let parsed = try PythonEmailParser.parse(converted)
        #expect(parsed.root.allDefects.isEmpty, "\(parsed.root.allDefects)")
        let leaves = parsed.leaves
        #expect(leaves.map(\.contentType) == ["text/html", "text/plain", "application/octet-stream"])
        #expect(lines(leaves[0].contentBytes) == "<p>été</p>")
        #expect(leaves[1].contentBytes == Array("hi".utf8))
        #expect(leaves[2].contentBytes == binary)
    }

    @Test func anAttachedMessageIsConvertedInside() throws {
        let message = try raw("""
            Content-Type: message/rfc822

            Subject: inner
            Content-Type: text/plain; charset=utf-8

            Grüße

            """)
        let converted = SevenBitConversion.converted(message)
        #expect(bodyIsSevenBit(converted))
        #expect(String(decoding: converted, as: UTF8.self).contains("Subject: inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe\r\n"))
    }

    @Test func whatCannotBeWalkedIsSentAsItIs() throws {
        let noBoundary = try raw("Content-Type: multipart/mixed\n\nGrüße\n")
        #expect(SevenBitConversion.converted(noBoundary) == noBoundary)
        let alreadyEncoded = try raw("Content-Transfer-Encoding: base64\n\nGrüße\n")
        #expect(SevenBitConversion.converted(alreadyEncoded) == alreadyEncoded)
        var nested = "Subject: deep\n"
        for _ in 0..<100 { nested += "Content-Type: message/rfc822\n\n" }
        nested += "Grüße\n"
        let deep = try raw(nested)
        #expect(SevenBitConversion.converted(deep).count >= deep.count, "bounded recursion, no crash")
    }
}
