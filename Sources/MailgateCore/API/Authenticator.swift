import HTTPServer

/// Checks `Authorization: Bearer <key>` against `MAILGATE_API_KEYS`.
///
/// Every configured key is compared in full, in time that depends only on the
/// lengths involved, so that response times do not reveal how much of a guess
/// was right.
public struct Authenticator: Sendable {
    private let keys: [[UInt8]]

    public init(keys: [String]) { self.keys = keys.map { Array($0.utf8) } }

    /// True when no keys are configured (loopback-only mode) or the request carries one of them.
    public func isAuthorized(_ request: HTTPRequest) -> Bool {
        guard !keys.isEmpty else { return true }
        guard let header = request.headers["Authorization"] else { return false }
        // `Bearer` (any case), one or more spaces, the token (RFC 9110 §11.4).
        let utf8 = Array(header.utf8)
        guard utf8.count > 7, String(decoding: utf8.prefix(6), as: UTF8.self).lowercased() == "bearer",
              utf8[6] == 0x20 || utf8[6] == 0x09
        else { return false }
        let presented = Array(utf8.dropFirst(6).drop { $0 == 0x20 || $0 == 0x09 })
        var matched = false
        for key in keys where Authenticator.constantTimeEqual(key, presented) {
            matched = true
        }
        return matched
    }

    /// 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3).
    public static var challenge: APIProblem {
        APIProblem(
            status: 401, detail: "a valid API key is required: send Authorization: Bearer <key>",
            headers: ["WWW-Authenticate": "Bearer realm=\"mailgate\""])
    }

    static func constantTimeEqual(_ expected: [UInt8], _ presented: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: expected.count ^ presented.count)
        for index in 0..<expected.count {
            let other = index < presented.count ? presented[index] : 0
            difference |= expected[index] ^ other
        }
        return difference == 0
    }
}
