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
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: headers, body: JSONWriter.bytes(value))
    }

    /// An RFC 9457 problem response (`application/problem+json`):
    /// `{"type": "about:blank", "title": <reason phrase>, "status": <code>, "detail": …}`
    /// followed by the members of `extra` (such as an `errors` array), in order.
    /// A member of `extra` named like a standard one replaces it.
    public static func problem(
        status: HTTPStatus, detail: String? = nil, extra: JSONObject = [:], headers: HTTPHeaders = [:]
    ) -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/problem+json")
        return HTTPResponse(status: status, headers: headers, body: JSONWriter.bytes(.object(problemDocument(status: status, detail: detail, extra: extra))))
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
