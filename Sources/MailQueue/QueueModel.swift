import Foundation

/// A recipient's delivery state (SPEC §2). `scheduled` waits for `send_at`;
/// `queued` and `deferred` wait for an attempt; the rest are final.
public enum RecipientStatus: String, Sendable, CaseIterable, Codable {
    case queued, scheduled, deferred, delivered, bounced, failed, canceled

    /// A final status never changes again.
    public var isFinal: Bool {
        switch self {
        case .queued, .scheduled, .deferred: false
        case .delivered, .bounced, .failed, .canceled: true
        }
    }

    public static let pending: [RecipientStatus] = [.queued, .scheduled, .deferred]
}

/// A message's state, derived from its recipients: `scheduled` while every
/// recipient waits for `send_at`, `queued` while any is not final, `complete`
/// when all are, `canceled` when a cancel ended it.
public enum MessageStatus: String, Sendable, CaseIterable, Codable {
    case scheduled, queued, complete, canceled
}

/// The SMTP reply (or a synthesized one) that decided a recipient's status.
public struct SMTPResponseRecord: Sendable, Equatable, Codable {
    public var code: Int
    public var enhancedCode: String?
    public var message: String
    /// Relay or MX host name as configured or looked up (an IP literal stays as written).
    public var host: String?

    public init(code: Int, enhancedCode: String?, message: String, host: String?) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.message = message
        self.host = host
    }
}

/// One recipient of a message being accepted.
public struct NewRecipient: Sendable, Equatable {
    /// The envelope address (RCPT TO), as the caller wrote it but with an A-label domain.
    public var email: String
    /// The lower-cased domain, which names the MX destination.
    public var domain: String

    public init(email: String, domain: String) {
        self.email = email
        self.domain = domain
    }
}

/// A message ready to be stored: validated, composed, with its envelope.
public struct NewMessage: Sendable {
    public var id: String
    public var createdAt: Date
    /// `send_at` when it is in the future; nil sends at once.
    public var sendAt: Date?
    public var envelopeFrom: String
    public var recipients: [NewRecipient]
    /// The From header as shown in `GET` answers.
    public var fromDisplay: String
    public var subject: String?
    public var tags: [String]
    /// The caller's metadata object, serialised as JSON text (`{}` when none).
    public var metadataJSON: String
    /// Where this message's events are posted: its own `webhook_url`, else the default.
    public var webhookURL: String?
    /// The composed RFC 5322 message with CRLF line ends.
    public var content: [UInt8]
    /// True when an address needs SMTPUTF8 (RFC 6531) to be sent at all.
    public var requiresSMTPUTF8: Bool
    /// True when the content has 8-bit bytes and wants 8BITMIME.
    public var requires8BitMIME: Bool

    public init(
        id: String, createdAt: Date, sendAt: Date?, envelopeFrom: String, recipients: [NewRecipient],
        fromDisplay: String, subject: String?, tags: [String], metadataJSON: String, webhookURL: String?,
        content: [UInt8], requiresSMTPUTF8: Bool, requires8BitMIME: Bool
    ) {
        self.id = id
        self.createdAt = createdAt
        self.sendAt = sendAt
        self.envelopeFrom = envelopeFrom
        self.recipients = recipients
        self.fromDisplay = fromDisplay
        self.subject = subject
        self.tags = tags
        self.metadataJSON = metadataJSON
        self.webhookURL = webhookURL
        self.content = content
        self.requiresSMTPUTF8 = requiresSMTPUTF8
        self.requires8BitMIME = requires8BitMIME
    }
}

/// The first answer to a request that carried an `Idempotency-Key`, kept 24 h so
/// that a retry with the same bytes gets it again.
public struct IdempotencyRecord: Sendable, Equatable {
    /// The key as scoped by the API layer (it prefixes the caller's identity).
    public var key: String
    /// SHA-256 of the request body, hex.
    public var bodyHash: String
    public var responseStatus: Int
    public var responseBody: [UInt8]
    public var createdAt: Date

    public init(key: String, bodyHash: String, responseStatus: Int, responseBody: [UInt8], createdAt: Date) {
        self.key = key
        self.bodyHash = bodyHash
        self.responseStatus = responseStatus
        self.responseBody = responseBody
        self.createdAt = createdAt
    }
}

