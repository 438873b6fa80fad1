import Foundation

/// The smarthost of `MAILGATE_RELAY`: `smtp://[user:pass@]host[:port]` (STARTTLS
/// when offered) or `smtps://…` (implicit TLS, port 465 by default), with query
/// options `starttls=required` and `tls_verify=false`.
public struct RelayConfiguration: Sendable, Equatable {
    public enum Security: Sendable, Equatable {
        /// STARTTLS when the relay offers it, clear text otherwise.
        case startTLSWhenOffered
        /// STARTTLS or nothing: no mail is ever sent in clear text.
        case startTLSRequired
        /// TLS from the first byte (`smtps://`).
        case implicitTLS
    }

    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var security: Security
    public var verifyCertificates: Bool

    /// Parses the URL, throwing a reason that names what is wrong (never the password).
    public static func parse(_ text: String) throws(ConfigurationProblem) -> RelayConfiguration {
        guard let schemeEnd = text.range(of: "://") else {
            throw ConfigurationProblem("is not a URL (write it like smtp://user:pass@relay.example.com:587)")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "smtp" || scheme == "smtps" else {
            throw ConfigurationProblem("scheme must be smtp or smtps, not \(scheme)")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/") else { throw ConfigurationProblem("must not have a path") }

        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let user = parts[0].removingPercentEncoding, !user.isEmpty else {
                throw ConfigurationProblem("has an invalid user name")
            }
            username = user
            if parts.count == 2 {
                guard let secret = parts[1].removingPercentEncoding else { throw ConfigurationProblem("has an invalid password encoding") }
                password = secret
            }
        }
        let (host, port) = try hostAndPort(rest, defaultPort: scheme == "smtps" ? 465 : 25)

        var security: Security = scheme == "smtps" ? .implicitTLS : .startTLSWhenOffered
        var verify = true
        for option in query.split(separator: "&") {
            let pair = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = pair.count == 2 ? String(pair[1]).lowercased() : ""
            switch pair[0] {
            case "starttls":
                guard scheme == "smtp" else { throw ConfigurationProblem("starttls applies to smtp://, not smtps://") }
                switch value {
                case "required": security = .startTLSRequired
                case "opportunistic", "auto": security = .startTLSWhenOffered
                default: throw ConfigurationProblem("starttls must be required or opportunistic, not \"\(value)\"")
                }
            case "tls_verify":
                verify = try ConfigurationValues.boolean(value)
            default:
                throw ConfigurationProblem("has an unknown option \"\(pair[0])\" (known: starttls, tls_verify)")
            }
        }
        return RelayConfiguration(
            host: host, port: port, username: username, password: password, security: security, verifyCertificates: verify)
    }

    /// True when the relay is a loopback address, where AUTH may go in clear text.
    public var isLoopback: Bool { ListenAddress.isLoopbackHost(host) }

    /// The URL with its password replaced by `****`, for logs and `check-config`.
    public var masked: String {
        var text = security == .implicitTLS ? "smtps://" : "smtp://"
        if let username {
            text += username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? username
            if password != nil { text += ":****" }
            text += "@"
        }
        text += host.contains(":") ? "[\(host)]" : host
        text += ":\(port)"
        var options: [String] = []
        if security == .startTLSRequired { options.append("starttls=required") }
        if !verifyCertificates { options.append("tls_verify=false") }
        if !options.isEmpty { text += "?" + options.joined(separator: "&") }
        return text
    }

    /// Splits `host[:port]` or `[v6]:port`.
    static func hostAndPort(_ text: Substring, defaultPort: Int) throws(ConfigurationProblem) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ConfigurationProblem("has an unterminated IPv6 literal") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw ConfigurationProblem("has text after the IPv6 literal") }
                portText = after.dropFirst()
            }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw ConfigurationProblem("has too many colons (write IPv6 as [::1]:25)") }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
        }
        guard !host.isEmpty else { throw ConfigurationProblem("has no host") }
        guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "_" }) else {
            throw ConfigurationProblem("has an invalid host \"\(host)\"")
        }
        var port = defaultPort
        if let portText {
            port = try ConfigurationValues.integer(String(portText), in: 1...65535)
        }
        return (String(host), port)
    }
}

/// `host:port` of `MAILGATE_LISTEN`: an IPv4 literal, `[IPv6]`, or `localhost`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public static func parse(_ text: String) throws(ConfigurationProblem) -> ListenAddress {
        // `[::]` has colons but no port: the port is never implied.
        guard text.hasPrefix("[") ? text.contains("]:") : text.contains(":") else {
            throw ConfigurationProblem("\"\(text)\" needs a port (write it like 127.0.0.1:8080 or [::]:8080)")
        }
        var (host, port) = try RelayConfiguration.hostAndPort(Substring(text), defaultPort: 0)
        if text.hasSuffix(":0") { port = 0 }
        if host == "localhost" { host = "127.0.0.1" }
        guard IPLiteral.isIPv4(host) || IPLiteral.isIPv6(host) else {
            throw ConfigurationProblem("\"\(text)\": the host must be an IP address (127.0.0.1, 0.0.0.0, [::1], [::]) or localhost")
        }
        return ListenAddress(host: host, port: port)
    }

    /// True on 127.0.0.0/8, ::1 and localhost: the only addresses served without API keys.
    public var isLoopback: Bool { ListenAddress.isLoopbackHost(host) }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    static func isLoopbackHost(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        return IPLiteral.isIPv4(host) && host.hasPrefix("127.")
    }
}

/// Literal IP address checks without a resolver.
enum IPLiteral {
    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && Int(part)! <= 255
        }
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
