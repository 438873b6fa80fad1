import Foundation

/// Everything a composed message is made of, as values. The API layer fills it
/// from a request; `MessageComposer.compose` turns it into RFC 5322 bytes.
public struct MessageDraft: Sendable {
    public var from: Mailbox
    public var to: [Mailbox]
    public var cc: [Mailbox]
    /// Envelope only: Bcc recipients are never written into the message.
    public var bcc: [Mailbox]
    public var replyTo: [Mailbox]
    public var subject: String?
    public var text: String?
    public var html: String?
    public var attachments: [MessageAttachment]
    /// Caller headers, written in this order after the gateway's own.
    public var headers: [HeaderField]
    public var messageID: MessageID
    public var date: Date

    public init(
        from: Mailbox, to: [Mailbox] = [], cc: [Mailbox] = [], bcc: [Mailbox] = [], replyTo: [Mailbox] = [],
        subject: String? = nil, text: String? = nil, html: String? = nil, attachments: [MessageAttachment] = [],
        headers: [HeaderField] = [], messageID: MessageID, date: Date
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.attachments = attachments
        self.headers = headers
        self.messageID = messageID
        self.date = date
    }
}

/// One caller header (`headers` in the request), checked when composed.
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A file carried in the message. With a `contentID` and an HTML body it
/// becomes an inline part of a multipart/related (RFC 2387) that the HTML
/// refers to as `cid:…`; without HTML it is an ordinary attachment that still
/// carries its Content-ID.
public struct MessageAttachment: Sendable, Equatable {
    /// Any Unicode name; empty means none. Non-ASCII or long names are written
    /// with RFC 2231 parameters.
    public var filename: String
    /// `type/subtype` with optional parameters; empty means application/octet-stream.
    public var contentType: String
    public var content: [UInt8]
    /// Without angle brackets (`logo`), as the HTML's `cid:` refers to it.
    public var contentID: String?

    public init(filename: String, contentType: String, content: [UInt8], contentID: String? = nil) {
        self.filename = filename
        self.contentType = contentType
        self.content = content
        self.contentID = contentID
    }
}

/// The Message-ID field body `<id@host>` (RFC 5322 §3.6.4), for mailgate
/// `<msg_…@helo-name>`. Both parts are checked, so it is safe in a header.
public struct MessageID: Sendable, Hashable, CustomStringConvertible {
    public let id: String
    public let host: String

    /// nil unless `id` is a dot-atom-text and `host` a dot-atom-text or a
    /// `[…]` literal without white space (RFC 5322 id-left / id-right).
    public init?(id: String, host: String) {
        guard ASCII.isDotAtomText(id.utf8), MessageID.isValidRight(host) else { return nil }
        self.id = id
        self.host = host
    }

    /// Parses the full form `<id@host>`.
    public init?(headerValue: String) {
        guard headerValue.hasPrefix("<"), headerValue.hasSuffix(">"),
              let at = headerValue.lastIndex(of: "@") else { return nil }
        let id = headerValue[headerValue.index(after: headerValue.startIndex)..<at]
        let host = headerValue[headerValue.index(after: at)..<headerValue.index(before: headerValue.endIndex)]
        self.init(id: String(id), host: String(host))
    }

    /// `<id@host>`.
    public var headerValue: String { "<" + id + "@" + host + ">" }
    public var description: String { headerValue }

    private static func isValidRight(_ host: String) -> Bool {
        if host.hasPrefix("[") {
            let bytes = Array(host.utf8)
            return bytes.count > 2 && bytes.last == 0x5D
                && bytes.dropFirst().dropLast().allSatisfy { $0 >= 33 && $0 <= 126 && $0 != 0x5B && $0 != 0x5D && $0 != ASCII.backslash }
        }
        return ASCII.isDotAtomText(host.utf8)
    }
}

/// A message ready for the queue and the SMTP client.
public struct ComposedMessage: Sendable, Equatable {
    /// The whole message, CRLF line ends, ending with CRLF; not dot-stuffed.
    public var bytes: [UInt8]
    /// The header section carries a UTF-8 address (From, To, Cc, Reply-To), so
    /// every transaction of this message needs SMTPUTF8 (RFC 6531). A Bcc
    /// recipient's own need is its `EmailAddress.requiresSMTPUTF8`.
    public var requiresSMTPUTF8: Bool
    /// Some byte is 8-bit, so the peer must offer 8BITMIME (or SMTPUTF8).
    /// Always false for a composed message unless it holds a UTF-8 address.
    public var has8BitContent: Bool

    public init(bytes: [UInt8], requiresSMTPUTF8: Bool, has8BitContent: Bool) {
        self.bytes = bytes
        self.requiresSMTPUTF8 = requiresSMTPUTF8
        self.has8BitContent = has8BitContent
    }
}
