/// What the server calls for each request.
///
/// `handle` runs on an event-loop thread, so it must not block: answer at once
/// with `responder.respond(_:)`, or hand the work to another thread (a task, a
/// database queue) and respond from there. A request on a connection is answered
/// before the next one on that connection is read, so a handler that never
/// responds stalls its connection until the client gives up.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, responder: HTTPResponder)
}

extension HTTPHandler {
    /// Runs the handler without a server and returns its response; for tests of
    /// handlers. Suspends until the handler responds.
    public func response(to request: HTTPRequest) async -> HTTPResponse {
        await withCheckedContinuation { continuation in
            handle(request, responder: HTTPResponder { continuation.resume(returning: $0) })
        }
    }
}
