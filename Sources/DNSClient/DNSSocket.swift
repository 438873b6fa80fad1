#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking socket used for one DNS exchange and closed when it goes out of scope.
///
/// Waiting is done with `poll` against a deadline, so every call returns by then; the
/// calling thread blocks, which is what the resolver's blocking API promises.
struct DNSSocket: ~Copyable {
    private let fd: Int32

    /// Opens a socket of `type` (`SOCK_DGRAM` or `SOCK_STREAM`) for the server's family.
    init(for server: DNSServerAddress, type: __socket_type) throws(DNSError) {
        let flags = Int32(bitPattern: type.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue)
        let fd = socket(server.socketFamily, flags, 0)
        guard fd >= 0 else { throw .socket(operation: "socket", errno: errno) }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Connects to the server. For UDP this only fixes the peer, so that the kernel
    /// drops datagrams from any other source and reports ICMP errors as ECONNREFUSED.
    func connect(to server: DNSServerAddress, until deadline: ContinuousClock.Instant) throws(DNSError) {
        let result = server.withSocketAddress { Glibc.connect(fd, $0, $1) }
        guard result != 0 else { return }
        let code = errno
        guard code == EINPROGRESS || code == EINTR else { throw .socket(operation: "connect", errno: code) }
        guard try wait(for: POLLOUT, until: deadline) else { throw .timeout }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
            throw .socket(operation: "getsockopt", errno: errno)
        }
        guard error == 0 else { throw .socket(operation: "connect", errno: error) }
    }

    /// Sends all of `bytes` (one datagram on UDP).
    func send(_ bytes: [UInt8], until deadline: ContinuousClock.Instant) throws(DNSError) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count >= 0 {
                sent += count
                continue
            }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: guard try wait(for: POLLOUT, until: deadline) else { throw .timeout }
            default: throw .socket(operation: "send", errno: code)
            }
        }
    }

    /// Receives one datagram, or up to `maxLength` octets of a stream (empty at its end).
    /// Returns nil when the deadline passes first.
    func receive(maxLength: Int, until deadline: ContinuousClock.Instant) throws(DNSError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: maxLength)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return Array(buffer[..<count]) }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: guard try wait(for: POLLIN, until: deadline) else { return nil }
            default: throw .socket(operation: "recv", errno: code)
            }
        }
    }

    /// Reads exactly `count` octets of a stream.
    func receiveExactly(_ count: Int, until deadline: ContinuousClock.Instant) throws(DNSError) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            guard let chunk = try receive(maxLength: count - bytes.count, until: deadline) else { throw .timeout }
            guard !chunk.isEmpty else {
                throw .malformedResponse("TCP connection closed after \(bytes.count) of \(count) octets")
            }
            bytes += chunk
        }
        return bytes
    }

    /// Waits until the socket is ready for `events` (or has an error to report);
    /// false when the deadline passes first.
    private func wait(for events: Int32, until deadline: ContinuousClock.Instant) throws(DNSError) -> Bool {
        while true {
            let remaining = deadline - .now
            guard remaining > .zero else { return false }
            var request = pollfd(fd: fd, events: Int16(events), revents: 0)
            let result = poll(&request, 1, Self.pollMilliseconds(remaining))
            if result > 0 { return true }
            if result < 0 && errno != EINTR { throw .socket(operation: "poll", errno: errno) }
        }
    }

    /// Rounds up, so that a poll that times out has really reached the deadline.
    private static func pollMilliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }
}
