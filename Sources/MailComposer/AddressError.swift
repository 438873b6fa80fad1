/// Why a mailbox or address was refused. `message` says what is wrong in words
/// a caller can act on; the API puts it in a 422 `errors[].message`.
public enum AddressError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    /// CR, LF or NUL: refused outright, since they could inject a header.
    case lineBreak
    case controlCharacter
    case missingAtSign
    case emptyLocalPart
    /// A character that an unquoted local part may not hold (RFC 5322 §3.2.3 atext).
    case invalidLocalPartCharacter(Character)
    /// A dot at the start or end of the local part, or two dots in a row.
    case misplacedDot
    case unterminatedQuotedString
    /// A quoted local part with a character RFC 5321 §4.1.2 does not allow there.
    case invalidQuotedCharacter(Character)
    case localPartTooLong(octets: Int)
    case emptyDomain
    case emptyDomainLabel
    case invalidDomainCharacter(Character)
    case domainLabelHyphen
    case domainLabelTooLong(octets: Int)
    case domainTooLong(octets: Int)
    /// The last label is all digits: an IP address written without brackets.
    case numericTopLevelDomain
    case invalidPunycodeLabel(String)
    case invalidAddressLiteral
    case addressTooLong(octets: Int)
    case missingClosingAngleBracket
    case unexpectedAngleBracket
    case textAfterAddress
    case unterminatedDisplayName
    /// `"`, `<` or `>` in a display name that is not a quoted string.
    case displayNameNeedsQuotes
    case displayNameLineBreak
    case displayNameControlCharacter

    /// True when the display name, not the address, is at fault: the API
    /// reports those on `…name` rather than `…email`.
    public var concernsDisplayName: Bool {
        switch self {
        case .unterminatedDisplayName, .displayNameNeedsQuotes, .displayNameLineBreak, .displayNameControlCharacter:
            true
        default:
            false
        }
    }

    public var message: String {
        switch self {
        case .empty: "the address is empty"
        case .lineBreak: "the address contains a line break (CR or LF) or a NUL byte"
        case .controlCharacter: "the address contains a control character"
        case .missingAtSign: "the address has no @ sign"
        case .emptyLocalPart: "the address has nothing before the @ sign"
        case .invalidLocalPartCharacter(let character):
            "the character \"\(character)\" is not allowed before the @ sign unless that part is quoted"
        case .misplacedDot: "the part before the @ sign starts or ends with a dot, or has two dots in a row"
        case .unterminatedQuotedString: "the quoted part before the @ sign has no closing quote"
        case .invalidQuotedCharacter(let character):
            "the character \"\(character)\" is not allowed in a quoted local part"
        case .localPartTooLong(let octets): "the part before the @ sign is \(octets) octets long; at most 64 are allowed"
        case .emptyDomain: "the address has nothing after the @ sign"
        case .emptyDomainLabel: "the domain has an empty label (a dot at its start or end, or two dots in a row)"
        case .invalidDomainCharacter(let character): "the character \"\(character)\" is not allowed in a domain name"
        case .domainLabelHyphen: "a domain label starts or ends with a hyphen"
        case .domainLabelTooLong(let octets): "a domain label is \(octets) octets long in ASCII form; at most 63 are allowed"
        case .domainTooLong(let octets): "the domain is \(octets) octets long in ASCII form; at most 255 are allowed"
        case .numericTopLevelDomain: "the domain ends in a numeric label; write an IP address as a literal such as [192.0.2.1]"
        case .invalidPunycodeLabel(let label): "the domain label \"\(label)\" is not valid Punycode"
        case .invalidAddressLiteral: "the address literal is invalid; use [192.0.2.1] or [IPv6:2001:db8::1]"
        case .addressTooLong(let octets): "the address is \(octets) octets long; at most 254 are allowed"
        case .missingClosingAngleBracket: "the address has a < without a closing >"
        case .unexpectedAngleBracket: "the address has a stray < or >"
        case .textAfterAddress: "there is text after the closing >"
        case .unterminatedDisplayName: "the quoted display name has no closing quote"
        case .displayNameNeedsQuotes: "a display name containing \", < or > must be a quoted string"
        case .displayNameLineBreak: "the name contains a line break (CR or LF) or a NUL byte"
        case .displayNameControlCharacter: "the name contains a control character"
        }
    }

    public var description: String { message }
}
