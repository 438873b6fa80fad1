import Foundation

/// Writes UTF-8 text as RFC 2047 encoded words (`=?utf-8?q?…?=` or
/// `=?utf-8?b?…?=`), one word at a time, each within a length the caller
/// gives so that it fits the room left on a header line.
///
/// The encoding (Q or B) is chosen once for the whole text, whichever is
/// shorter. A word always holds whole UTF-8 sequences (RFC 2047 §5: an
/// encoded word must not split a character), and Q uses only the characters
/// that are safe in a phrase (§5 (3)), so the same words serve subjects,
/// header values and display names.
struct EncodedWordEncoder {
    /// RFC 2047 §2.
    static let maximumLength = 75
    /// Prefix, suffix and one four-byte character in Q form (`=XX` × 4).
    static let minimumLength = 24
    private static let overhead = 12

    private let text: [UInt8]
    private let usesQ: Bool
    private var position = 0

    init(_ text: [UInt8]) {
        self.text = text
        let qLength = text.reduce(0) { $0 + EncodedWordEncoder.qLength(of: $1) }
        let bLength = (text.count + 2) / 3 * 4
        usesQ = qLength <= bLength
    }

    var isFinished: Bool { position >= text.count }

    /// The length of one word holding all the text not written yet.
    var remainingLength: Int {
        let rest = text[position...]
        let encoded = usesQ ? rest.reduce(0) { $0 + EncodedWordEncoder.qLength(of: $1) } : (rest.count + 2) / 3 * 4
        return EncodedWordEncoder.overhead + encoded
    }

    /// Writes the next word (at most `maximumLength` octets, which must be at
    /// least `minimumLength`) and returns its length.
    mutating func writeWord(maximumLength: Int, into output: inout [UInt8]) -> Int {
        let start = output.count
        output.appendASCII(usesQ ? "=?utf-8?q?" : "=?utf-8?b?")
        let budget = maximumLength - EncodedWordEncoder.overhead
        if usesQ {
            writeQ(budget: budget, into: &output)
        } else {
            writeB(budget: budget, into: &output)
        }
        output.appendASCII("?=")
        return output.count - start
    }

    private mutating func writeQ(budget: Int, into output: inout [UInt8]) {
        var used = 0
        while position < text.count {
            let end = EncodedWordEncoder.sequenceEnd(in: text, from: position)
            let cost = text[position..<end].reduce(0) { $0 + EncodedWordEncoder.qLength(of: $1) }
            if used + cost > budget { break }
            for byte in text[position..<end] {
                if byte == ASCII.space {
                    output.append(0x5F)
                } else if EncodedWordEncoder.isQSafe(byte) {
                    output.append(byte)
                } else {
                    output.appendHexEscape(byte, introducer: ASCII.equals)
                }
            }
            used += cost
            position = end
        }
    }

    private mutating func writeB(budget: Int, into output: inout [UInt8]) {
        let byteBudget = budget / 4 * 3
        var end = position
        while end < text.count {
            let next = EncodedWordEncoder.sequenceEnd(in: text, from: end)
            if next - position > byteBudget { break }
            end = next
        }
        Base64.append(text[position..<end], to: &output)
        position = end
    }

    /// The end of the UTF-8 sequence that starts at `index`.
    private static func sequenceEnd(in text: [UInt8], from index: Int) -> Int {
        let lead = text[index]
        let length = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
        return min(index + length, text.count)
    }

    /// RFC 2047 §5 (3): letters, digits and `!*+-/` stand for themselves.
    private static func isQSafe(_ byte: UInt8) -> Bool {
        ASCII.isLetter(byte) || ASCII.isDigit(byte)
            || byte == 0x21 || byte == 0x2A || byte == 0x2B || byte == 0x2D || byte == 0x2F
    }

    private static func qLength(of byte: UInt8) -> Int {
        byte == ASCII.space || isQSafe(byte) ? 1 : 3
    }
}

/// How a display name is written (RFC 5322 §3.2.5 phrase).
enum PhraseForm {
    /// Plain atoms separated by single spaces: `Alice Smith`.
    case atoms
    /// A quoted string, for printable ASCII with specials: `"Smith, Alice"`.
    case quoted
    /// Encoded words: for non-ASCII, text that looks like an encoded word
    /// already, or a name too long to quote on one line.
    case encoded

    init(_ name: [UInt8]) {
        if name.contains(where: { $0 >= 0x80 }) || PhraseForm.containsEncodedWordStart(name) {
            self = .encoded
        } else if PhraseForm.isAtomPhrase(name) {
            self = .atoms
        } else if PhraseForm.quotedLength(name) <= LineLimits.preferredOctets - 2 {
            self = .quoted
        } else {
            self = .encoded
        }
    }

