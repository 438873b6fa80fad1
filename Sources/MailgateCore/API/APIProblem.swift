import HTTPServer
import JSON

/// One bad value in a request: its JSON path (SPEC §6 `errors[].field`) and why.
public struct FieldError: Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }

    var json: JSONValue { ["field": .string(field), "message": .string(message)] }
}

/// An error answer of the API, rendered as RFC 9457 problem+json.
public struct APIProblem: Error, Sendable {
    public var status: Int
    public var detail: String
    public var errors: [FieldError]
    public var headers: HTTPHeaders

    public init(status: Int, detail: String, errors: [FieldError] = [], headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    public static func badRequest(_ detail: String) -> APIProblem { APIProblem(status: 400, detail: detail) }

    public static func invalid(_ errors: [FieldError]) -> APIProblem {
        let detail = errors.count == 1 ? "\(errors[0])" : "\(errors.count) fields are invalid: \(errors.map(\.field).joined(separator: ", "))"
        return APIProblem(status: 422, detail: detail, errors: errors)
    }

    public static func unavailable(_ detail: String, retryAfterSeconds: Int) -> APIProblem {
        APIProblem(status: 503, detail: detail, headers: ["Retry-After": "\(retryAfterSeconds)"])
    }

    private var extraMembers: JSONObject {
        errors.isEmpty ? [:] : ["errors": .array(errors.map(\.json))]
    }

    /// The problem as an HTTP response; `errors` appears only when there are any.
    public var response: HTTPResponse {
        .problem(status: HTTPStatus(code: status), detail: detail, extra: extraMembers, headers: headers)
    }

    /// The problem object alone, for batch results.
    public var json: JSONValue {
        .object(HTTPResponse.problemDocument(status: HTTPStatus(code: status), detail: detail, extra: extraMembers))
    }
}
