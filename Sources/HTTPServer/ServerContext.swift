import Synchronization

/// What every loop of one server shares: settings, the handler and the observer,
/// and the counters that span loops. Read on every request, so the counters are
/// atomics rather than a lock.
final class ServerContext: Sendable {
    let configuration: HTTPServerConfiguration
    let limits: HTTPRequestParser.Limits
    let handler: any HTTPHandler
    let observer: (any HTTPServerObserver)?
    let headerTimeout: UInt64
    let idleTimeout: UInt64
    /// How long a connection being closed keeps reading (and dropping) what the
    /// client still sends, so that our last response is not destroyed by a reset.
    let lingerTimeout: UInt64

    let openConnections = Atomic<Int>(0)
    /// Requests handed to the handler whose responses are not yet all written.
    let unfinishedExchanges = Atomic<Int>(0)
    /// Requests whose head came before draining began and whose body is still arriving.
    let admittedBodies = Atomic<Int>(0)
    let isDraining = Atomic<Bool>(false)

    init(configuration: HTTPServerConfiguration, handler: any HTTPHandler, observer: (any HTTPServerObserver)?) {
        self.configuration = configuration
        self.limits = configuration.parserLimits
        self.handler = handler
        self.observer = observer
        self.headerTimeout = Self.nanoseconds(configuration.headerReadTimeout)
        self.idleTimeout = Self.nanoseconds(configuration.idleTimeout)
        self.lingerTimeout = min(2_000_000_000, Self.nanoseconds(configuration.idleTimeout))
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
