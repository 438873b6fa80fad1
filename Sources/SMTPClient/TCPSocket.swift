import CMailgateLinux
import Glibc

/// A connected, non-blocking TCP socket whose every wait is bounded by poll().
///
/// The delivery engine runs each connection on a thread of its own, so blocking that
/// thread in poll() is the simplest correct design; what matters is that no wait is
/// unbounded and that errno survives into the error.
final class TCPSocket {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Connects to an IPv4 or IPv6 literal within `timeout`, with TCP_NODELAY on (a
    /// command must not wait for Nagle's timer).
    static func connect(address: String, port: Int, timeout: Duration) throws(SMTPError) -> TCPSocket {
        guard let target = SocketAddress(ip: address, port: port) else {
            throw .connectFailed(errno: EINVAL, reason: "\(address) is not an IP address")
        }
        let descriptor = cmg_tcp_socket(target.family, 1)
        guard descriptor >= 0 else { throw .connectFailed(errno: errno, reason: Self.describe(errno)) }
        let socket = TCPSocket(descriptor: descriptor)
        var noDelay: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        let result = target.withSockaddr { Glibc.connect(descriptor, $0, $1) }
        if result != 0 {
            guard errno == EINPROGRESS else { throw .connectFailed(errno: errno, reason: Self.describe(errno)) }
            guard try socket.wait(for: Int16(POLLOUT), until: .now + timeout, phase: .connect) else {
                throw .timedOut(.connect)
            }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
            guard failure == 0 else { throw .connectFailed(errno: failure, reason: Self.describe(failure)) }
        }
        return socket
    }

    /// Reads what has arrived, waiting until `deadline`; 0 means the peer closed.
    func receive(into buffer: UnsafeMutableRawBufferPointer, until deadline: ContinuousClock.Instant, phase: SMTPPhase) throws(SMTPError) -> Int {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            let failure = errno
            switch failure {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK:
                guard try wait(for: Int16(POLLIN), until: deadline, phase: phase) else { throw .timedOut(phase) }
            default: throw Self.error(failure, phase)
            }
        }
    }

    /// Writes all bytes; the timeout is for a stall, so a large body on a slow link
    /// goes through as long as it keeps moving. MSG_NOSIGNAL: a closed peer is an
    /// error here, not a SIGPIPE for the process.
    func send(_ bytes: UnsafeRawBufferPointer, stallTimeout: Duration, phase: SMTPPhase) throws(SMTPError) {
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if count > 0 {
                offset += count
                continue
            }
            let failure = errno
            switch failure {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK:
                guard try wait(for: Int16(POLLOUT), until: .now + stallTimeout, phase: phase) else { throw .timedOut(phase) }
            default: throw Self.error(failure, phase)
            }
        }
    }

    /// Tells the peer no more bytes follow (after QUIT), without waiting.
    func shutdownOutput() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Waits for readiness; false when the deadline passed first.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant, phase: SMTPPhase) throws(SMTPError) -> Bool {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return false }
            var request = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&request, 1, Self.milliseconds(remaining))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { throw Self.error(errno, phase) }
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let total = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(1, total))
    }

    private static func error(_ failure: Int32, _ phase: SMTPPhase) -> SMTPError {
        switch failure {
        case ECONNRESET, EPIPE, ENOTCONN: .connectionClosed(phase)
        default: .networkFailure(errno: failure, reason: describe(failure), phase)
        }
    }

    static func describe(_ failure: Int32) -> String {
        String(cString: strerror(failure))
    }
}

/// An IPv4 or IPv6 socket address built from a literal.
private enum SocketAddress {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)

    init?(ip: String, port: Int) {
        guard (1...65535).contains(port) else { return nil }
        let bare = ip.hasPrefix("[") && ip.hasSuffix("]") ? String(ip.dropFirst().dropLast()) : ip
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, bare, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            self = .v4(v4)
            return
        }
        var v6 = sockaddr_in6()
        guard inet_pton(AF_INET6, bare, &v6.sin6_addr) == 1 else { return nil }
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_port = in_port_t(UInt16(port).bigEndian)
        self = .v6(v6)
    }

    var family: Int32 {
        switch self {
        case .v4: AF_INET
        case .v6: AF_INET6
        }
    }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        switch self {
        case .v4(var address):
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(var address):
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }
}
