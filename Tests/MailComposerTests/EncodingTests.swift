import Foundation
@testable import MailComposer
import MailgateTesting
import Testing

/// The encoders on their own: RFC 2047 encoded words, quoted-printable,
/// base64 and the Date format, checked for line lengths and against Python's
/// decoders.
@Suite struct EncodingTests {
    private static let decodeWords = PythonScript(#"""
import sys, json
from email.header import decode_header, make_header
words = json.load(sys.stdin)
print(json.dumps([str(make_header(decode_header(w))) for w in words]))
"""#)

    @Test func encodedWordsRespectLengthAndCharacterBoundaries() throws {
        let texts = ["Your order ✓", "日本語のメールの件名はとても長くなることがあります。日本語のメールの件名", "ääääääääääääääääääääääääääääääääääääääää", "a_b=c?d", "🙂🙃🙂🙃🙂🙃🙂🙃🙂🙃🙂🙃🙂🙃🙂🙃🙂🙃🙂🙃🙂🙃"]
        var sequences: [String] = []
        for text in texts {
            for maximum in [24, 40, 75] {
                var encoder = EncodedWordEncoder(Array(text.utf8))
                var words: [String] = []
                while !encoder.isFinished {
                    var output: [UInt8] = []
                    let length = encoder.writeWord(maximumLength: maximum, into: &output)
                    #expect(length == output.count)
                    #expect(output.count <= maximum)
                    #expect(output.allSatisfy { $0 > 0x20 && $0 < 0x7F })
                    words.append(String(decoding: output, as: UTF8.self))
                }
                sequences.append(words.joined(separator: " "))
            }
        }
        let decoded = try Self.decodeWords.runJSON([String].self, input: Array(try jsonArray(sequences)))
        #expect(decoded == texts.flatMap { [$0, $0, $0] })
    }

    @Test func choosesQForMostlyASCIIAndBForTheRest() {
        var mostlyASCII = EncodedWordEncoder(Array("Gruesse aus Koeln und Muenchen ✓".utf8))
        var output: [UInt8] = []
        _ = mostlyASCII.writeWord(maximumLength: 75, into: &output)
        #expect(String(decoding: output, as: UTF8.self) == "=?utf-8?q?Gruesse_aus_Koeln_und_Muenchen_=E2=9C=93?=")
        var someUmlauts = EncodedWordEncoder(Array("Grüße aus Köln".utf8))
        output = []
        _ = someUmlauts.writeWord(maximumLength: 75, into: &output)
        #expect(String(decoding: output, as: UTF8.self) == "=?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4=?=")
        var cjk = EncodedWordEncoder(Array("日本語".utf8))
        output = []
        _ = cjk.writeWord(maximumLength: 75, into: &output)
        #expect(String(decoding: output, as: UTF8.self) == "=?utf-8?b?5pel5pys6Kqe?=")
    }

    @Test func quotedPrintableKeepsLinesShortAndDecodesExactly() throws {
        let texts = [
            String(repeating: "a", count: 5000),
            String(repeating: "ä", count: 700),
            "trailing spaces   \nand tab\t\nend with space ",
            ".leading dot\n..two\n.\nx",
            "equals = sign and =3D literal",
            String(repeating: "x", count: 74) + "=",
            String(repeating: "x", count: 75) + " ",
            "mixed\r\nline\rends\nhere",
            "nul\u{0}and\u{1B}escape",
        ]
        var encoded: [String] = []
        for text in texts {
            var output: [UInt8] = []
            var source = text
            source.withUTF8 { TextBodyEncoder.append($0, encoding: .quotedPrintable, to: &output) }
            let lines = MessageLines(output + [0x0D, 0x0A])
            #expect(lines.hasOnlyCRLF)
            #expect(lines.longest <= 76)
            #expect(lines.lines.allSatisfy { $0.first != 0x2E })
            #expect(lines.lines.allSatisfy { line in line.last.map { $0 != 0x20 && $0 != 0x09 } ?? true })
            #expect(output.allSatisfy { $0 < 0x80 })
            encoded.append(String(decoding: output, as: UTF8.self))
        }
        let script = PythonScript(#"""
import sys, json, quopri, base64
print(json.dumps([base64.b64encode(quopri.decodestring(t.encode())).decode() for t in json.load(sys.stdin)]))
"""#)
        let decoded = try script.runJSON([String].self, input: try jsonArray(encoded))
        #expect(decoded.map { Array(Data(base64Encoded: $0)!) } == texts.map { Array($0.withCRLF.utf8) })
    }

    /// The encoder copies runs of plain bytes in bulk; a byte-at-a-time
    /// encoding of the same rules must give the same output.
    @Test func quotedPrintableMatchesByteAtATimeReference() {
        var generator = SeededGenerator(seed: 2045)
        let alphabet: [UInt8] = Array("a .=\t\r\n-".utf8) + [0xC3, 0xA4, 0x00]
        for _ in 0..<2000 {
            let length = Int.random(in: 0...300, using: &generator)
            let weights = Int.random(in: 1...alphabet.count, using: &generator)
            let input = (0..<length).map { _ in alphabet[Int.random(in: 0..<weights, using: &generator)] }
            var output: [UInt8] = []
            input.withUnsafeBufferPointer { TextBodyEncoder.append($0, encoding: .quotedPrintable, to: &output) }
            #expect(output == Self.referenceQuotedPrintable(input), "\(input)")
        }
    }

    /// RFC 2045 §6.7 one byte at a time, with the composer's choices (soft
    /// break before the 76th column, `.` encoded at the start of a line).
    static func referenceQuotedPrintable(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var column = 0
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == 0x0D || byte == 0x0A {
                index += byte == 0x0D && index + 1 < input.count && input[index + 1] == 0x0A ? 2 : 1
                output += [0x0D, 0x0A]
                column = 0
                continue
            }
            index += 1
            let endsLine = index == input.count || input[index] == 0x0D || input[index] == 0x0A
            var encoded: [UInt8]
            if (byte >= 33 && byte <= 126 && byte != 0x3D) || ((byte == 0x20 || byte == 0x09) && !endsLine) {
                encoded = [byte]
            } else {
                encoded = Array(String(format: "=%02X", byte).utf8)
            }
            if column + encoded.count > (endsLine ? 76 : 75) {
                output += Array("=\r\n".utf8)
                column = 0
            }
            if column == 0 && byte == 0x2E { encoded = Array("=2E".utf8) }
            output += encoded
            column += encoded.count
        }
        return output
    }

    @Test func quotedPrintableWritesExpectedForms() {
        func encode(_ text: String) -> String {
            var output: [UInt8] = []
            var source = text
            source.withUTF8 { TextBodyEncoder.append($0, encoding: .quotedPrintable, to: &output) }
            return String(decoding: output, as: UTF8.self)
        }
        #expect(encode("a \nb\t") == "a=20\r\nb=09")
        #expect(encode("1=2") == "1=3D2")
        #expect(encode(".x") == "=2Ex")
        #expect(encode("é") == "=C3=A9")
        #expect(encode(String(repeating: "a", count: 80)) == String(repeating: "a", count: 75) + "=\r\naaaaa")
        #expect(encode(String(repeating: "a", count: 76)) == String(repeating: "a", count: 76))
        #expect(encode(String(repeating: "a", count: 74) + ".b") == String(repeating: "a", count: 74) + ".b")
        #expect(encode(String(repeating: "a", count: 75) + ".bc") == String(repeating: "a", count: 75) + "=\r\n=2Ebc")
        #expect(encode(String(repeating: "a", count: 75) + ".b") == String(repeating: "a", count: 75) + "=\r\n=2Eb")
    }

    @Test func sevenBitOnlyForShortCleanASCIILines() {
        func choice(_ text: String) -> TextTransferEncoding {
            var source = text
            return source.withUTF8 { TextTransferEncoding.choose(for: $0) }
        }
        #expect(choice("Hello\nworld\n") == .sevenBit)
        #expect(choice(".\n..\n--\nsignature") == .sevenBit)
        #expect(choice("text\n-- \nsignature") == .quotedPrintable)
        #expect(choice("café") == .quotedPrintable)
        #expect(choice(String(repeating: "a", count: 79)) == .quotedPrintable)
        #expect(choice("trailing \nx") == .quotedPrintable)
        #expect(choice("--=_A.boundary-like") == .quotedPrintable)
        #expect(choice("bell\u{7}") == .quotedPrintable)
    }

    @Test func base64LinesAreSeventySixCharacters() throws {
        var generator = SeededGenerator(seed: 64)
        for count in [0, 1, 2, 3, 56, 57, 58, 114, 1000, 4099] {
            let input = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var output: [UInt8] = []
            Base64.appendLines(input, to: &output)
            let lines = count == 0 ? [] : MessageLines(output + [0x0D, 0x0A]).lines
            #expect(lines.dropLast().allSatisfy { $0.count == 76 })
            #expect((lines.last?.count ?? 0) <= 76)
            let joined = lines.flatMap { $0 }
            #expect(Data(base64Encoded: Data(joined)).map(Array.init) == input)
        }
    }

    @Test(arguments: [
        (0.0, "Thu, 01 Jan 1970 00:00:00 +0000"),
        (951_782_400.0, "Tue, 29 Feb 2000 00:00:00 +0000"),
        (1_796_040_000.0, "Mon, 30 Nov 2026 12:00:00 +0000"),
        (1_796_040_000.999, "Mon, 30 Nov 2026 12:00:00 +0000"),
        (4_102_444_799.0, "Thu, 31 Dec 2099 23:59:59 +0000"),
        (-1.0, "Wed, 31 Dec 1969 23:59:59 +0000"),
    ])
    func formatsDates(_ seconds: Double, _ expected: String) {
        var output: [UInt8] = []
        MessageDate.append(Date(timeIntervalSince1970: seconds), to: &output)
        #expect(String(decoding: output, as: UTF8.self) == expected)
    }

    private func jsonArray(_ strings: [String]) throws -> [UInt8] {
        Array(try JSONEncoder().encode(strings))
    }
}

/// Folding on its own: unfolding (removing each CRLF) gives back exactly the
/// field that was written, and no folded line is white space alone.
@Suite struct FoldingTests {
    static let values = [
        (1...40).map { "w\($0)" }.joined(separator: " "),
        "double  spaces  and\ttabs\t\tbetween   words " + String(repeating: "x ", count: 50),
        String(repeating: "y", count: 70) + " " + String(repeating: "z", count: 70),
        "trailing spaces at the end   ",
    ]

    @Test(arguments: values)
    func unstructuredFoldsAtWhiteSpaceOnly(_ value: String) {
        var writer = MessageWriter(capacity: 256)
        writer.beginField("Subject")
        writer.appendUnstructured(value.utf8)
        writer.endField()
        let lines = MessageLines(writer.bytes).lines.map(MessageLines.text)
        #expect(lines.count > 1 || value.count < 60)
        #expect(lines.joined() == "Subject: " + value)
        #expect(lines.dropFirst().allSatisfy { $0.first == " " || $0.first == "\t" })
        #expect(lines.allSatisfy { !$0.allSatisfy { $0 == " " || $0 == "\t" } })
        // A line is longer than 78 only when one word alone fills it.
        for (index, line) in lines.enumerated() where line.count > 78 {
            #expect(!line.dropFirst(index == 0 ? "Subject: ".count : 1).contains(" "))
        }
    }

    @Test func mailboxListsFoldBetweenMailboxes() throws {
        var writer = MessageWriter(capacity: 256)
        writer.beginField("To")
        writer.appendMailboxList(try (1...6).map { try Mailbox.parse("Recipient \($0) <recipient.number.\($0)@example.org>") })
        writer.endField()
        let lines = MessageLines(writer.bytes).lines.map(MessageLines.text)
        #expect(lines.count > 2)
        #expect(lines.allSatisfy { $0.count <= 78 })
        #expect(lines.dropLast().allSatisfy { $0.hasSuffix(",") || $0.hasSuffix("Recipient") || $0.last?.isNumber == true })
        #expect(lines.joined(separator: "\r\n").replacingOccurrences(of: "\r\n", with: "")
            == "To: " + (1...6).map { "Recipient \($0) <recipient.number.\($0)@example.org>" }.joined(separator: ", "))
    }
}
