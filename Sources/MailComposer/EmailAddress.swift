/// An addr-spec (`local@domain`) checked strictly enough for a mail gateway:
/// RFC 5321 §4.1.2 and RFC 5322 §3.4.1 syntax, RFC 5321 §4.5.3.1 lengths, no
/// line breaks or controls, and the domain in ASCII (IDN labels become A-labels).
/// The only way to get one is `parse`, so every `EmailAddress` is safe to put
/// in a header or an SMTP command as it is.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// RFC 5321 §4.5.3.1.1.
    public static let maximumLocalPartOctets = 64
    /// RFC 5321 §4.5.3.1.3: a 256-octet path minus its angle brackets.
    public static let maximumOctets = 254

    /// The local part as it goes on the wire: a dot-atom, or a quoted string
    /// when it needs one. Its case is kept: only the receiving host may fold it.
    public let localPart: String
    /// The domain in ASCII: lower case, IDN labels as A-labels (`xn--…`), or an
    /// address literal such as `[192.0.2.1]`.
    public let domain: String

    /// A UTF-8 local part can only be sent to a peer that offers SMTPUTF8 (RFC 6531).
    public var requiresSMTPUTF8: Bool { localPart.utf8.contains { $0 >= 0x80 } }

    /// `localPart@domain`: the form for RCPT TO, MAIL FROM and headers.
    public var string: String { localPart + "@" + domain }
    public var description: String { string }

    private init(localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    /// Parses a bare addr-spec (no angle brackets, no display name).
    public static func parse(_ text: String) throws(AddressError) -> EmailAddress {
        try parse(utf8: Array(text.utf8)[...])
    }

    static func parse(utf8 bytes: ArraySlice<UInt8>) throws(AddressError) -> EmailAddress {
        guard !bytes.isEmpty else { throw .empty }
        switch ControlScan.scan(bytes, allowTab: false) {
        case .lineBreak: throw .lineBreak
        case .control: throw .controlCharacter
        case .clean: break
        }
        let (localPart, atIndex) = try parseLocalPart(bytes)
        let domain = try DomainName.asciiForm(of: bytes[(atIndex + 1)...])
        let length = localPart.utf8.count + 1 + domain.utf8.count
        guard length <= maximumOctets else { throw .addressTooLong(octets: length) }
        return EmailAddress(localPart: localPart, domain: domain)
    }

    /// Reads the local part up to its `@`; returns its wire form and where the `@` is.
    private static func parseLocalPart(_ bytes: ArraySlice<UInt8>) throws(AddressError) -> (String, Int) {
        let (localPart, atIndex) = bytes.first == ASCII.quote
            ? try parseQuotedLocalPart(bytes)
            : try parseDotAtomLocalPart(bytes)
        let octets = localPart.utf8.count
        guard octets <= maximumLocalPartOctets else { throw .localPartTooLong(octets: octets) }
        return (localPart, atIndex)
    }

    /// dot-atom (RFC 5322 §3.2.3) with UTF-8 allowed as atext (RFC 6532 §3.2).
    private static func parseDotAtomLocalPart(_ bytes: ArraySlice<UInt8>) throws(AddressError) -> (String, Int) {
        guard let atIndex = bytes.firstIndex(of: ASCII.at) else { throw .missingAtSign }
        guard atIndex > bytes.startIndex else { throw .emptyLocalPart }
        let local = bytes[..<atIndex]
        for byte in local where byte < 0x80 && byte != ASCII.dot && !ASCII.isAtext(byte) {
            throw .invalidLocalPartCharacter(Character(Unicode.Scalar(byte)))
        }
        guard local.first != ASCII.dot, local.last != ASCII.dot,
              !zip(local, local.dropFirst()).contains(where: { $0 == ASCII.dot && $1 == ASCII.dot })
        else { throw .misplacedDot }
        return (String(decoding: local, as: UTF8.self), atIndex)
    }

    /// Quoted-string (RFC 5321 §4.1.2 qtextSMTP / quoted-pairSMTP, UTF-8
    /// allowed). The result is canonical: unquoted when the content is a valid
    /// dot-atom, else quoted with only `"` and `\` escaped.
    private static func parseQuotedLocalPart(_ bytes: ArraySlice<UInt8>) throws(AddressError) -> (String, Int) {
        var content: [UInt8] = []
        var index = bytes.startIndex + 1
        while true {
            guard index < bytes.endIndex else { throw .unterminatedQuotedString }
            let byte = bytes[index]
            if byte == ASCII.quote { break }
            if byte == ASCII.backslash {
                index += 1
                guard index < bytes.endIndex, bytes[index] >= 0x20, bytes[index] <= 0x7E else {
                    throw index < bytes.endIndex ? .invalidQuotedCharacter("\\") : .unterminatedQuotedString
                }
            }
            content.append(bytes[index])
            index += 1
        }
        let atIndex = index + 1
        guard atIndex < bytes.endIndex else { throw .missingAtSign }
        guard bytes[atIndex] == ASCII.at else {
            throw .invalidLocalPartCharacter(Character(Unicode.Scalar(bytes[atIndex])))
        }
        guard !content.isEmpty else { throw .emptyLocalPart }
        if isUnquotedLocalPart(content) { return (String(decoding: content, as: UTF8.self), atIndex) }
        var quoted: [UInt8] = [ASCII.quote]
        for byte in content {
            if byte == ASCII.quote || byte == ASCII.backslash { quoted.append(ASCII.backslash) }
            quoted.append(byte)
        }
        quoted.append(ASCII.quote)
        return (String(decoding: quoted, as: UTF8.self), atIndex)
    }

    private static func isUnquotedLocalPart(_ bytes: [UInt8]) -> Bool {
        ASCII.isDotAtomText(bytes.map { $0 >= 0x80 ? 0x61 : $0 })
    }
}
