#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address and port, as bound or as seen on a peer.
struct SocketAddress: Sendable, CustomStringConvertible {
    private(set) var storage = sockaddr_storage()
    private(set) var length: socklen_t = 0

    var family: Int32 { Int32(storage.ss_family) }

    /// Parses `host:port` where host is an IPv4 literal, a bracketed IPv6 literal
    /// (`[::1]`), or `localhost` (127.0.0.1). Host names are not resolved: a
    /// listener binds to an address of this machine, which is always an IP.
    static func parse(_ text: String) throws(HTTPServerError) -> SocketAddress {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .invalidListenAddress(text)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .invalidListenAddress(text) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), let port = UInt16(portText) else {
            throw .invalidListenAddress(text)
        }
        let literal = host == "localhost" ? "127.0.0.1" : String(host)
        if let address = text.hasPrefix("[") ? ipv6(literal, port: port) : ipv4(literal, port: port) {
            return address
        }
        throw .invalidListenAddress(text)
    }

    private static func ipv4(_ literal: String, port: UInt16) -> SocketAddress? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, literal, &address.sin_addr) == 1 else { return nil }
        return SocketAddress(copying: address)
    }

    private static func ipv6(_ literal: String, port: UInt16) -> SocketAddress? {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        guard inet_pton(AF_INET6, literal, &address.sin6_addr) == 1 else { return nil }
        return SocketAddress(copying: address)
    }

    init() {}

    private init<Address>(copying address: Address) {
        withUnsafeMutableBytes(of: &storage) { target in
            withUnsafeBytes(of: address) { target.copyMemory(from: $0) }
        }
        length = socklen_t(MemoryLayout<Address>.size)
    }

    /// Fills the address in from a call such as `accept4` or `getsockname`.
    mutating func withMutableSockaddr<Result>(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Result) -> Result {
        length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var size = length
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, &size) }
        }
        length = size
        return result
    }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }

    var port: Int {
        withUnsafeBytes(of: storage) { raw in
            switch family {
            case AF_INET: Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
            case AF_INET6: Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
            default: 0
            }
        }
    }

    var isIPv6Unspecified: Bool {
        guard family == AF_INET6 else { return false }
        return withUnsafeBytes(of: storage) { raw in
            withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { $0.allSatisfy { $0 == 0 } }
        }
    }

    /// `127.0.0.1:8080` or `[::1]:8080`.
    var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        return withUnsafeBytes(of: storage) { raw in
            switch family {
            case AF_INET:
                var address = raw.load(as: sockaddr_in.self).sin_addr
                inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
                return "\(Self.string(text)):\(port)"
            case AF_INET6:
                var address = raw.load(as: sockaddr_in6.self).sin6_addr
                inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
                return "[\(Self.string(text))]:\(port)"
            default:
                return "unknown"
            }
        }
    }

    private static func string(_ nulTerminated: [CChar]) -> String {
        nulTerminated.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
