/// Rewrites a message whose header fields carry raw UTF-8 (RFC 6532) for a
/// peer that did not offer SMTPUTF8, the way RFC 6857 §3 downgrades one:
/// the peer gets a 7-bit header section, and nobody gets 8-bit octets the
/// peer never agreed to (SPEC §2: 7-bit unless the peer offers 8BITMIME).
///
/// - An address field (From, To, Cc, Reply-To, …) keeps its ASCII mailboxes
///   as they are; a mailbox whose address has a UTF-8 local part cannot be
///   written in ASCII, so it becomes an empty group whose display name shows
///   it: `Jörg <jörg@example.org>` → `=?utf-8?q?J=C3=B6rg_<j=C3=B6rg@example.org>?= :;`.
///   Readers show who it was; nobody replies to an address the peer's users
///   could not reach anyway.
/// - Any other field with UTF-8 (a `raw` message's Subject, say) becomes
///   RFC 2047 encoded words.
/// - Fields without 8-bit octets, and the body, are copied untouched.
///
/// Pure: bytes in, bytes out. The input has CRLF line ends (composed
/// messages, and `raw` ones after normalisation).
public enum HeaderDowngrade {
    /// Fields whose value is an address list (RFC 5322 §3.6.2, §3.6.3, §3.6.6).
    static let addressFields: Set<String> = [
        "from", "sender", "reply-to", "to", "cc", "bcc",
        "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc",
    ]

    /// The message with every header field made ASCII; the same bytes when
    /// the header section has no 8-bit octet.
    public static func downgraded(_ message: [UInt8]) -> [UInt8] {
        let headerEnd = headerSectionEnd(of: message)
        guard message[..<headerEnd].contains(where: { $0 >= 0x80 }) else { return message }
        var writer = MessageWriter(capacity: message.count + 256)
        var start = 0
        while start < headerEnd {
            let end = fieldEnd(in: message, from: start, limit: headerEnd)
            let field = message[start..<end]
            if field.contains(where: { $0 >= 0x80 }), let colon = field.firstIndex(of: ASCII.colon) {
                rewrite(name: message[start..<colon], value: unfolded(message[(colon + 1)..<end]), into: &writer)
            } else {
                writer.append(contentsOf: field)
            }
            start = end
        }
        writer.append(contentsOf: message[headerEnd...])
        return writer.bytes
    }

    private static func rewrite(name: ArraySlice<UInt8>, value: [UInt8], into writer: inout MessageWriter) {
        let fieldName = String(decoding: name, as: UTF8.self)
        let text = trimmed(value[...])
        writer.beginField(fieldName)
        if addressFields.contains(fieldName.lowercased()), let mailboxes = topLevelItems(of: text) {
            for (index, mailbox) in mailboxes.enumerated() {
                let isLast = index == mailboxes.count - 1
                if mailbox.contains(where: { $0 >= 0x80 }) {
                    appendGroupShowing(mailbox, into: &writer)
                    writer.appendWord(isLast ? ":;" : ":;,")
                } else {
                    writer.appendUnstructured(mailbox, mayFoldFirst: true)
                    if !isLast { writer.appendAttached(",") }
                }
            }
        } else if !text.isEmpty {
            writer.appendEncodedWords(Array(text))
        }
        writer.endField()
    }

    /// The display name of the empty group that stands for `mailbox`: the
    /// mailbox as a reader would show it (`José <jösé@example.org>`), as
    /// encoded words, kept in one word when it fits.
    private static func appendGroupShowing(_ mailbox: ArraySlice<UInt8>, into writer: inout MessageWriter) {
        guard let open = mailbox.lastIndex(of: 0x3C) else {
            writer.appendEncodedWords(Array(mailbox), keepWhole: true)
            return
        }
        let name = readableName(trimmed(mailbox[..<open]))
        writer.appendEncodedWords(name.isEmpty ? Array(mailbox[open...]) : name + [ASCII.space] + mailbox[open...], keepWhole: true)
    }

