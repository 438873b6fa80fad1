/// Receives one summary per finished exchange, for metrics and access logs,
/// without the server knowing how they are kept.
///
/// Called on the event-loop thread right after the response is handed to the
/// kernel (or the connection died first), so it must be quick and must not block:
/// bump counters, or enqueue a log line.
public protocol HTTPServerObserver: Sendable {
    func requestFinished(_ summary: HTTPExchangeSummary)
}

/// One request and its answer, as the observer sees them.
public struct HTTPExchangeSummary: Sendable {
    /// The label of responses the server made without a handler: unparseable
    /// requests, timeouts, refusals while draining.
    public static let serverRoute = "server"

    /// The same number as `HTTPRequest.requestID`.
    public var requestID: UInt64
    /// Nil when the request line could not be parsed.
    public var method: HTTPMethod?
    /// The route pattern that matched, `Router.unmatchedRoute`, or `serverRoute`.
    public var route: String
    public var status: Int
    /// From the complete request head to the response written.
    public var duration: Duration
    public var requestBodyBytes: Int
    public var responseBodyBytes: Int
    public var remoteAddress: String

    public init(
        requestID: UInt64, method: HTTPMethod?, route: String, status: Int, duration: Duration,
        requestBodyBytes: Int, responseBodyBytes: Int, remoteAddress: String
    ) {
        self.requestID = requestID
        self.method = method
        self.route = route
        self.status = status
        self.duration = duration
        self.requestBodyBytes = requestBodyBytes
        self.responseBodyBytes = responseBodyBytes
        self.remoteAddress = remoteAddress
    }
}
