/// Why a header name or value from a caller was refused.
public enum HeaderError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyName
    /// Not an RFC 5322 §3.6.8 field name: printable ASCII other than the colon.
    case invalidName
    case nameTooLong(octets: Int)
    /// One of the fields the gateway writes itself (`HeaderSafety.reservedFieldNames`).
    case reservedName(String)
    /// CR, LF or NUL: could end the header or split the message.
    case lineBreak
    case controlCharacter
    /// An ASCII word too long to fit on one 998-octet line (RFC 5322 §2.1.1).
    case wordTooLong(octets: Int)
    /// A field that may appear only once (RFC 5322 §3.6) given twice, or
    /// also set by the request's own `subject` or `reply_to`.
    case repeatedField
    /// An address field (`Reply-To`, `Sender`, `Resent-*`) whose value is not a
    /// list of mailboxes; the mailbox's own problem when there is one.
    case invalidAddressList(AddressError?)

    public var message: String {
        switch self {
        case .emptyName: "the header name is empty"
        case .invalidName: "the header name may hold only printable ASCII characters other than the colon"
        case .nameTooLong(let octets): "the header name is \(octets) octets long; at most \(HeaderSafety.maximumFieldNameOctets) are allowed"
        case .reservedName(let name): "the header \(name) is set by the gateway and may not be given"
        case .lineBreak: "the value contains a line break (CR or LF) or a NUL byte"
        case .controlCharacter: "the value contains a control character"
        case .wordTooLong(let octets): "the value has a \(octets)-octet word without white space; it cannot be folded under 998 octets a line"
        case .repeatedField: "this header may appear only once, and the message already has it (from subject, reply_to or another header)"
        case .invalidAddressList(let error):
            "this header holds addresses: write them like a@b.c, Name <d@e.f>" + (error.map { " (\($0.message))" } ?? "")
        }
    }

    public var description: String { message }
}

/// The rules that keep caller text from injecting a header or splitting the
/// message. The API layer calls these to report a 422 on the right field; the
/// composer calls them again before writing, so a value that slipped past is
/// refused (thrown), never written and never silently stripped.
public enum HeaderSafety {
    /// Long enough for any real field name, short enough that `Name: ` fits
    /// a 78-column line.
    public static let maximumFieldNameOctets = 76
    /// Fields the composer writes itself; `Content-*` means every name with
    /// that prefix. Compared case-insensitively.
    public static let reservedFieldNames = ["From", "To", "Cc", "Bcc", "Date", "Message-ID", "MIME-Version", "Content-*"]

