/// Dispatches requests by method and path pattern.
///
/// - The most specific pattern that matches the path owns it (literal segments
///   before `{parameters}`): another method on it is a 405 with that pattern's
///   `Allow`, never a fall-through to a less specific pattern.
/// - A path no pattern matches gets 404; a path that matches only with other
///   methods gets 405 with `Allow` (TRACE, CONNECT and unknown tokens included).
/// - GET routes also answer HEAD (the server sends the headers only).
/// - OPTIONS on a known path answers 204 with `Allow`, unless a route handles
///   OPTIONS itself; `OPTIONS *` lists every method the router serves.
///
/// Every answer the router makes itself is `application/problem+json`, and the
/// responder it passes on carries the matched pattern for the observer.
public struct Router: HTTPHandler {
    public typealias Handler = @Sendable (HTTPRequest, HTTPResponder) -> Void

    fileprivate struct Route: Sendable {
        let pattern: RoutePattern
        var handlers: [(method: HTTPMethod, handler: Handler)]
    }

    private var routes: [Route] = []

    /// The label of responses no route produced (404, 405, OPTIONS).
    public static let unmatchedRoute = "unmatched"

    public init() {}

    /// Adds a route; the pattern must start with `/` (`{name}` marks a parameter).
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let parsed = RoutePattern(pattern)
        if let index = routes.firstIndex(where: { $0.pattern == parsed }) {
            routes[index].handlers.removeAll { $0.method == method }
            routes[index].handlers.append((method, handler))
            return
        }
        let position = routes.firstIndex { parsed.isMoreSpecific(than: $0.pattern) } ?? routes.count
        routes.insert(Route(pattern: parsed, handlers: [(method, handler)]), at: position)
    }

    /// Adds a route served by another handler.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, handler: some HTTPHandler) {
        add(method, pattern) { request, responder in handler.handle(request, responder: responder) }
    }

    public func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        var allowed: Set<HTTPMethod> = []
        // The most specific pattern that matches owns the path: `/v1/messages/batch`
        // is the batch resource, so GET on it is a 405, not `{id}` = "batch".
        for route in routes {
            guard let parameters = route.pattern.match(request.path) else { continue }
            if let handler = route.handler(for: request.method) {
                if parameters.isEmpty {
                    handler(request, responder.withRoute(route.pattern.text))
                } else {
                    var request = request
                    request.pathParameters = parameters
                    handler(request, responder.withRoute(route.pattern.text))
                }
                return
            }
            allowed.formUnion(route.handlers.map(\.method))
            break
        }
        let labelled = responder.withRoute(Self.unmatchedRoute)
        if request.method == .options, request.path == "*" || !allowed.isEmpty {
            let methods = request.path == "*" ? Set(routes.flatMap { $0.handlers.map(\.method) }) : allowed
            labelled.respond(HTTPResponse(status: .noContent, headers: ["Allow": Self.allowHeader(methods)]))
        } else if allowed.isEmpty {
            labelled.respond(.problem(status: .notFound, detail: "No resource at \(request.path)."))
        } else {
            labelled.respond(.problem(
                status: .methodNotAllowed, detail: "\(request.method) is not allowed on \(request.path).",
                headers: ["Allow": Self.allowHeader(allowed)]
            ))
        }
    }

    /// The `Allow` value: the methods in their usual order, HEAD beside GET, and OPTIONS.
    static func allowHeader(_ methods: Set<HTTPMethod>) -> String {
        var all = methods
        if all.contains(.get) { all.insert(.head) }
        all.insert(.options)
        let usual: [HTTPMethod] = [.get, .head, .post, .put, .patch, .delete, .options]
        let others = all.subtracting(usual).map(\.rawValue).sorted()
        return (usual.filter(all.contains).map(\.rawValue) + others).joined(separator: ", ")
    }
}

extension Router.Route {
    fileprivate func handler(for method: HTTPMethod) -> Router.Handler? {
        if let exact = handlers.first(where: { $0.method == method }) { return exact.handler }
        if method == .head { return handlers.first { $0.method == .get }?.handler }
        return nil
    }
}
