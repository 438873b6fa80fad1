import JSON

/// A response a handler gives back. The server adds `Content-Length`, `Date` and,
/// when the connection ends, `Connection: close`; values a handler sets for those
/// (or for `Transfer-Encoding`) are dropped so that framing stays the server's job.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response (`application/json`).
    public static func json(_ value: JSONValue, status: HTTPStatus = .ok, headers: HTTPHeaders = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: withContentType(headers, jsonHeaders), body: JSONWriter.bytes(value))
    }

    /// Shared header lists, so that the common responses build no header storage of their own.
    private static let jsonHeaders: HTTPHeaders = ["Content-Type": "application/json"]
    private static let problemHeaders: HTTPHeaders = ["Content-Type": "application/problem+json"]

    private static func withContentType(_ headers: HTTPHeaders, _ contentType: HTTPHeaders) -> HTTPHeaders {
        guard !headers.isEmpty else { return contentType }
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: contentType["Content-Type"]!)
        return headers
    }

    /// An RFC 9457 problem response (`application/problem+json`):
    /// `{"type": "about:blank", "title": <reason phrase>, "status": <code>, "detail": …}`
    /// followed by the members of `extra` (such as an `errors` array), in order.
    /// A member of `extra` named like a standard one replaces it.
    public static func problem(
        status: HTTPStatus, detail: String? = nil, extra: JSONObject = [:], headers: HTTPHeaders = [:]
    ) -> HTTPResponse {
        let body = JSONWriter.bytes(.object(problemDocument(status: status, detail: detail, extra: extra)))
        return HTTPResponse(status: status, headers: withContentType(headers, problemHeaders), body: body)
    }

    /// The JSON object of a problem response, for callers that embed one in
    /// another document (a batch result, say).
    public static func problemDocument(status: HTTPStatus, detail: String? = nil, extra: JSONObject = [:]) -> JSONObject {
        var document: JSONObject = [
            "type": "about:blank",
            "title": .string(status.reasonPhrase),
            "status": .number(JSONNumber(status.code)),
        ]
        if let detail { document["detail"] = .string(detail) }
        for member in extra { document[member.key] = member.value }
        return document
    }
}
