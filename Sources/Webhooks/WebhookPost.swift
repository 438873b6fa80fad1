/// One event to POST: where, which event (it names the Standard Webhooks
/// `webhook-id` and enters the signature), and the exact body bytes.
public struct WebhookRequest: Sendable, Equatable {
    public var url: String
    public var eventID: String
    public var body: [UInt8]

    public init(url: String, eventID: String, body: [UInt8]) {
        self.url = url
        self.eventID = eventID
        self.body = body
    }
}

/// How one POST ended, as the client saw it. The service turns it into a stored
/// result (`WebhookRetryPolicy`).
public enum WebhookPostOutcome: Sendable, Equatable {
    /// The receiver answered. `body` holds at most the client's response body limit;
    /// a longer body was cut off there (and the connection closed), never buffered.
    case answered(status: Int, body: [UInt8])
    /// Every address the host resolved to was refused by the address guard: nothing
    /// was sent. `reason` names the address and its range.
    case refused(reason: String)
    /// No answer: libcurl's error (connect failure, timeout, TLS, malformed URL).
    case failed(WebhookTransportError)
    /// The client shut down before the POST ended: the receiver may or may not have it.
    case canceled

    /// Whether a request went out (an event's `attempts` counts only those).
    var wasSent: Bool {
        if case .refused = self { return false }
        return true
    }
}

/// A libcurl error with its `CURLcode`, so callers can tell a timeout from a
/// refused connection without parsing text.
public struct WebhookTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `CURLcode` (28 is a timeout, 7 a failed connect).
    public var code: Int
    /// libcurl's detailed message (`Failed to connect to … : Connection refused`).
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    /// CURLE_OPERATION_TIMEDOUT: `MAILGATE_WEBHOOK_TIMEOUT` passed.
    public var isTimeout: Bool { code == 28 }

    /// Errors that no retry can cure: the URL itself is unusable
    /// (CURLE_UNSUPPORTED_PROTOCOL 1, CURLE_URL_MALFORMAT 3).
    public var isPermanent: Bool { code == 1 || code == 3 }

    public var description: String { "curl error \(code): \(message)" }
}

/// Why a client could not be made.
public struct WebhookClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
