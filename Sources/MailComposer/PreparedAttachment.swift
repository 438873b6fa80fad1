/// An attachment whose content type, file name and content id have been
/// checked, with its MIME header words prepared.
struct PreparedAttachment {
    static let maximumContentTypeOctets = 255
    static let maximumContentIDOctets = 250

    let mediaType: String
    /// Caller parameters, each a finished `attribute=value` word.
    let parameters: [[UInt8]]
    let hasNameParameter: Bool
    /// UTF-8 file name; empty means none.
    let filename: [UInt8]
    let contentID: String?
    let content: [UInt8]

    init(_ attachment: MessageAttachment) throws(AttachmentError) {
        var parser = ContentTypeParser(attachment.contentType)
        (mediaType, parameters, hasNameParameter) = try parser.parse()
        switch ControlScan.scan(attachment.filename.utf8, allowTab: false) {
        case .lineBreak: throw .filenameLineBreak
        case .control: throw .filenameControlCharacter
        case .clean: break
        }
        // Readers trim white space at the ends of a file name (Python's
        // get_filename does), so it is trimmed here to say what arrives.
        filename = Array(Array(attachment.filename.utf8)[...].trimmingWhitespace())
        contentID = try attachment.contentID.map { (id) throws(AttachmentError) in try PreparedAttachment.checkedContentID(id) }
        content = attachment.content
    }

    /// A content id without its angle brackets: atext, dots and `@` (the
    /// msg-id characters of RFC 2392 / RFC 5322 §3.6.4, loosened to the ids
    /// real clients use, like `logo` or `part1.ABC@host`).
    private static func checkedContentID(_ text: String) throws(AttachmentError) -> String {
        var id = Substring(text)
        if id.hasPrefix("<") && id.hasSuffix(">") && id.count >= 2 { id = id.dropFirst().dropLast() }
        guard !id.isEmpty, id.utf8.count <= maximumContentIDOctets,
              id.utf8.allSatisfy({ ASCII.isAtext($0) || $0 == ASCII.dot || $0 == ASCII.at })
        else { throw .invalidContentID }
        return String(id)
    }

    /// `name="a.pdf"` or, for a name that is not short printable ASCII, the
    /// RFC 2231 form `name*=utf-8''%E2%9C%93.pdf`, split into numbered
    /// sections (`name*0*=…; name*1*=…`) so each fits a folded line; the
    /// caller joins the words with `;`. Python's email package, Thunderbird, Gmail
    /// and current Outlook read these.
    static func filenameWords(attribute: StaticString, filename: [UInt8]) -> [[UInt8]] {
        let isPlain = filename.count <= 60
            && filename.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != ASCII.quote && $0 != ASCII.backslash }
            && filename.first != ASCII.space && filename.last != ASCII.space
            && !PhraseForm.containsEncodedWordStart(filename)
        if isPlain {
            var word = bytes(of: attribute)
            word.append(ASCII.equals)
            word.append(contentsOf: PhraseForm.quotedString(filename))
            return [word]
        }
        let chunks = percentEncodedChunks(filename, maximumLength: 54)
        if chunks.count == 1 {
            return [bytes(of: attribute) + Array("*=utf-8''".utf8) + chunks[0]]
        }
        return chunks.enumerated().map { index, chunk in
            var word = bytes(of: attribute)
            word.append(0x2A)
            word.append(contentsOf: String(index).utf8)
            word.append(contentsOf: index == 0 ? Array("*=utf-8''".utf8) : Array("*=".utf8))
            word.append(contentsOf: chunk)
            return word
        }
    }

    /// RFC 2231 §4 / RFC 5987 `attr-char`s as they are, every other octet as
    /// `%XX`; chunks end on UTF-8 sequence boundaries.
    private static func percentEncodedChunks(_ text: [UInt8], maximumLength: Int) -> [[UInt8]] {
        var chunks: [[UInt8]] = [[]]
        var index = 0
        while index < text.count {
            let lead = text[index]
            let length = min(lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4, text.count - index)
            var encoded: [UInt8] = []
            for byte in text[index..<index + length] {
                if isAttributeCharacter(byte) {
                    encoded.append(byte)
                } else {
                    encoded.appendHexEscape(byte, introducer: 0x25)
                }
            }
            if chunks[chunks.count - 1].count + encoded.count > maximumLength { chunks.append([]) }
            chunks[chunks.count - 1].append(contentsOf: encoded)
            index += length
        }
        return chunks
    }

    private static func isAttributeCharacter(_ byte: UInt8) -> Bool {
        if ASCII.isLetter(byte) || ASCII.isDigit(byte) { return true }
        switch byte {
        case 0x21, 0x23, 0x24, 0x26, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }

    private static func bytes(of text: StaticString) -> [UInt8] {
        text.withUTF8Buffer { Array($0) }
    }
}

