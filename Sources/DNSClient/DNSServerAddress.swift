#if canImport(Glibc)
import Glibc
#endif

/// The address of a DNS server: an IP literal and a port.
///
/// Only literals are accepted, because a server named by a host name would need a
/// DNS server to find it.
public struct DNSServerAddress: Hashable, Sendable {
    /// The standard DNS port (RFC 1035 §4.2).
    public static let defaultPort: UInt16 = 53

    let address: IPAddress
    /// The interface of a link-local IPv6 server (`fe80::1%eth0` in resolv.conf); 0 for none.
    let scopeID: UInt32
    public let port: UInt16

    /// The address in its canonical text form, without brackets.
    public var host: String { address.description }

    /// Builds an address from an IP literal (no brackets). Throws `invalidServerAddress`
    /// for anything that is not an IPv4 or IPv6 literal.
    public init(host: String, port: UInt16 = DNSServerAddress.defaultPort) throws(DNSError) {
        var literal = Substring(host)
        var scopeID: UInt32 = 0
        if let percent = literal.firstIndex(of: "%") {
            let zone = String(literal[literal.index(after: percent)...])
            scopeID = UInt32(zone) ?? if_nametoindex(zone)
            literal = literal[..<percent]
            guard scopeID != 0 else { throw .invalidServerAddress(host) }
        }
        guard let address = IPAddress(String(literal)), scopeID == 0 || address.family == .v6 else {
            throw .invalidServerAddress(host)
        }
        self.address = address
        self.scopeID = scopeID
        self.port = port
    }

    /// Parses `MAILGATE_DNS_SERVER`'s form: `192.0.2.1`, `192.0.2.1:5353`, `2001:db8::1`,
    /// `[2001:db8::1]` or `[2001:db8::1]:5353`. The port defaults to 53.
    /// Throws `invalidServerAddress` with the whole text.
    public static func parse(_ text: String) throws(DNSError) -> DNSServerAddress {
        guard let server = try? parseHostAndPort(text) else { throw .invalidServerAddress(text) }
        return server
    }

    private static func parseHostAndPort(_ text: String) throws(DNSError) -> DNSServerAddress {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalidServerAddress(text) }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || rest.hasPrefix(":") else { throw .invalidServerAddress(text) }
            let port = rest.isEmpty ? defaultPort : try parsePort(rest.dropFirst(), in: text)
            let server = try DNSServerAddress(host: host, port: port)
            guard server.address.family == .v6 else { throw .invalidServerAddress(text) }
            return server
        }
        let colons = text.filter { $0 == ":" }.count
        if colons == 1, let colon = text.firstIndex(of: ":") {
            let port = try parsePort(text[text.index(after: colon)...], in: text)
            return try DNSServerAddress(host: String(text[..<colon]), port: port)
        }
        return try DNSServerAddress(host: text)
    }

    private static func parsePort(_ digits: Substring, in text: String) throws(DNSError) -> UInt16 {
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let port = UInt16(digits), port > 0 else {
            throw .invalidServerAddress(text)
        }
        return port
    }

    /// Calls `body` with this address as a `sockaddr_in` or `sockaddr_in6`.
    func withSocketAddress<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        switch address.family {
        case .v4:
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &socketAddress.sin_addr) { $0.copyBytes(from: address.bytes) }
            return withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6:
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_port = port.bigEndian
            socketAddress.sin6_scope_id = scopeID
            withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { $0.copyBytes(from: address.bytes) }
            return withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    var socketFamily: Int32 { address.family == .v4 ? AF_INET : AF_INET6 }
}

extension DNSServerAddress: CustomStringConvertible {
    /// `192.0.2.1:53` or `[2001:db8::1]:53`, the form `parse` reads back.
    public var description: String {
        address.family == .v4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }
}
