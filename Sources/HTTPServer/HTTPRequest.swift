/// A complete request as a handler sees it: head, whole body, and where it came from.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request-target as received, query included (`path` and `query` are derived from it).
    public private(set) var target: String
    /// The path of the target, still percent-encoded, without the query.
    public private(set) var path: String
    /// The raw query (after `?`), or nil when the target has none.
    public private(set) var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The peer's address, `203.0.113.9:51234` or `[2001:db8::1]:51234`.
    public var remoteAddress: String
    /// Values of the `{name}` segments of the route that matched, percent-decoded.
    public var pathParameters: [String: String]
    /// Unique within one server run; the same number reaches `HTTPServerObserver`,
    /// so logs of a handler and the server's summary can be joined.
    public var requestID: UInt64

    public init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:],
        body: [UInt8] = [], remoteAddress: String = "", pathParameters: [String: String] = [:], requestID: UInt64 = 0
    ) {
        self.method = method
        self.target = target
        (self.path, self.query) = Self.split(target: target)
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.pathParameters = pathParameters
        self.requestID = requestID
    }

    /// The query's `name=value` pairs, decoded.
    public var queryParameters: HTTPQueryParameters { HTTPQueryParameters(query: query ?? "") }

    /// Path and query of a target; absolute-form (`http://host/p?q`) yields its path part.
    static func split(target: String) -> (path: String, query: String?) {
        var rest = Substring(target)
        if rest.first != "/", rest != "*", let schemeEnd = rest.firstRange(of: "://") {
            let afterAuthority = rest[schemeEnd.upperBound...]
            rest = afterAuthority.firstIndex { $0 == "/" || $0 == "?" }.map { afterAuthority[$0...] } ?? ""
            if rest.first != "/" { rest = "/" + rest }
        }
        guard let questionMark = rest.utf8.firstIndex(of: 0x3F) else {
            return (rest.startIndex == target.startIndex && rest.endIndex == target.endIndex ? target : String(rest), nil)
        }
        return (String(rest[..<questionMark]), String(rest[rest.index(after: questionMark)...]))
    }
}
