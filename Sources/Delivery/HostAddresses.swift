#if canImport(Glibc)
import Glibc
#endif

/// Resolves the relay's host name with the system resolver (getaddrinfo: /etc/hosts
/// and DNS), keeping IP literals as they are.
enum HostAddresses {
    static func resolve(_ host: String) -> Result<[String], ResolutionFailure> {
        if isIPLiteral(host) { return .success([host]) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            return .failure(ResolutionFailure(reason: "cannot resolve \(host): \(String(cString: gai_strerror(status)))"))
        }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let literal = literal(of: current.pointee.ai_addr), !addresses.contains(literal) {
                addresses.append(literal)
            }
            entry = current.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(ResolutionFailure(reason: "\(host) has no addresses")) : .success(addresses)
    }

    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || address.hasPrefix("127.")
    }

    private static func literal(of address: UnsafeMutablePointer<sockaddr>?) -> String? {
        guard let address else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            var value = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            inet_ntop(AF_INET, &value, &buffer, socklen_t(buffer.count))
        case AF_INET6:
            var value = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            inet_ntop(AF_INET6, &value, &buffer, socklen_t(buffer.count))
        default:
            return nil
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Why a host name did not resolve.
struct ResolutionFailure: Error {
    let reason: String
}