    /// RFC 5322 §3.6.8: `ftext` is printable ASCII (33–126) except the colon.
    public static func isValidFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != ASCII.colon }
    }

    /// True when `text` holds CR, LF or NUL, any of which could end a header
    /// line or split the message.
    public static func containsLineBreak(_ text: String) -> Bool {
        ControlScan.scan(text.utf8, allowTab: true) == .lineBreak
    }

    /// Caller fields whose value is an address list (RFC 5322 §3.6.2, §3.6.6):
    /// checked as addresses and written like From and To, names encoded.
    static let addressFieldNames = ["Reply-To", "Sender", "Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Bcc"]

    static func isAddressFieldName(_ name: String) -> Bool {
        addressFieldNames.contains { equalsIgnoringCase(name.utf8, $0.utf8) }
    }

    /// The mailboxes of an address field's value.
    static func mailboxes(inAddressField value: String) throws(HeaderError) -> [Mailbox] {
        guard let items = AddressList.items(of: Array(value.utf8)[...]) else { throw .invalidAddressList(nil) }
        var mailboxes: [Mailbox] = []
        for item in items {
            do {
                mailboxes.append(try Mailbox.parse(String(decoding: item, as: UTF8.self)))
            } catch {
                throw .invalidAddressList(error)
            }
        }
        return mailboxes
    }

    /// Fields RFC 5322 §3.6 allows once that a caller may still give.
    static let singleFieldNames = ["Subject", "Reply-To", "Sender", "In-Reply-To", "References"]

    /// True for the fields callers may not set (see `reservedFieldNames`).
    public static func isReservedFieldName(_ name: String) -> Bool {
        let utf8 = name.utf8
        if utf8.count >= 8 && equalsIgnoringCase(utf8.prefix(8), "content-".utf8) { return true }
        return reservedFieldNames.contains { equalsIgnoringCase(utf8, $0.utf8) }
    }

    /// Checks caller headers as a whole and returns every problem, in order:
    /// each header as `checkExtraHeader` checks it, and no once-only field
    /// (`Subject`, `Reply-To`, `Sender`, `In-Reply-To`, `References`) twice,
    /// counting the Subject and Reply-To the draft writes itself. The API
    /// reports each on `headers.<name>`; `compose` throws the first.
    public static func problems(
        in fields: [HeaderField], hasSubject: Bool, hasReplyTo: Bool
    ) -> [(name: String, error: HeaderError)] {
        var problems: [(name: String, error: HeaderError)] = []
        var seen: [String] = []
        if hasSubject { seen.append("Subject") }
        if hasReplyTo { seen.append("Reply-To") }
        for field in fields {
            do {
                try checkExtraHeader(name: field.name, value: field.value)
            } catch {
                problems.append((field.name, error))
                continue
            }
            guard let single = singleFieldNames.first(where: { equalsIgnoringCase($0.utf8, field.name.utf8) }) else { continue }
            if seen.contains(single) {
                problems.append((field.name, .repeatedField))
            } else {
                seen.append(single)
            }
        }
        return problems
    }

    private static func equalsIgnoringCase(_ left: some Collection<UInt8>, _ right: some Collection<UInt8>) -> Bool {
        left.count == right.count && zip(left, right).allSatisfy { ASCII.lowercased($0) == ASCII.lowercased($1) }
    }

    /// Checks one caller header: a valid, unreserved name and a one-line value
    /// that can be folded under 998 octets.
    public static func checkExtraHeader(name: String, value: String) throws(HeaderError) {
        guard !name.isEmpty else { throw .emptyName }
        guard isValidFieldName(name) else { throw .invalidName }
        guard name.utf8.count <= maximumFieldNameOctets else { throw .nameTooLong(octets: name.utf8.count) }
        guard !isReservedFieldName(name) else { throw .reservedName(name) }
        try checkText(value)
        if isAddressFieldName(name) {
            _ = try mailboxes(inAddressField: value)
        } else if value.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII values are written as they are (never encoded: they may be
            // structured, like List-Unsubscribe), so each word must fit a line.
            let longest = longestWord(value.utf8)
            let limit = LineLimits.maximumOctets - name.utf8.count - 2
            guard longest <= limit else { throw .wordTooLong(octets: longest) }
        }
    }

    /// Checks free text for a header (a subject or a header value): no CR, LF
    /// or NUL, no other control characters than HTAB.
    public static func checkText(_ text: String) throws(HeaderError) {
        switch ControlScan.scan(text.utf8, allowTab: true) {
        case .lineBreak: throw .lineBreak
        case .control: throw .controlCharacter
        case .clean: break
        }
    }

    static func longestWord(_ bytes: some Sequence<UInt8>) -> Int {
        var longest = 0
        var current = 0
        for byte in bytes {
            if ASCII.isWhitespace(byte) {
                current = 0
            } else {
                current += 1
                longest = max(longest, current)
            }
        }
        return longest
    }
}

/// Line lengths of RFC 5322 §2.1.1 and RFC 2045 §6.7.
enum LineLimits {
    /// Every line, CRLF excluded.
    static let maximumOctets = 998
    /// Header lines are folded to stay within this where they can.
    static let preferredOctets = 78
    /// Quoted-printable and base64 body lines.
    static let encodedBodyOctets = 76
}