    /// Atext words joined by single spaces, each short enough for a line.
    static func isAtomPhrase(_ name: [UInt8]) -> Bool {
        guard name.first != ASCII.space, name.last != ASCII.space else { return false }
        var wordLength = 0
        var previous: UInt8 = 0
        for byte in name {
            if byte == ASCII.space {
                if previous == ASCII.space { return false }
                wordLength = 0
            } else {
                guard ASCII.isAtext(byte) else { return false }
                wordLength += 1
                if wordLength > LineLimits.preferredOctets - 2 { return false }
            }
            previous = byte
        }
        return true
    }

    static func quotedLength(_ name: [UInt8]) -> Int {
        name.reduce(2) { $0 + ($1 == ASCII.quote || $1 == ASCII.backslash ? 2 : 1) }
    }

    /// `"…"` with `"` and `\` escaped.
    static func quotedString(_ name: [UInt8]) -> [UInt8] {
        var quoted: [UInt8] = [ASCII.quote]
        quoted.reserveCapacity(name.count + 4)
        for byte in name {
            if byte == ASCII.quote || byte == ASCII.backslash { quoted.append(ASCII.backslash) }
            quoted.append(byte)
        }
        quoted.append(ASCII.quote)
        return quoted
    }

    /// `=?` could be taken for the start of an encoded word by a reader.
    static func containsEncodedWordStart(_ bytes: some Sequence<UInt8>) -> Bool {
        var previous: UInt8 = 0
        for byte in bytes {
            if previous == ASCII.equals && byte == 0x3F { return true }
            previous = byte
        }
        return false
    }
}

/// How unstructured text (a subject) is written.
enum UnstructuredForm {
    /// As it is, folded at white space.
    case raw
    /// As encoded words.
    case encoded

    /// Raw when the text is ASCII, does not look like an encoded word, has no
    /// white space at its ends (readers trim it) and no word too long for a
    /// 78-column line; else encoded, which always fits and decodes exactly.
    static func forSubject(_ text: String) -> UnstructuredForm {
        let bytes = text.utf8
        guard bytes.allSatisfy({ $0 < 0x80 }), !PhraseForm.containsEncodedWordStart(bytes) else { return .encoded }
        if let first = bytes.first, let last = bytes.last, ASCII.isWhitespace(first) || ASCII.isWhitespace(last) {
            return .encoded
        }
        return HeaderSafety.longestWord(bytes) <= LineLimits.preferredOctets - 1 ? .raw : .encoded
    }

    /// Caller header values: ASCII stays as it is (it may be structured, such
    /// as List-Unsubscribe, where encoded words would break it;
    /// `HeaderSafety.checkExtraHeader` made sure every word fits a line);
    /// only non-ASCII text is encoded.
    static func forHeaderValue(_ text: String) -> UnstructuredForm {
        text.utf8.allSatisfy { $0 < 0x80 } ? .raw : .encoded
    }
}

/// Reads back one encoded word in UTF-8 or US-ASCII (`=?utf-8?q?…?=`,
/// `=?utf-8?b?…?=`): what the composer writes, for the downgrade to show a
/// display name as text. Anything else is not an encoded word to it (nil).
enum EncodedWordDecoder {
    static func decode(_ word: some Collection<UInt8>) -> [UInt8]? {
        let parts = Array(word).split(separator: 0x3F, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].elementsEqual([ASCII.equals]), parts[4].elementsEqual([ASCII.equals]) else {
            return nil
        }
        let charset = String(decoding: parts[1], as: UTF8.self).lowercased()
        guard charset == "utf-8" || charset == "us-ascii" else { return nil }
        switch String(decoding: parts[2], as: UTF8.self).lowercased() {
        case "b":
            return Data(base64Encoded: Data(parts[3])).map { [UInt8]($0) }
        case "q":
            var decoded: [UInt8] = []
            var index = parts[3].startIndex
            let text = parts[3]
            while index < text.endIndex {
                let byte = text[index]
                if byte == 0x5F {
                    decoded.append(ASCII.space)
                } else if byte == ASCII.equals {
                    guard index + 2 < text.endIndex, let value = UInt8(String(decoding: text[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) else {
                        return nil
                    }
                    decoded.append(value)
                    index += 2
                } else {
                    decoded.append(byte)
                }
                index += 1
            }
            return decoded
        default:
            return nil
        }
    }
}
