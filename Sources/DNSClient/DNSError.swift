/// Why a DNS lookup did not produce an answer.
///
/// The cases are kept apart because the delivery engine acts on them differently
/// (SPEC §6): `nxdomain` is a permanent fact about the name and bounces the recipient
/// with 5.1.2, while a timeout, SERVFAIL or a network error only says that no answer
/// could be had right now, and defers it.
public enum DNSError: Error, Hashable, Sendable {
    /// The server answered NXDOMAIN (RFC 1035 RCODE 3): the name does not exist.
    case nxdomain(String)
    /// The server answered with an error RCODE other than NXDOMAIN and REFUSED:
    /// SERVFAIL (2), FORMERR (1), NOTIMP (4), or an extended RCODE (RFC 6891).
    case serverFailure(rcode: UInt16)
    /// The server declined to answer (RCODE 5), typically a recursion policy.
    case refused
    /// No server answered within the timeout on any attempt.
    case timeout
    /// A response carried our query id but could not be decoded, or broke the protocol.
    case malformedResponse(String)
    /// The resolver has no server to ask.
    case noServers
    /// The name to look up is not a valid DNS name (RFC 1035 §2.3.4 limits).
    case invalidName(String)
    /// A server address is not `ip`, `ip:port` or `[ipv6]:port`.
    case invalidServerAddress(String)
    /// A socket call failed; `errno` says why (ECONNREFUSED for an ICMP port unreachable).
    case socket(operation: String, errno: Int32)

    /// True when retrying later cannot change the outcome: the name does not exist,
    /// or could never exist. Everything else may succeed on a later attempt.
    public var isPermanent: Bool {
        switch self {
        case .nxdomain, .invalidName: true
        default: false
        }
    }

    /// How much an error says about the servers, used to report the most telling one
    /// when every server failed: an answer from a server beats a broken answer, which
    /// beats a local socket error, which beats silence.
    var informativeness: Int {
        switch self {
        case .nxdomain, .serverFailure, .refused: 4
        case .malformedResponse: 3
        case .socket: 2
        case .timeout: 1
        case .noServers, .invalidName, .invalidServerAddress: 0
        }
    }
}

extension DNSError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .nxdomain(let name): "\(name): no such domain (NXDOMAIN)"
        case .serverFailure(let rcode): "DNS server failure (RCODE \(rcode))"
        case .refused: "DNS server refused the query"
        case .timeout: "DNS query timed out"
        case .malformedResponse(let reason): "malformed DNS response: \(reason)"
        case .noServers: "no DNS server configured"
        case .invalidName(let reason): "invalid DNS name: \(reason)"
        case .invalidServerAddress(let text): "invalid DNS server address '\(text)': expected ip, ip:port or [ipv6]:port"
        case .socket(let operation, let errno): "DNS socket \(operation) failed: errno \(errno)"
        }
    }
}
