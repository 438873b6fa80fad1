/// A mailbox (RFC 5322 §3.4): an optional display name and an address. Built
/// only through the throwing initialisers and `parse`, so the name never holds
/// a line break or control character and the address is always valid.
public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    /// The name as the caller wrote it (unquoted, not encoded); nil when none.
    public let displayName: String?
    public let address: EmailAddress

    /// From parts that are known good already (for example an address parsed
    /// earlier); the name is checked.
    public init(address: EmailAddress, displayName: String? = nil) throws(AddressError) {
        self.address = address
        self.displayName = try Mailbox.checkedDisplayName(displayName)
    }

    /// The JSON object form `{"email": …, "name": …}`. A name that is empty or
    /// only white space counts as none. Errors say whether the name or the
    /// address is at fault (`AddressError.concernsDisplayName`).
    public init(email: String, name: String?) throws(AddressError) {
        let displayName = try Mailbox.checkedDisplayName(name)
        self.address = try EmailAddress.parse(email)
        self.displayName = displayName
    }

    /// Parses the string form: `a@b.c`, `Name <a@b.c>`, `"Quoted, Name" <a@b.c>`
    /// or `<a@b.c>`. Surrounding white space is ignored; comments and groups are
    /// not accepted.
    public static func parse(_ text: String) throws(AddressError) -> Mailbox {
        let bytes = Array(text.utf8)
        let trimmed = bytes[...].trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .empty }
        switch ControlScan.scan(trimmed, allowTab: true) {
        case .lineBreak: throw .lineBreak
        case .control: throw .controlCharacter
        case .clean: break
        }
        guard let open = try openingAngleBracket(in: trimmed) else {
            guard !trimmed.contains(0x3E) else { throw .unexpectedAngleBracket }
            return Mailbox(validatedName: nil, address: try EmailAddress.parse(utf8: trimmed))
        }
        guard let close = trimmed[open...].firstIndex(of: 0x3E) else { throw .missingClosingAngleBracket }
        guard close + 1 == trimmed.endIndex else { throw .textAfterAddress }
        let addressBytes = trimmed[(open + 1)..<close]
        guard !addressBytes.contains(0x3C) else { throw .unexpectedAngleBracket }
        let name = try parseDisplayName(trimmed[..<open].trimmingWhitespace())
        return Mailbox(validatedName: name, address: try EmailAddress.parse(utf8: addressBytes))
    }

    /// `Name <a@b.c>` in readable form (quoted when needed, never encoded), as
    /// the API shows a sender; not for use in a header.
    public var description: String {
        guard let displayName else { return address.string }
        let bytes = Array(displayName.utf8)
        if PhraseForm.isAtomPhrase(bytes) { return displayName + " <" + address.string + ">" }
        return String(decoding: PhraseForm.quotedString(bytes), as: UTF8.self) + " <" + address.string + ">"
    }

    private init(validatedName: String?, address: EmailAddress) {
        self.displayName = validatedName
        self.address = address
    }

    private static func checkedDisplayName(_ name: String?) throws(AddressError) -> String? {
        guard let name else { return nil }
        switch ControlScan.scan(name.utf8, allowTab: true) {
        case .lineBreak: throw .displayNameLineBreak
        case .control: throw .displayNameControlCharacter
        case .clean: break
        }
        let trimmed = Array(name.utf8)[...].trimmingWhitespace()
        return trimmed.isEmpty ? nil : String(decoding: trimmed, as: UTF8.self)
    }

    /// The phrase before `<` (RFC 5322 §3.2.5): words that are plain text or
    /// quoted strings, in any mix (`Carol "The Boss" Smith`). Quotes are removed
    /// and escapes resolved; the white space between words is kept.
    private static func parseDisplayName(_ text: ArraySlice<UInt8>) throws(AddressError) -> String? {
        var name: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == ASCII.quote {
                index = try appendQuotedString(text, from: index, to: &name)
            } else if byte == 0x3C || byte == 0x3E {
                throw .displayNameNeedsQuotes
            } else {
                name.append(byte)
                index += 1
            }
        }
        let trimmed = name[...].trimmingWhitespace()
        return trimmed.isEmpty ? nil : String(decoding: trimmed, as: UTF8.self)
    }

    /// Appends the content of the quoted string opening at `start`; returns the
    /// index after its closing quote.
    private static func appendQuotedString(
        _ text: ArraySlice<UInt8>, from start: Int, to name: inout [UInt8]
    ) throws(AddressError) -> Int {
        var index = start + 1
        while index < text.endIndex {
            switch text[index] {
            case ASCII.backslash:
                index += 1
                guard index < text.endIndex else { throw .unterminatedDisplayName }
                name.append(text[index])
            case ASCII.quote:
                return index + 1
            default:
                name.append(text[index])
            }
            index += 1
        }
        throw .unterminatedDisplayName
    }

    /// The `<` that opens the address: the first one outside quoted strings.
    private static func openingAngleBracket(in text: ArraySlice<UInt8>) throws(AddressError) -> Int? {
        var index = text.startIndex
        var scratch: [UInt8] = []
        while index < text.endIndex {
            switch text[index] {
            case ASCII.quote: index = try appendQuotedString(text, from: index, to: &scratch)
            case 0x3C: return index
            default: index += 1
            }
        }
        return nil
    }
}

extension ArraySlice<UInt8> {
    /// Drops leading and trailing spaces and tabs (the only white space a
    /// header may carry once CR and LF are refused).
    func trimmingWhitespace() -> ArraySlice<UInt8> {
        var start = startIndex
        var end = endIndex
        while start < end && ASCII.isWhitespace(self[start]) { start += 1 }
        while end > start && ASCII.isWhitespace(self[end - 1]) { end -= 1 }
        return self[start..<end]
    }
}
