import Foundation

/// A TCP proxy on 127.0.0.1 in front of the PostgreSQL server, so that a test can
/// make the server go away and come back: `cut` closes every connection and
/// refuses new ones (a stopped server), `hang` keeps connections open but passes
/// nothing either way (a paused server or a dropped network), `forward` restores it.
/// Each connection is pumped by a thread of its own; every wait is a bounded poll.
final class TCPProxy: @unchecked Sendable {
    enum Mode { case forward, cut, hang }

    let port: UInt16
    private let targetPort: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var mode = Mode.forward
    private var sockets: Set<Int32> = []
    private var stopped = false

    init(targetPort: UInt16) throws {
        self.targetPort = targetPort
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard listener >= 0, bound == 0, listen(listener, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// `url` with its port replaced by the proxy's.
    func proxied(_ url: String) -> String {
        var components = URLComponents(string: url)!
        components.port = Int(port)
        return components.string!
    }

    /// Sockets are shut down under the lock: a pump thread untracks its sockets
    /// under it before closing them, so no closed (and maybe reused) descriptor is touched.
    func set(_ next: Mode) {
        lock.lock()
        defer { lock.unlock() }
        mode = next
        if next == .cut {
            for socket in sockets { shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    /// Stops accepting and closes every connection.
    func stop() {
        lock.lock()
        defer { lock.unlock() }
        stopped = true
        shutdown(listener, Int32(SHUT_RDWR))
        for socket in sockets { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    private var current: (mode: Mode, stopped: Bool) {
        lock.lock()
        defer { lock.unlock() }
        return (mode, stopped)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                close(listener)
                return
            }
            let state = current
            if state.stopped || state.mode == .cut {
                close(client)
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(client)
                close(upstream)
                continue
            }
            track([client, upstream])
            let thread = Thread { [self] in pump(client, upstream) }
            thread.start()
        }
    }

    /// Copies bytes both ways until either side closes or the connection is cut.
    private func pump(_ client: Int32, _ upstream: Int32) {
        defer {
            untrack([client, upstream])
            close(client)
            close(upstream)
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var descriptors = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
        while true {
            let state = current
            if state.stopped { return }
            if state.mode == .hang {
                usleep(20_000)
                continue
            }
            guard poll(&descriptors, 2, 100) >= 0 || errno == EINTR else { return }
            for (index, descriptor) in descriptors.enumerated() where descriptor.revents != 0 {
                let source = descriptor.fd
                let sink = index == 0 ? upstream : client
                let count = read(source, &buffer, buffer.count)
                guard count > 0, Self.writeAll(sink, buffer, count) else { return }
            }
        }
    }

    private static func writeAll(_ socket: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var written = 0
        while written < count {
            let result = buffer.withUnsafeBytes { send(socket, $0.baseAddress! + written, count - written, Int32(MSG_NOSIGNAL)) }
            if result <= 0 { return false }
            written += result
        }
        return true
    }

    private func track(_ new: [Int32]) {
        lock.lock()
        sockets.formUnion(new)
        lock.unlock()
    }

    private func untrack(_ old: [Int32]) {
        lock.lock()
        sockets.subtract(old)
        lock.unlock()
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
