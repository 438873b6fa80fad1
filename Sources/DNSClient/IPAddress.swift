#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address in network byte order, parsed and printed by the C library
/// so that its text form is the canonical one (RFC 5952 for IPv6).
struct IPAddress: Hashable, Sendable {
    enum Family: Sendable { case v4, v6 }

    /// 4 octets for IPv4, 16 for IPv6.
    let bytes: [UInt8]

    init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a literal such as `192.0.2.1` or `2001:db8::1` (no brackets, no zone).
    init?(_ text: String) {
        if let v4 = Self.parse(text, family: AF_INET, count: 4) {
            bytes = v4
        } else if let v6 = Self.parse(text, family: AF_INET6, count: 16) {
            bytes = v6
        } else {
            return nil
        }
    }

    /// Reads the address out of a host as SMTP writes it: a bare literal, or an
    /// RFC 5321 §4.1.3 address literal `[192.0.2.1]` / `[IPv6:2001:db8::1]` (`[::1]`,
    /// without the tag, is taken too). Returns nil for a name to be resolved.
    init?(hostLiteral host: String) {
        var text = Substring(host)
        var taggedIPv6 = false
        if text.hasPrefix("["), text.hasSuffix("]") {
            text = text.dropFirst().dropLast()
            if text.prefix(5).lowercased() == "ipv6:" {
                text = text.dropFirst(5)
                taggedIPv6 = true
            }
        }
        guard let address = IPAddress(String(text)), !taggedIPv6 || address.family == .v6 else { return nil }
        self = address
    }

    var family: Family { bytes.count == 4 ? .v4 : .v6 }

    private static func parse(_ text: String, family: Int32, count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        let ok = buffer.withUnsafeMutableBytes { inet_pton(family, text, $0.baseAddress) }
        return ok == 1 ? buffer : nil
    }
}

extension IPAddress: CustomStringConvertible {
    var description: String {
        let family = self.family == .v4 ? AF_INET : AF_INET6
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count))
        }
        guard written != nil else { return "" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