/// What `accept` did.
public enum AcceptResult: Sendable, Equatable {
    /// Stored and synced to disk.
    case accepted
    /// The idempotency key was stored by an earlier request (maybe a concurrent
    /// one): nothing new was stored; the caller answers with this record.
    case alreadyAccepted(IdempotencyRecord)
}

/// A recipient as `GET /v1/messages/{id}` shows it.
public struct RecipientRecord: Sendable, Equatable {
    public var email: String
    public var status: RecipientStatus
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastResponse: SMTPResponseRecord?
    public var updatedAt: Date

    public init(
        email: String, status: RecipientStatus, attempts: Int, nextAttemptAt: Date?,
        lastResponse: SMTPResponseRecord?, updatedAt: Date
    ) {
        self.email = email
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastResponse = lastResponse
        self.updatedAt = updatedAt
    }
}

/// An event's webhook delivery state: `none` when the message has no webhook.
public enum WebhookStatus: String, Sendable, Codable, CaseIterable {
    case pending, delivered, dropped, none
}

/// The four outcomes that post an event (SPEC §4).
public enum EventType: String, Sendable, Codable, CaseIterable {
    case delivered, deferred, bounced, failed
}

/// An event as `GET /v1/messages/{id}` lists it.
public struct EventRecord: Sendable, Equatable {
    public var id: String
    public var type: EventType
    public var createdAt: Date
    public var recipient: String
    public var webhookStatus: WebhookStatus
    public var webhookAttempts: Int

    public init(id: String, type: EventType, createdAt: Date, recipient: String, webhookStatus: WebhookStatus, webhookAttempts: Int) {
        self.id = id
        self.type = type
        self.createdAt = createdAt
        self.recipient = recipient
        self.webhookStatus = webhookStatus
        self.webhookAttempts = webhookAttempts
    }
}

/// A stored message with its recipients (and, for a single `GET`, its events).
public struct MessageRecord: Sendable, Equatable {
    public var id: String
    public var status: MessageStatus
    public var createdAt: Date
    public var sendAt: Date?
    public var subject: String?
    public var fromDisplay: String
    public var tags: [String]
    public var metadataJSON: String
    public var recipients: [RecipientRecord]
    /// Empty in list pages, which show summaries.
    public var events: [EventRecord]

    public init(
        id: String, status: MessageStatus, createdAt: Date, sendAt: Date?, subject: String?, fromDisplay: String,
        tags: [String], metadataJSON: String, recipients: [RecipientRecord], events: [EventRecord]
    ) {
        self.id = id
        self.status = status
        self.createdAt = createdAt
        self.sendAt = sendAt
        self.subject = subject
        self.fromDisplay = fromDisplay
        self.tags = tags
        self.metadataJSON = metadataJSON
        self.recipients = recipients
        self.events = events
    }
}

/// One page of messages, newest first; `nextCursor` is nil on the last page.
public struct MessagePage: Sendable, Equatable {
    public var messages: [MessageRecord]
    public var nextCursor: String?

    public init(messages: [MessageRecord], nextCursor: String?) {
        self.messages = messages
        self.nextCursor = nextCursor
    }
}

/// What `cancel` did.
public enum CancelResult: Sendable, Equatable {
    case notFound
    /// Every recipient was already final.
    case nothingToCancel(MessageRecord)
    case canceled(MessageRecord, count: Int)
}

/// A recipient claimed for delivery, under a lease that `owner` holds until
/// `leaseExpiresAt` unless renewed.
public struct ClaimedRecipient: Sendable, Equatable {
    public var recipientID: Int64
    public var messageID: String
    public var email: String
    public var domain: String
    /// Attempts made before this one.
    public var attempts: Int
    /// True once a `deferred` event was recorded for it (only the first deferral posts one).
    public var hasDeferred: Bool
    /// When the recipient's queue lifetime started (the message's `send_at` or creation).
    public var queuedSince: Date