    /// A display name as its reader sees it: UTF-8 encoded words decoded
    /// (adjacent ones joined, RFC 2047 §6.2), quotes and escapes removed,
    /// white space runs made one space.
    static func readableName(_ phrase: ArraySlice<UInt8>) -> [UInt8] {
        var name: [UInt8] = []
        var previousWasEncoded = false
        for word in phrase.split(whereSeparator: ASCII.isWhitespace) {
            if let decoded = EncodedWordDecoder.decode(word) {
                if !previousWasEncoded && !name.isEmpty { name.append(ASCII.space) }
                name += decoded
                previousWasEncoded = true
            } else {
                if !name.isEmpty { name.append(ASCII.space) }
                var escaped = false
                for byte in word {
                    if escaped { name.append(byte); escaped = false }
                    else if byte == ASCII.backslash { escaped = true }
                    else if byte != ASCII.quote { name.append(byte) }
                }
                previousWasEncoded = false
            }
        }
        return name
    }

    /// The comma-separated items of an address list, trimmed; nil when the
    /// list has a group (`team: a@b, c@d;`), which is then encoded whole.
    static func topLevelItems(of text: ArraySlice<UInt8>) -> [ArraySlice<UInt8>]? {
        var items: [ArraySlice<UInt8>] = []
        var itemStart = text.startIndex
        var inQuotes = false
        var escaped = false
        var angleDepth = 0
        var commentDepth = 0
        for index in text.indices {
            let byte = text[index]
            if escaped { escaped = false; continue }
            switch byte {
            case ASCII.backslash where inQuotes || commentDepth > 0: escaped = true
            case ASCII.quote where commentDepth == 0: inQuotes.toggle()
            case 0x28 where !inQuotes: commentDepth += 1
            case 0x29 where !inQuotes && commentDepth > 0: commentDepth -= 1
            case 0x3C where !inQuotes && commentDepth == 0: angleDepth += 1
            case 0x3E where !inQuotes && commentDepth == 0 && angleDepth > 0: angleDepth -= 1
            case ASCII.colon, 0x3B:
                if !inQuotes && commentDepth == 0 && angleDepth == 0 { return nil }
            case 0x2C where !inQuotes && commentDepth == 0 && angleDepth == 0:
                items.append(trimmed(text[itemStart..<index]))
                itemStart = index + 1
            default: break
            }
        }
        items.append(trimmed(text[itemStart...]))
        let mailboxes = items.filter { !$0.isEmpty }
        return mailboxes.isEmpty ? nil : mailboxes
    }

    // MARK: Header section

    /// The index just past the CRLF that ends the last header field (the
    /// empty line follows), or the whole message when it has no body.
    static func headerSectionEnd(of message: [UInt8]) -> Int {
        if message.starts(with: [ASCII.cr, ASCII.lf]) { return 0 }
        var index = 0
        while index + 3 < message.count {
            if message[index] == ASCII.cr, message[index + 1] == ASCII.lf, message[index + 2] == ASCII.cr,
               message[index + 3] == ASCII.lf {
                return index + 2
            }
            index += 1
        }
        return message.count
    }

    /// The end of the field starting at `start`: past the CRLF of its last
    /// line (continuation lines begin with white space).
    private static func fieldEnd(in message: [UInt8], from start: Int, limit: Int) -> Int {
        var index = start
        while index < limit {
            if message[index] == ASCII.lf, index + 1 >= limit || !ASCII.isWhitespace(message[index + 1]) {
                return index + 1
            }
            index += 1
        }
        return limit
    }

    /// A field value without its line breaks (RFC 5322 §2.2.3 unfolding).
    private static func unfolded(_ value: ArraySlice<UInt8>) -> [UInt8] {
        value.filter { $0 != ASCII.cr && $0 != ASCII.lf }
    }

    private static func trimmed(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = text
        while let first = slice.first, ASCII.isWhitespace(first) { slice = slice.dropFirst() }
        while let last = slice.last, ASCII.isWhitespace(last) { slice = slice.dropLast() }
        return slice
    }
}
