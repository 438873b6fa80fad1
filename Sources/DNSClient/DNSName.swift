/// A domain name as DNS carries it: a sequence of labels of raw octets.
///
/// Names are compared without regard to ASCII case (RFC 4343), so a response that
/// echoes our question in another case (or with DNS 0x20 mixing) still matches.
struct DNSName: Hashable, Sendable {
    /// RFC 1035 §2.3.4: a label is at most 63 octets.
    static let maxLabelLength = 63
    /// RFC 1035 §2.3.4: a name is at most 255 octets on the wire, length octets included.
    static let maxWireLength = 255

    static let root = DNSName(uncheckedLabels: [])

    /// The labels, leftmost first, without the empty root label.
    let labels: [[UInt8]]

    init(uncheckedLabels labels: [[UInt8]]) {
        self.labels = labels
    }

    /// Parses a dotted name such as `mx1.example.org` or `example.org.`; `.` is the root.
    ///
    /// Names reach us as A-labels (IDNA is done before), so only printable ASCII other
    /// than `\`, `[` and `]` is accepted: anything else could not have come from a valid
    /// address (brackets mark an address literal, which is no name to look up).
    init(_ text: String) throws(DNSError) {
        if text == "." {
            self = .root
            return
        }
        var body = Substring(text)
        if body.hasSuffix(".") { body = body.dropLast() }
        guard !body.isEmpty else { throw .invalidName("empty name") }
        var labels: [[UInt8]] = []
        for part in body.split(separator: ".", omittingEmptySubsequences: false) {
            let label = Array(part.utf8)
            guard !label.isEmpty else { throw .invalidName("empty label in '\(text)'") }
            guard label.count <= Self.maxLabelLength else {
                throw .invalidName("label longer than 63 octets in '\(text)'")
            }
            guard label.allSatisfy(Self.isAllowedInText) else {
                throw .invalidName("'\(text)' has a character no host name carries")
            }
            labels.append(label)
        }
        self.labels = labels
        guard wireLength <= Self.maxWireLength else { throw .invalidName("'\(text)' is longer than 255 octets") }
    }

    private static func isAllowedInText(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "[") && byte != UInt8(ascii: "]")
    }

    var isRoot: Bool { labels.isEmpty }

    /// Octets this name takes uncompressed on the wire: a length octet per label plus the root.
    var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.labels.count == rhs.labels.count else { return false }
        return zip(lhs.labels, rhs.labels).allSatisfy { a, b in
            a.count == b.count && zip(a, b).allSatisfy { asciiLowercased($0) == asciiLowercased($1) }
        }
    }

    func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(Self.asciiLowercased(byte)) }
        }
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
    }

    /// Appends the uncompressed wire form (RFC 1035 §3.1).
    func encode(into bytes: inout [UInt8]) {
        for label in labels {
            bytes.append(UInt8(label.count))
            bytes.append(contentsOf: label)
        }
        bytes.append(0)
    }
}

extension DNSName: CustomStringConvertible {
    /// The dotted form without the trailing dot, `.` for the root. Octets that would
    /// make the text ambiguous or unprintable (`.` or `\` inside a label, controls,
    /// non-ASCII) are written `\DDD` as in RFC 1035 §5.1 master files.
    var description: String {
        guard !isRoot else { return "." }
        return labels.map { label in
            var text = ""
            for byte in label {
                if byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: ".") && byte != UInt8(ascii: "\\") {
                    text.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            return text
        }.joined(separator: ".")
    }
}
