/// The request line and header section of one request, with what the parser
/// derived from them: how the body is framed and whether the connection persists.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: HTTPMethod
    /// The request-target exactly as received (origin-form, absolute-form or `*`).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: HTTPBodyFraming
    /// Whether the connection may carry another request after this one
    /// (RFC 9112 §9.3: HTTP/1.1 persists unless `close`; HTTP/1.0 only with `keep-alive`).
    public var keepAlive: Bool
    /// `Expect: 100-continue` on an HTTP/1.1 request (RFC 9110 §10.1.1).
    public var expectsContinue: Bool

    public init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:],
        framing: HTTPBodyFraming = .none, keepAlive: Bool = true, expectsContinue: Bool = false
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }
}

/// How a request's body is delimited (RFC 9112 §6.3).
public enum HTTPBodyFraming: Sendable, Equatable {
    case none
    case contentLength(Int)
    case chunked
}

/// Why a request could not be parsed, with the status the server answers.
/// After any of these the connection cannot be trusted to be in sync, so it is closed.
public enum HTTPRequestParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidMethod
    case invalidTarget
    case invalidVersion
    case unsupportedVersion
    case bareLineFeed
    case bareCarriageReturn
    case obsoleteLineFolding
    case invalidHeaderName
    case invalidHeaderValue
    case missingHost
    case duplicateHost
    case invalidContentLength
    case conflictingFraming
    case invalidTransferEncoding
    case unsupportedTransferCoding
    case invalidChunk
    case unsupportedExpectation
    case headTooLarge
    case tooManyHeaders
    case trailersTooLarge
    case bodyTooLarge

    /// The response status for this error.
    public var statusCode: Int {
        switch self {
        case .headTooLarge, .tooManyHeaders, .trailersTooLarge: 431
        case .bodyTooLarge: 413
        case .unsupportedVersion: 505
        case .unsupportedTransferCoding: 501
        case .unsupportedExpectation: 417
        default: 400
        }
    }

    /// A sentence for the `detail` member of the problem response.
    public var description: String {
        switch self {
        case .invalidMethod: "The request method is not a valid token."
        case .invalidTarget: "The request target is not a valid origin-form, absolute-form or '*'."
        case .invalidVersion: "The request line does not end in a valid HTTP version."
        case .unsupportedVersion: "Only HTTP/1.0 and HTTP/1.1 are supported."
        case .bareLineFeed: "A line ends in LF without CR."
        case .bareCarriageReturn: "A CR is not followed by LF."
        case .obsoleteLineFolding: "Obsolete line folding is not accepted."
        case .invalidHeaderName: "A header field name is not a valid token."
        case .invalidHeaderValue: "A header field value contains a control character."
        case .missingHost: "An HTTP/1.1 request needs a Host header."
        case .duplicateHost: "The request has more than one Host header."
        case .invalidContentLength: "Content-Length is not a single non-negative integer."
        case .conflictingFraming: "The request has both Content-Length and Transfer-Encoding."
        case .invalidTransferEncoding: "Transfer-Encoding must end in chunked, once, on an HTTP/1.1 request."
        case .unsupportedTransferCoding: "Only the chunked transfer coding is supported."
        case .invalidChunk: "The chunked body is malformed."
        case .unsupportedExpectation: "Only 'Expect: 100-continue' is supported."
        case .headTooLarge: "The request line and headers are too large."
        case .tooManyHeaders: "The request has too many header fields."
        case .trailersTooLarge: "The chunked trailer section is too large."
        case .bodyTooLarge: "The request body is too large."
        }
    }
}
