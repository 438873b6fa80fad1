/// How an `HTTPServer` listens and what it tolerates. Plain values with the
/// defaults of mailgate's contract; tests shorten the timeouts.
public struct HTTPServerConfiguration: Sendable {
    /// `127.0.0.1:8080`, `[::]:8080`, `0.0.0.0:0`, `localhost:8080`.
    public var listenAddress: String
    /// Event-loop threads; nil means one per available core.
    public var loopCount: Int?
    /// Request line plus headers (431 beyond).
    public var maxHeaderBytes: Int
    /// Header fields per request (431 beyond).
    public var maxHeaderCount: Int
    /// Request body, decoded (413 beyond, answered without reading it all).
    public var maxBodyBytes: Int
    /// How long a client has to send a complete request head once it started one
    /// (or once it connected): slowloris protection. 408, then close.
    public var headerReadTimeout: Duration
    /// How long a keep-alive connection may sit without a request, and how long a
    /// body read or a response write may stall.
    public var idleTimeout: Duration
    /// Open connections across all loops; beyond it new ones get a 503 and are closed.
    public var maxConnections: Int
    /// `Retry-After` of the 503 answered while draining.
    public var retryAfterSecondsWhenDraining: Int
    /// Pending connections the kernel queues per listener (`listen(2)` backlog).
    public var listenBacklog: Int32

    public init(
        listenAddress: String = "127.0.0.1:8080",
        loopCount: Int? = nil,
        maxHeaderBytes: Int = 16_384,
        maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 25_000_000,
        headerReadTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(60),
        maxConnections: Int = 10_000,
        retryAfterSecondsWhenDraining: Int = 5,
        listenBacklog: Int32 = 4096
    ) {
        self.listenAddress = listenAddress
        self.loopCount = loopCount
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.headerReadTimeout = headerReadTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.retryAfterSecondsWhenDraining = retryAfterSecondsWhenDraining
        self.listenBacklog = listenBacklog
    }

    var parserLimits: HTTPRequestParser.Limits {
        HTTPRequestParser.Limits(maxHeadBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount, maxBodyBytes: maxBodyBytes)
    }
}
