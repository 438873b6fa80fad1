import Synchronization

/// The way back to the client for one request. Call `respond(_:)` exactly once,
/// from any thread: on the loop thread while the handler runs, the response is
/// written without a wake-up; from elsewhere it is queued to the connection's
/// loop. Later calls for the same request are ignored.
public struct HTTPResponder: Sendable {
    enum Destination: Sendable {
        case connection(EventLoop, ExchangeToken)
        case callback(CallbackOnce)
    }

    let destination: Destination
    /// The route pattern that matched, reported to `HTTPServerObserver`.
    public let route: String?

    init(loop: EventLoop, token: ExchangeToken) {
        destination = .connection(loop, token)
        route = nil
    }

    /// A responder that passes the first response to `callback`: for driving
    /// handlers in tests, or for adapting them to another transport.
    public init(_ callback: @escaping @Sendable (HTTPResponse) -> Void) {
        destination = .callback(CallbackOnce(callback))
        route = nil
    }

    private init(destination: Destination, route: String?) {
        self.destination = destination
        self.route = route
    }

    /// The same responder, labelled with the route pattern that matched.
    public func withRoute(_ pattern: String) -> HTTPResponder {
        HTTPResponder(destination: destination, route: pattern)
    }

    public func respond(_ response: HTTPResponse) {
        switch destination {
        case .connection(let loop, let token):
            loop.deliver(response, for: token, route: route)
        case .callback(let once):
            once.call(response)
        }
    }
}

/// Identifies one request on one connection of a loop: a stale or repeated
/// response (the connection closed, or the request was already answered) is
/// recognised and dropped.
struct ExchangeToken: Sendable, Equatable {
    var slot: Int32
    var generation: UInt32
    var sequence: UInt64
}

/// A callback that runs at most once.
final class CallbackOnce: Sendable {
    private let called = Atomic<Bool>(false)
    private let callback: @Sendable (HTTPResponse) -> Void

    init(_ callback: @escaping @Sendable (HTTPResponse) -> Void) { self.callback = callback }

    func call(_ response: HTTPResponse) {
        guard !called.exchange(true, ordering: .acquiringAndReleasing) else { return }
        callback(response)
    }
}
