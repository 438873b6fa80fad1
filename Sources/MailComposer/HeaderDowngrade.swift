/// Rewrites a message whose header fields carry raw UTF-8 (RFC 6532) for a
/// peer that did not offer SMTPUTF8, the way RFC 6857 §3 downgrades one, so
/// that the peer gets no 8-bit header octets it never agreed to (SPEC §2:
/// 7-bit unless the peer offers 8BITMIME; UTF-8 headers need SMTPUTF8).
///
/// - Address fields (From, To, Cc, Reply-To, …): ASCII mailboxes stay as they
///   are, a UTF-8 display name becomes encoded words in front of its address,
///   and a mailbox whose address has a UTF-8 local part, which no ASCII form
///   can carry, becomes an empty group whose display name shows it:
///   `Jörg <jörg@example.org>` → `=?utf-8?b?…?= :;`. Readers show who it was;
///   nobody replies to an address the peer's users could not reach anyway.
/// - Unstructured fields (Subject, Comments, Keywords, `X-…`) become encoded words.
/// - Other structured fields (a `raw` message's `Content-Type` parameters,
///   say) have no encoded-word form and are left as they are, as is every
///   field without 8-bit octets, and the body.
///
/// Pure: bytes in, bytes out. The input has CRLF line ends (composed
/// messages, and `raw` ones after normalisation).
public enum HeaderDowngrade {
    /// Fields whose value is an address list (RFC 5322 §3.6.2, §3.6.3, §3.6.6).
    static let addressFields: Set<String> = [
        "from", "sender", "reply-to", "to", "cc", "bcc",
        "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc",
    ]

    /// Fields whose value is free text (RFC 5322 §3.6.5, and extension fields).
    static func isUnstructured(_ lowercasedName: String) -> Bool {
        ["subject", "comments", "keywords"].contains(lowercasedName) || lowercasedName.hasPrefix("x-")
    }

    /// The message with its UTF-8 header fields downgraded; the same bytes
    /// when the header section has no 8-bit octet.
    public static func downgraded(_ message: [UInt8]) -> [UInt8] {
        let headerEnd = HeaderSection.end(of: message[...])
        guard message[..<headerEnd].contains(where: { $0 >= 0x80 }) else { return message }
        var writer = MessageWriter(capacity: message.count + 256)
        for field in HeaderSection.fields(of: message[...]) {
            let bytes = message[field.range]
            guard bytes.contains(where: { $0 >= 0x80 }), let colon = bytes.firstIndex(of: ASCII.colon) else {
                writer.append(contentsOf: bytes)
                continue
            }
            let name = String(decoding: message[field.range.lowerBound..<colon], as: UTF8.self)
            let value = HeaderSection.value(of: bytes)
            if addressFields.contains(field.name) {
                writer.beginField(name)
                if let mailboxes = AddressList.items(of: value) {
                    appendMailboxes(mailboxes, into: &writer)
                } else {
                    // Groups (or no mailbox at all): one empty group that shows the whole value.
                    writer.appendEncodedWords(Array(value), keepWhole: true)
                    writer.appendWord(":;")
                }
                writer.endField()
            } else if isUnstructured(field.name) {
                writer.beginField(name)
                if !value.isEmpty { writer.appendEncodedWords(Array(value)) }
                writer.endField()
            } else {
                writer.append(contentsOf: bytes)
            }
        }
        writer.append(contentsOf: message[headerEnd...])
        return writer.bytes
    }

    private static func appendMailboxes(_ mailboxes: [ArraySlice<UInt8>], into writer: inout MessageWriter) {
        for (index, mailbox) in mailboxes.enumerated() {
            let comma: [UInt8] = index == mailboxes.count - 1 ? [] : [0x2C]
            let open = mailbox.lastIndex(of: 0x3C)
            if mailbox.allSatisfy({ $0 < 0x80 }) {
                writer.appendUnstructured(mailbox, mayFoldFirst: true)
                if !comma.isEmpty { writer.appendAttached(",") }
            } else if let open, mailbox[open...].allSatisfy({ $0 < 0x80 }) {
                // Only the name is UTF-8: encode it; the address stays usable.
                writer.appendEncodedWords(readableName(mailbox[..<open].trimmingWhitespace()), keepWhole: true)
                writer.appendWord(Array(mailbox[open...]) + comma)
            } else {
                // The address itself is UTF-8: an empty group that shows it.
                let name = open.map { readableName(mailbox[..<$0].trimmingWhitespace()) } ?? []
                let address = open.map { Array(mailbox[$0...]) } ?? Array(mailbox)
                writer.appendEncodedWords(name.isEmpty ? address : name + [ASCII.space] + address, keepWhole: true)
                writer.appendWord([ASCII.colon, 0x3B] + comma)
            }
        }
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
}
