/// One message to send in one SMTP transaction.
public struct SMTPEnvelope: Sendable, Hashable {
    /// The most RCPT commands a server must take in one transaction (RFC 5321
    /// §4.5.3.1.8); the caller splits larger recipient lists into several envelopes.
    public static let recipientLimit = 100

    /// The reverse path, without angle brackets; empty for the null sender `<>`.
    public var sender: String
    /// Forward paths, without angle brackets, in the order results are reported.
    /// RFC 5321 §4.5.3.1.8 only promises 100 per transaction: the caller splits.
    public var recipients: [String]
    /// The RFC 5322 message with CRLF line endings, not dot-stuffed.
    public var content: [UInt8]
    /// Sends `BODY=8BITMIME` when the server offers it. By default: whether the
    /// content has a byte above 127.
    public var requires8BitMIME: Bool
    /// The content itself carries UTF-8 headers (RFC 6532), so the whole message needs
    /// SMTPUTF8. Addresses are checked on their own: any non-ASCII byte needs it.
    public var contentRequiresSMTPUTF8: Bool

    public init(
        sender: String,
        recipients: [String],
        content: [UInt8],
        requires8BitMIME: Bool? = nil,
        contentRequiresSMTPUTF8: Bool = false
    ) {
        self.sender = sender
        self.recipients = recipients
        self.content = content
        self.requires8BitMIME = requires8BitMIME ?? content.contains { $0 >= 0x80 }
        self.contentRequiresSMTPUTF8 = contentRequiresSMTPUTF8
    }

    /// Whether the transaction needs the SMTPUTF8 extension at all (RFC 6531 §3.4).
    var requiresSMTPUTF8: Bool {
        contentRequiresSMTPUTF8 || Self.needsSMTPUTF8(sender) || recipients.contains(where: Self.needsSMTPUTF8)
    }

    /// An address with any non-ASCII byte can only be sent with SMTPUTF8.
    static func needsSMTPUTF8(_ address: String) -> Bool {
        address.utf8.contains { $0 >= 0x80 }
    }

    /// Whether an address can be written into a command as is: no control characters
    /// (CR or LF would inject commands) and no angle brackets.
    static func isSafeInCommand(_ address: String) -> Bool {
        !address.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }
    }
}

/// The outcome of one recipient in one transaction.
public struct SMTPRecipientResult: Sendable, Hashable {
    public var recipient: String
    /// The reply that decided this recipient: its RCPT reply when that was not 2xx,
    /// else the reply to DATA or to the end of DATA; a synthesized reply when the
    /// client decided alone (SIZE, SMTPUTF8) or the connection failed first.
    /// 2xx → delivered, 4xx → deferred, 5xx → bounced.
    public var reply: SMTPReply
    /// True when `reply` was not sent by the peer.
    public var isSynthesized: Bool

    public init(recipient: String, reply: SMTPReply, isSynthesized: Bool) {
        self.recipient = recipient
        self.reply = reply
        self.isSynthesized = isSynthesized
    }
}

/// Everything one `send` learned: a reply for every recipient, in envelope order.
public struct SMTPTransactionResult: Sendable, Hashable {
    public var recipients: [SMTPRecipientResult]
    /// The reply to the end of DATA, or to DATA itself when it was refused; nil when
    /// the transaction never got that far.
    public var dataReply: SMTPReply?
    /// Set when the connection failed after some recipients already had replies of
    /// their own: the others carry this error's `recordedReply` and must be deferred
    /// (the message may or may not have arrived; SPEC §3 is at least once).
    public var interruption: SMTPError?

    public init(recipients: [SMTPRecipientResult], dataReply: SMTPReply?, interruption: SMTPError?) {
        self.recipients = recipients
        self.dataReply = dataReply
        self.interruption = interruption
    }
}
