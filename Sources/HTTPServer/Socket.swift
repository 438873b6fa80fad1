#if canImport(Glibc)
import Glibc
#endif
import CMailgateLinux

/// The outcome of a non-blocking read or write: would-block is a value, not an error.
enum SocketIOResult {
    case transferred(Int)
    case wouldBlock
    case endOfStream
    case failed(errno: Int32)
}

/// Thin wrappers over the socket calls the server makes, retrying EINTR and
/// keeping errno with the error.
enum Socket {
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> SocketIOResult {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .transferred(count) }
            if count == 0 { return .endOfStream }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .failed(errno: errno)
            }
        }
    }

    /// `send` with MSG_NOSIGNAL: a peer that went away is an EPIPE, never a SIGPIPE.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> SocketIOResult {
        while true {
            let count = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .transferred(count) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .failed(errno: errno)
            }
        }
    }

    static func setOption(_ fd: Int32, level: Int32, name: Int32, value: Int32, call: String) throws(HTTPServerError) {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .systemCall(call, errno: errno)
        }
    }

    /// A non-blocking listener bound to `address`. SO_REUSEADDR lets a restart
    /// bind while old connections linger in TIME_WAIT; a socket that listens
    /// there already still makes it fail with `addressInUse`.
    static func listener(at address: SocketAddress, backlog: Int32) throws(HTTPServerError) -> Int32 {
        let fd = cmg_tcp_socket(address.family, 1)
        guard fd >= 0 else { throw .systemCall("socket", errno: errno) }
        do throws(HTTPServerError) {
            try setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1, call: "setsockopt(SO_REUSEADDR)")
            if address.isIPv6Unspecified {
                // `[::]` serves IPv4 too, whatever net.ipv6.bindv6only says.
                try setOption(fd, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 0, call: "setsockopt(IPV6_V6ONLY)")
            }
            let bound = address.withSockaddr { bind(fd, $0, $1) }
            guard bound == 0 else {
                throw errno == EADDRINUSE ? .addressInUse(address.description) : .systemCall("bind", errno: errno)
            }
            guard listen(fd, backlog) == 0 else { throw .systemCall("listen", errno: errno) }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    static func localAddress(of fd: Int32) -> SocketAddress {
        var address = SocketAddress()
        _ = address.withMutableSockaddr { getsockname(fd, $0, $1) }
        return address
    }
}
