/// Dispatches requests by method and path pattern.
///
/// - The most specific pattern that matches the path owns it (literal segments
///   before `{parameters}`): another method on it is a 405 with that pattern's
///   `Allow`, never a fall-through to a less specific pattern.
/// - A path no pattern matches gets 404; a path that matches only with other
///   methods gets 405 with `Allow` (TRACE, CONNECT and unknown tokens included).
/// - GET routes also answer HEAD (the server sends the headers only).
/// - OPTIONS is a method like any other: a 405 with `Allow` unless a route
///   handles it (SPEC §2: 405 for a method the path does not serve, whatever
///   the method; the API serves no browsers, so there is no CORS preflight).
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

    /// The label of responses to paths no route matched (404).
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
        // The most specific pattern that matches owns the path: `/v1/messages/batch`
        // is the batch resource, so GET on it is a 405, not `{id}` = "batch".
        for route in routes {
            guard let parameters = route.pattern.match(request.path) else { continue }
            let routed = responder.withRoute(route.pattern.text)
            guard let handler = route.handler(for: request.method) else {
                routed.respond(.problem(
                    status: .methodNotAllowed, detail: "\(request.method) is not allowed on \(request.path).",
                    headers: ["Allow": Self.allowHeader(Set(route.handlers.map(\.method)))]
                ))
                return
            }
            if parameters.isEmpty {
                handler(request, routed)
            } else {
                var request = request
                request.pathParameters = parameters
                handler(request, routed)
            }
            return
        }
        responder.withRoute(Self.unmatchedRoute)
            .respond(.problem(status: .notFound, detail: "No resource at \(request.path)."))
    }

    /// The `Allow` value: the methods in their usual order, HEAD beside GET.
    static func allowHeader(_ methods: Set<HTTPMethod>) -> String {
        var all = methods
        if all.contains(.get) { all.insert(.head) }
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
