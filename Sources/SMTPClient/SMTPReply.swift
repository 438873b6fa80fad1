/// One complete SMTP reply: a three-digit code and its text lines (RFC 5321 §4.2).
///
/// Replies decide recipient outcomes, so they stay structured all the way to the
/// delivery engine: the class of the code says whether to retry, and the enhanced
/// status code plus the text become the recorded `last_response`.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The reply code, 200...599 (RFC 5321 §4.2.1).
    public let code: Int
    /// The RFC 3463 status code, when the server put one at the start of the text
    /// and its class agrees with the reply code.
    public let enhancedCode: EnhancedStatusCode?
    /// The text of each line, without the code, the separator and the enhanced code.
    public let lines: [String]

    /// Builds a reply; an enhanced code at the start of the first line's text is split
    /// off only when its class matches the reply code's first digit (RFC 3463 §2).
    public init(code: Int, text lines: [String]) {
        self.code = code
        let (enhanced, firstText) = EnhancedStatusCode.split(lines.first ?? "", replyCode: code)
        self.enhancedCode = enhanced
        guard enhanced != nil else {
            self.lines = lines
            return
        }
        // Servers that use enhanced codes repeat them on every line; strip them all.
        self.lines = [firstText] + lines.dropFirst().map { line in
            let (code, text) = EnhancedStatusCode.split(line, replyCode: code)
            return code == nil ? line : text
        }
    }

    /// A reply made up by the client for an outcome decided without asking the peer
    /// (message too large for the peer, SMTPUTF8 not offered, connection lost).
    public init(code: Int, enhancedCode: EnhancedStatusCode, text: String) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = [text]
    }

    /// The text of all lines joined with a space: what a person reads in a log.
    public var message: String { lines.joined(separator: " ") }

    /// 2xx: the command was accepted.
    public var isPositive: Bool { (200..<300).contains(code) }
    /// 3xx: the server waits for more (354 after DATA, 334 during AUTH).
    public var isIntermediate: Bool { (300..<400).contains(code) }
    /// 4xx: try again later; the recipient is deferred.
    public var isTransient: Bool { (400..<500).contains(code) }
    /// 5xx: do not try again; the recipient bounces.
    public var isPermanent: Bool { (500..<600).contains(code) }
    /// 421: the server is closing the connection (RFC 5321 §3.8).
    public var isClosingConnection: Bool { code == 421 }

    public var description: String {
        let enhanced = enhancedCode.map { "\($0) " } ?? ""
        return "\(code) \(enhanced)\(message)"
    }
}

/// An RFC 3463 enhanced mail system status code, `class.subject.detail` (e.g. `5.1.1`).
public struct EnhancedStatusCode: Sendable, Hashable, CustomStringConvertible {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    public let statusClass: Int
    public let subject: Int
    public let detail: Int

    public init(statusClass: Int, subject: Int, detail: Int) {
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    /// Parses `x.y.z`: class one digit of 2, 4 or 5, subject and detail 1 to 3 digits
    /// each (RFC 3463 §2).
    public init?(_ text: Substring) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              parts[0].count == 1, let statusClass = Int(parts[0]), [2, 4, 5].contains(statusClass),
              (1...3).contains(parts[1].count), parts[1].allSatisfy(\.isASCIIDigit), let subject = Int(parts[1]),
              (1...3).contains(parts[2].count), parts[2].allSatisfy(\.isASCIIDigit), let detail = Int(parts[2])
        else { return nil }
        self.init(statusClass: statusClass, subject: subject, detail: detail)
    }

    public var description: String { "\(statusClass).\(subject).\(detail)" }

    /// Splits a leading enhanced code off a reply line's text when its class matches
    /// the reply code; otherwise returns the text unchanged.
    static func split(_ line: String, replyCode: Int) -> (EnhancedStatusCode?, String) {
        let token = line.prefix { $0 != " " }
        guard let code = EnhancedStatusCode(token), code.statusClass == replyCode / 100 else {
            return (nil, line)
        }
        return (code, String(line.dropFirst(token.count).drop { $0 == " " }))
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