    public init(recipientID: Int64, messageID: String, email: String, domain: String, attempts: Int, hasDeferred: Bool, queuedSince: Date) {
        self.recipientID = recipientID
        self.messageID = messageID
        self.email = email
        self.domain = domain
        self.attempts = attempts
        self.hasDeferred = hasDeferred
        self.queuedSince = queuedSince
    }
}

/// A message's envelope sender and content, what the SMTP client sends.
public struct MessageContent: Sendable, Equatable {
    public var messageID: String
    public var envelopeFrom: String
    public var content: [UInt8]
    public var requiresSMTPUTF8: Bool
    public var requires8BitMIME: Bool

    public init(messageID: String, envelopeFrom: String, content: [UInt8], requiresSMTPUTF8: Bool, requires8BitMIME: Bool) {
        self.messageID = messageID
        self.envelopeFrom = envelopeFrom
        self.content = content
        self.requiresSMTPUTF8 = requiresSMTPUTF8
        self.requires8BitMIME = requires8BitMIME
    }
}

/// The result of one delivery attempt (or a decision made without one) for a recipient.
public struct RecipientOutcome: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case delivered
        case deferred(nextAttemptAt: Date)
        case bounced
        case failed(reason: String)
    }

    public var recipientID: Int64
    public var kind: Kind
    /// The reply that decided it (SPEC §6 `last_response`).
    public var response: SMTPResponseRecord?
    /// False for outcomes decided without connecting (NXDOMAIN, null MX): `attempts` stays.
    public var attempted: Bool
    public var decidedAt: Date

    public init(recipientID: Int64, kind: Kind, response: SMTPResponseRecord?, attempted: Bool, decidedAt: Date) {
        self.recipientID = recipientID
        self.kind = kind
        self.response = response
        self.attempted = attempted
        self.decidedAt = decidedAt
    }
}

/// An event waiting to be posted, with what its payload needs, claimed under a lease.
public struct PendingWebhook: Sendable, Equatable {
    public var eventID: String
    public var type: EventType
    public var createdAt: Date
    public var messageID: String
    public var recipient: String
    /// SPEC §6 `attempt`: delivery attempts made for the recipient when the event was made.
    public var deliveryAttempt: Int
    public var response: SMTPResponseRecord?
    /// Why a `failed` recipient was given up.
    public var reason: String?
    public var tags: [String]
    public var metadataJSON: String
    public var webhookURL: String
    /// POSTs made before this one.
    public var postAttempts: Int

    public init(
        eventID: String, type: EventType, createdAt: Date, messageID: String, recipient: String, deliveryAttempt: Int,
        response: SMTPResponseRecord?, reason: String?, tags: [String], metadataJSON: String, webhookURL: String, postAttempts: Int
    ) {
        self.eventID = eventID
        self.type = type
        self.createdAt = createdAt
        self.messageID = messageID
        self.recipient = recipient
        self.deliveryAttempt = deliveryAttempt
        self.response = response
        self.reason = reason
        self.tags = tags
        self.metadataJSON = metadataJSON
        self.webhookURL = webhookURL
        self.postAttempts = postAttempts
    }
}

/// The result of one webhook POST.
public struct WebhookPostResult: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// 2xx: done.
        case delivered
        /// 410, a refused address, or the retry schedule ran out: done, not delivered.
        case dropped
        /// Anything else: try again at the given time.
        case retry(at: Date)
    }

    public var eventID: String
    public var kind: Kind
    public var postedAt: Date
    /// False when no POST went out (the address guard refused every address):
    /// the event's `attempts` counts only POSTs made.
    public var posted: Bool

    public init(eventID: String, kind: Kind, postedAt: Date, posted: Bool = true) {
        self.eventID = eventID
        self.kind = kind
        self.postedAt = postedAt
        self.posted = posted
    }
}

/// Queue depth for `/metrics`.
public struct QueueStatistics: Sendable, Equatable {
    public var recipientsByStatus: [RecipientStatus: Int]
    /// Age of the oldest recipient in `deferred`, zero when none.
    public var oldestDeferredSeconds: Double

    public init(recipientsByStatus: [RecipientStatus: Int], oldestDeferredSeconds: Double) {
        self.recipientsByStatus = recipientsByStatus
        self.oldestDeferredSeconds = oldestDeferredSeconds
    }
}
