import Foundation

/// A webhook target URL, checked the way SPEC §6 asks at the moment it is given:
/// only http and https, a host, and (unless private targets are allowed) no IP
/// literal in a refused range. Host names are checked again on every POST, on
/// the addresses they resolve to.
public struct WebhookURL: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let scheme: String
    public let host: String

    /// Validates `text`, throwing a short reason a 422 or a start-up error can show.
    public init(_ text: String, guard addressGuard: AddressGuard) throws(WebhookURLError) {
        guard text.utf8.count <= 2048 else { throw WebhookURLError("is longer than 2048 characters") }
        guard !text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else {
            throw WebhookURLError("must be an absolute URL without spaces or control characters")
        }
        guard let schemeEnd = text.range(of: "://") else { throw WebhookURLError("must be an absolute http or https URL") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { throw WebhookURLError("must use http or https, not \(scheme)") }
        let rest = text[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else { throw WebhookURLError("must not carry user information") }
        let host: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw WebhookURLError("has an unterminated IPv6 literal") }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || WebhookURL.isPort(after) else { throw WebhookURLError("has an invalid port") }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            guard parts.count == 1 || WebhookURL.isPort(":" + parts[1]) else { throw WebhookURLError("has an invalid port") }
        }
        guard !host.isEmpty else { throw WebhookURLError("has no host") }
        if let address = IPAddress(String(host)) {
            if let refusal = addressGuard.refusal(for: address) {
                throw WebhookURLError("points at \(refusal); set MAILGATE_WEBHOOK_ALLOW_PRIVATE=true to allow it")
            }
        } else if host.hasPrefix("[") {
            throw WebhookURLError("has an invalid IPv6 literal")
        } else if WebhookURL.looksNumeric(host) {
            // 2130706433 or 0x7f.1 reach loopback through inet_aton: refuse such hosts outright.
            throw WebhookURLError("has a numeric host that is not a dotted IPv4 address")
        }
        self.text = text
        self.scheme = scheme
        self.host = String(host)
    }

    public var description: String { text }

    private static func isPort(_ text: Substring) -> Bool {
        let digits = text.dropFirst()
        guard text.first == ":", !digits.isEmpty, digits.count <= 5, let port = Int(digits) else { return false }
        return (1...65535).contains(port)
    }

    private static func looksNumeric(_ host: Substring) -> Bool {
        let last = host.split(separator: ".").last ?? host
        return last.allSatisfy { $0.isHexDigit || $0 == "x" || $0 == "X" } && last.first?.isNumber == true
    }
}

/// Why a webhook URL is refused.
public struct WebhookURLError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