/// Reads a caller's content type: `type/subtype` followed by optional
/// `; attribute=value` parameters (RFC 2045 §5.1), values as tokens or quoted
/// strings. Empty means application/octet-stream.
struct ContentTypeParser {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    mutating func parse() throws(AttachmentError) -> (String, [[UInt8]], Bool) {
        guard bytes.count <= PreparedAttachment.maximumContentTypeOctets else {
            throw .invalidContentType(reason: "it is longer than \(PreparedAttachment.maximumContentTypeOctets) octets")
        }
        guard ControlScan.scan(bytes, allowTab: true) == .clean, bytes.allSatisfy({ $0 < 0x80 }) else {
            throw .invalidContentType(reason: "it may hold only printable ASCII")
        }
        skipWhitespace()
        if index == bytes.count { return ("application/octet-stream", [], false) }
        let type = readToken().lowercased()
        guard !type.isEmpty, consume(0x2F) else { throw .invalidContentType(reason: "it is not of the form type/subtype") }
        let subtype = readToken().lowercased()
        guard !subtype.isEmpty else { throw .invalidContentType(reason: "it is not of the form type/subtype") }
        guard type != "multipart", type != "message" else { throw .unsupportedContentType(type + "/" + subtype) }
        var parameters: [[UInt8]] = []
        var hasName = false
        skipWhitespace()
        while index < bytes.count {
            guard consume(0x3B) else { throw .invalidContentType(reason: "parameters must follow a ;") }
            skipWhitespace()
            if index == bytes.count { break }
            let attribute = readToken().lowercased()
            skipWhitespace()
            guard !attribute.isEmpty, consume(ASCII.equals) else {
                throw .invalidContentType(reason: "a parameter is not of the form attribute=value")
            }
            skipWhitespace()
            let value = try readValue()
            hasName = hasName || attribute == "name"
            parameters.append(Array(attribute.utf8) + [ASCII.equals] + value)
            skipWhitespace()
        }
        return (type + "/" + subtype, parameters, hasName)
    }

    /// RFC 2045 §5.1 token: printable ASCII except space and tspecials.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        guard byte > 0x20 && byte < 0x7F else { return false }
        return !"()<>@,;:\\\"/[]?=".utf8.contains(byte)
    }

    private mutating func readToken() -> String {
        let start = index
        while index < bytes.count && ContentTypeParser.isTokenCharacter(bytes[index]) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// A token as it is, or a quoted string re-quoted in canonical form.
    private mutating func readValue() throws(AttachmentError) -> [UInt8] {
        guard index < bytes.count, bytes[index] == ASCII.quote else {
            let token = readToken()
            guard !token.isEmpty else { throw .invalidContentType(reason: "a parameter has no value") }
            return Array(token.utf8)
        }
        index += 1
        var content: [UInt8] = []
        while index < bytes.count && bytes[index] != ASCII.quote {
            if bytes[index] == ASCII.backslash { index += 1 }
            guard index < bytes.count else { break }
            content.append(bytes[index])
            index += 1
        }
        guard consume(ASCII.quote) else { throw .invalidContentType(reason: "a quoted parameter value is not closed") }
        return PhraseForm.quotedString(content)
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count && ASCII.isWhitespace(bytes[index]) { index += 1 }
    }
}
