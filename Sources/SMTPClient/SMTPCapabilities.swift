/// The ESMTP extensions a server announced in its EHLO reply (RFC 5321 §4.1.1.1).
///
/// Each one changes what the client may send: PIPELINING lets the envelope go in one
/// write, SIZE lets a too-large message be refused before its body crosses the wire,
/// 8BITMIME and SMTPUTF8 say which content and addresses the server takes.
public struct SMTPCapabilities: Sendable, Hashable {
    /// RFC 2920: commands may be sent in groups.
    public var pipelining = false
    /// RFC 1870: the SIZE extension is offered.
    public var size = false
    /// RFC 1870: the largest message the server takes; nil when it announced no limit
    /// (`SIZE` alone or `SIZE 0`).
    public var maximumMessageSize: Int?
    /// RFC 6152: 8-bit message content is accepted with `BODY=8BITMIME`.
    public var eightBitMIME = false
    /// RFC 6531: UTF-8 addresses and headers are accepted with the `SMTPUTF8` parameter.
    public var smtpUTF8 = false
    /// RFC 3207: the server can switch the connection to TLS.
    public var startTLS = false
    /// RFC 3463 / RFC 2034: replies carry enhanced status codes.
    public var enhancedStatusCodes = false
    /// RFC 4954: the SASL mechanisms offered, upper-cased (`PLAIN`, `LOGIN`, ...).
    public var authenticationMechanisms: Set<String> = []

    public init() {}

    /// Reads the extension lines of a positive EHLO reply; the first line is the
    /// server's greeting name and is skipped. Unknown keywords are ignored.
    public init(ehloReply: SMTPReply) {
        for line in ehloReply.lines.dropFirst() {
            apply(line)
        }
    }

    private mutating func apply(_ line: String) {
        // `AUTH=PLAIN LOGIN` is the pre-standard form some servers still send.
        let words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map { $0.uppercased() }
        guard let keyword = words.first else { return }
        let parameters = words.dropFirst()
        switch keyword {
        case "PIPELINING": pipelining = true
        case "8BITMIME": eightBitMIME = true
        case "SMTPUTF8": smtpUTF8 = true
        case "STARTTLS": startTLS = true
        case "ENHANCEDSTATUSCODES": enhancedStatusCodes = true
        case "AUTH": authenticationMechanisms.formUnion(parameters)
        case "SIZE":
            size = true
            if let limit = parameters.first.flatMap({ Int($0) }), limit > 0 {
                maximumMessageSize = limit
            }
        default: break
        }
    }
}
