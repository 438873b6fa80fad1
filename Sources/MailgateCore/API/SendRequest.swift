import Foundation
import JSON
import MailComposer

/// A `POST /v1/messages` request that passed every rule of SPEC §2: what the
/// composer and the store need, in typed values.
public struct SendRequest: Sendable {
    public enum Content: Sendable {
        case structured(text: String?, html: String?, attachments: [MessageAttachment], headers: [HeaderField])
        /// A whole RFC 5322 message, already decoded from base64.
        case raw([UInt8])
    }

    public var from: Mailbox
    public var to: [Mailbox]
    public var cc: [Mailbox]
    public var bcc: [Mailbox]
    public var replyTo: [Mailbox]
    public var subject: String?
    public var content: Content
    public var tags: [String]
    public var metadata: JSONObject
    public var webhookURL: String?
    public var sendAt: Date?

    /// Every recipient once (to, then cc, then bcc), compared without case: the
    /// envelope's RCPT TO list.
    public var envelopeRecipients: [EmailAddress] {
        var seen = Set<String>()
        var result: [EmailAddress] = []
        for mailbox in to + cc + bcc where seen.insert(mailbox.address.string.lowercased()).inserted {
            result.append(mailbox.address)
        }
        return result
    }
}

/// The limits a send request is checked against, from the configuration.
public struct SendRequestLimits: Sendable {
    public var maxRecipients: Int
    public var allowPrivateWebhooks: Bool

    public init(maxRecipients: Int, allowPrivateWebhooks: Bool) {
        self.maxRecipients = maxRecipients
        self.allowPrivateWebhooks = allowPrivateWebhooks
    }

    /// At most this many tags, each at most `maximumTagLength` Unicode code
    /// points (what JSON Schema's `maxLength` counts, so openapi.yaml can say it).
    static let maximumTags = 50
    static let maximumTagLength = 128
    /// The metadata object as JSON text may take at most this many bytes.
    static let maximumMetadataBytes = 16 * 1024
}
