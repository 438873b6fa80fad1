#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port held bound but not listening: connections to it are
/// refused, and while it is held the kernel gives it to no other test running
/// alongside (a port merely closed could go to another test's receiver, which
/// would then get this test's retries). `release()` frees it for a server to take.
public final class RefusingPort: @unchecked Sendable {
    public let port: Int
    private var fd: Int32

    public init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        precondition(bound, "cannot bind a loopback port")
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
