import Testing
@testable import SMTPClient

@Suite("DATA encoding")
struct DataEncodingTests {
    private func encode(_ text: String) -> String {
        String(decoding: DataEncoding.encode(Array(text.utf8)), as: UTF8.self)
    }

    @Test func linesStartingWithADotAreStuffed() {
        #expect(encode(".hidden\r\nok\r\n..two\r\n.\r\n") == "..hidden\r\nok\r\n...two\r\n..\r\n.\r\n")
    }

    @Test func dotsInsideALineStayAsTheyAre() {
        #expect(encode("a.b\r\nend.\r\n") == "a.b\r\nend.\r\n.\r\n")
    }

    @Test func contentWithoutFinalLineBreakGetsOne() {
        #expect(encode("no newline") == "no newline\r\n.\r\n")
        #expect(encode(".") == "..\r\n.\r\n")
    }

    @Test func emptyContentIsJustTheTerminator() {
        #expect(encode("") == ".\r\n")
    }

    @Test func bareLineFeedsAndCarriageReturnsBecomeCRLF() {
        // "\n.\n" would end DATA early on a lenient server (SMTP smuggling).
        #expect(encode("a\n.\nb\rc\r\n") == "a\r\n..\r\nb\r\nc\r\n.\r\n")
    }

    @Test func eightBitBytesPassThrough() {
        let content: [UInt8] = [0xC3, 0xA4, 0x0D, 0x0A, 0x2E, 0xFF, 0x0D, 0x0A]
        #expect(DataEncoding.encode(content) == [0xC3, 0xA4, 0x0D, 0x0A, 0x2E, 0x2E, 0xFF, 0x0D, 0x0A, 0x2E, 0x0D, 0x0A])
    }

    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy"), ("\0u\0p", "AHUAcA==")])
    func base64MatchesRFC4648(_ input: String, _ expected: String) {
        #expect(Base64.encode(Array(input.utf8)) == expected)
    }
}
