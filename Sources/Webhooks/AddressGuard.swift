#if canImport(Glibc)
import Glibc
#endif

/// Which addresses a webhook may reach. Unless private targets are allowed, the
/// guard refuses loopback, private, link-local, unique-local, unspecified,
/// multicast and cloud metadata addresses, so that a caller's `webhook_url`
/// cannot make the gateway probe its own network (SSRF). IPv4-mapped and
/// IPv4-compatible IPv6 forms count as their IPv4 address.
public struct AddressGuard: Sendable, Equatable {
    public var allowPrivate: Bool

    public init(allowPrivate: Bool) { self.allowPrivate = allowPrivate }

    /// Why an address is refused, or nil when it may be reached.
    public func refusal(for address: IPAddress) -> String? {
        if allowPrivate { return nil }
        return address.restrictedRange.map { "\(address) is a \($0) address" }
    }
}

/// An IPv4 or IPv6 address as bytes, parsed from its literal form.
public enum IPAddress: Sendable, Equatable, CustomStringConvertible {
    case v4(UInt32)
    case v6([UInt8])

    /// Parses `192.0.2.1`, `2001:db8::1` or `[2001:db8::1]` (no zone ids).
    public init?(_ literal: String) {
        var text = literal
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        if !text.contains("%"), inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
            return
        }
        return nil
    }

    /// The address of a socket address from the kernel or libcurl.
    public init?(socketAddress: UnsafePointer<sockaddr>) {
        switch Int32(socketAddress.pointee.sa_family) {
        case AF_INET:
            let address = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            self = .v4(UInt32(bigEndian: address.s_addr))
        case AF_INET6:
            var address = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            self = .v6(withUnsafeBytes(of: &address) { Array($0) })
        default:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .v6(let bytes):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible
    /// (`::a.b.c.d`) IPv6 address.
    var embeddedIPv4: UInt32? {
        guard case .v6(let bytes) = self, bytes[0..<10].allSatisfy({ $0 == 0 }) else { return nil }
        let mapped = bytes[10] == 0xFF && bytes[11] == 0xFF
        let compatible = bytes[10] == 0 && bytes[11] == 0 && bytes[12..<16].contains { $0 != 0 }
        guard mapped || compatible else { return nil }
        return bytes[12..<16].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The name of the non-public range this address is in, or nil for a public one.
    public var restrictedRange: String? {
        switch self {
        case .v4(let address): IPAddress.restrictedRange(v4: address)
        case .v6(let bytes): IPAddress.restrictedRange(v6: bytes, embeddedIPv4: embeddedIPv4)
        }
    }

    private static func restrictedRange(v4 a: UInt32) -> String? {
        func within(_ base: UInt32, _ prefix: UInt32) -> Bool { a >> (32 - prefix) == base >> (32 - prefix) }
        if a == 0xA9FE_A9FE { return "metadata" }  // 169.254.169.254
        if a == 0xA83F_8110 { return "metadata" }  // 168.63.129.16, Azure's host endpoint
        if within(0x0000_0000, 8) { return "unspecified" }  // 0.0.0.0/8
        if within(0x7F00_0000, 8) { return "loopback" }  // 127.0.0.0/8
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) { return "private" }
        if within(0x6440_0000, 10) { return "shared (carrier-grade NAT)" }  // 100.64.0.0/10
        if within(0xA9FE_0000, 16) { return "link-local" }  // 169.254.0.0/16
        if within(0xC000_0000, 24) { return "IETF protocol assignment" }  // 192.0.0.0/24
        if within(0xC000_0200, 24) || within(0xC633_6400, 24) || within(0xCB00_7100, 24) {
            return "documentation"  // 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24
        }
        if within(0xC612_0000, 15) { return "benchmarking" }  // 198.18.0.0/15
        if within(0xE000_0000, 4) { return "multicast" }  // 224.0.0.0/4
        if within(0xF000_0000, 4) { return "reserved" }  // 240.0.0.0/4, broadcast too
        return nil
    }

    private static func restrictedRange(v6 b: [UInt8], embeddedIPv4: UInt32?) -> String? {
        if b.allSatisfy({ $0 == 0 }) { return "unspecified" }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return "loopback" }
        if let v4 = embeddedIPv4 { return restrictedRange(v4: v4) }
        if b[0] == 0xFF { return "multicast" }
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return "link-local" }  // fe80::/10
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return "site-local" }  // fec0::/10
        if b[0] & 0xFE == 0xFC { return "unique-local" }  // fc00::/7 (AWS metadata fd00:ec2::254 too)
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B {  // 64:ff9b::/96 NAT64
            return restrictedRange(v4: b[12..<16].reduce(0) { $0 << 8 | UInt32($1) })
        }
        if b[0] == 0x20 && b[1] == 0x02 {  // 2002::/16 6to4 carries an IPv4 address in bits 16-47
            return restrictedRange(v4: b[2..<6].reduce(0) { $0 << 8 | UInt32($1) })
        }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return "documentation" }
        return nil
    }
}
