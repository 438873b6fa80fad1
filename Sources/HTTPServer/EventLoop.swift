#if canImport(Glibc)
import Glibc
#endif
import CMailgateLinux
import Synchronization

/// One event-loop thread: its own epoll instance and the connections it owns,
/// which never move once registered.
///
/// All loops watch the one listening socket (EPOLLEXCLUSIVE, level-triggered),
/// the way nginx's workers do, rather than one acceptor handing sockets off or a
/// listener per loop with SO_REUSEPORT. The kernel wakes one waiting loop per new
/// connection, so accepting needs no cross-thread queue and a connection's whole
/// life stays on one core; and a loop that is free takes it. SO_REUSEPORT spreads
/// by a hash of the addresses instead, which put a burst of 64 keep-alive
/// connections up to 40/24 on two loops: with it, wrk's p99 was 12-16 ms, with
/// the shared listener 8 ms (nginx's, on the same machine). Connections are
/// registered once, edge-triggered for input and output, and never modified.
///
/// State marked loop-confined is touched only on the loop thread; other threads
/// reach the loop only through `deliver` (the inbox, under a lock, plus an
/// eventfd wake-up) and `wake`/`requestStop`.
final class EventLoop: @unchecked Sendable {
    struct InboxItem {
        var token: ExchangeToken
        var response: HTTPResponse
        var route: String?
    }

    struct Inbox {
        var items: [InboxItem] = []
        var wakePending = false
        var stopRequested = false
    }

    static let listenerTag = UInt64.max
    /// EPOLLEXCLUSIVE (Linux 4.5): of the loops waiting on the shared listener,
    /// wake one per new connection instead of all of them.
    static let epollExclusive: UInt32 = 1 << 28
    static let wakeTag = UInt64.max - 1
    static let readBufferSize = 65_536
    static let maxEvents: Int32 = 256

    let index: Int
    let loopCount: Int
    let context: ServerContext
    let epollFD: Int32
    let wakeFD: Int32
    private let inbox = Mutex(Inbox())
    /// The loop thread's id, set when it starts running.
    private(set) var thread = pthread_t()

    // Loop-confined state.
    /// The server's listener while this loop watches it; -1 once it stopped accepting.
    var listenerFD: Int32
    var connections: [HTTPConnection?] = []
    var generations: [UInt32] = []
    var freeSlots: [Int32] = []
    let readBuffer: UnsafeMutableRawBufferPointer
    var output: [UInt8] = []
    var dateCache = HTTPDateCache()
    var now: UInt64 = 0
    var nextTimerScan: UInt64 = 0
    let timerScanInterval: UInt64
    var acceptPausedUntil: UInt64 = 0
    var requestCounter: UInt64 = 0
    var currentDispatch: ExchangeToken?
    var inlineResponse: InboxItem?

    init(index: Int, loopCount: Int, context: ServerContext, listenerFD: Int32) throws(HTTPServerError) {
        self.index = index
        self.loopCount = loopCount
        self.context = context
        self.listenerFD = listenerFD
        let epollFD = cmg_epoll_create()
        guard epollFD >= 0 else { throw .systemCall("epoll_create1", errno: errno) }
        let wakeFD = cmg_eventfd()
        guard wakeFD >= 0 else {
            let code = errno
            Glibc.close(epollFD)
            throw .systemCall("eventfd", errno: code)
        }
        self.epollFD = epollFD
        self.wakeFD = wakeFD
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        let shortest = min(context.headerTimeout, context.idleTimeout)
        timerScanInterval = min(max(shortest / 10, 5_000_000), 1_000_000_000)
        guard cmg_epoll_ctl(epollFD, 0, wakeFD, CMG_EPOLLIN | CMG_EPOLLET, Self.wakeTag) == 0,
            cmg_epoll_ctl(epollFD, 0, listenerFD, CMG_EPOLLIN | Self.epollExclusive, Self.listenerTag) == 0
        else { throw .systemCall("epoll_ctl", errno: errno) }
    }

    deinit {
        // Closed here, not when the loop stops, because responders on other
        // threads may still signal the eventfd.
        Glibc.close(wakeFD)
        Glibc.close(epollFD)
        readBuffer.deallocate()
    }

    // MARK: - Cross-thread entry points

    func wake() {
        let signal = inbox.withLock { inbox in
            defer { inbox.wakePending = true }
            return !inbox.wakePending
        }
        if signal { _ = cmg_eventfd_signal(wakeFD) }
    }

    func requestStop() {
        inbox.withLock { $0.stopRequested = true }
        _ = cmg_eventfd_signal(wakeFD)
    }

    /// Takes a handler's response for the exchange `token`. On the loop thread,
    /// inside that exchange's handler call, it is kept for an inline write;
    /// otherwise it is queued and the loop is woken (once per batch).
    func deliver(_ response: HTTPResponse, for token: ExchangeToken, route: String?) {
        if pthread_equal(pthread_self(), thread) != 0, currentDispatch == token {
            currentDispatch = nil
            inlineResponse = InboxItem(token: token, response: response, route: route)
            return
        }
        let signal = inbox.withLock { inbox in
            inbox.items.append(InboxItem(token: token, response: response, route: route))
            defer { inbox.wakePending = true }
            return !inbox.wakePending
        }
        if signal { _ = cmg_eventfd_signal(wakeFD) }
    }

    // MARK: - The loop

    func run() {
        thread = pthread_self()
        var events = [cmg_epoll_event](repeating: cmg_epoll_event(), count: Int(Self.maxEvents))
        updateClock()
        nextTimerScan = now + timerScanInterval
        var running = true
        while running {
            let waitMilliseconds = Int32(clamping: (nextTimerScan &- min(now, nextTimerScan)) / 1_000_000 + 1)
            let count = cmg_epoll_wait(epollFD, &events, Self.maxEvents, waitMilliseconds)
            if count < 0, errno != EINTR { break }
            updateClock()
            for event in events.prefix(Int(max(count, 0))) {
                switch event.data {
                case Self.listenerTag: acceptConnections()
                case Self.wakeTag: running = drainInbox()
                default: handleConnectionEvent(event)
                }
            }
            if now >= nextTimerScan {
                nextTimerScan = now + timerScanInterval
                scanTimers()
            }
        }
        closeEverything()
    }

    private func updateClock() {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
        now = UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
        dateCache.update()
    }

    /// Writes the responses queued by other threads; returns false once stop is requested.
    private func drainInbox() -> Bool {
        _ = cmg_eventfd_drain(wakeFD)
        let (items, stop) = inbox.withLock { inbox in
            defer {
                inbox.items = []
                inbox.wakePending = false
            }
            return (inbox.items, inbox.stopRequested)
        }
        for item in items {
            guard let connection = connection(slot: item.token.slot, generation: item.token.generation) else { continue }
            complete(connection, with: item)
            service(connection)
        }
        if context.isDraining.load(ordering: .relaxed) { stopAccepting() }
        return !stop
    }

    func connection(slot: Int32, generation: UInt32) -> HTTPConnection? {
        let index = Int(slot)
        guard index >= 0, index < connections.count, let connection = connections[index],
            connection.generation == generation
        else { return nil }
        return connection
    }

    private func handleConnectionEvent(_ event: cmg_epoll_event) {
        guard let connection = connection(slot: Int32(truncatingIfNeeded: event.data & 0xFFFF_FFFF),
                                          generation: UInt32(truncatingIfNeeded: event.data >> 32))
        else { return }
        if event.events & CMG_EPOLLERR != 0 {
            close(connection)
            return
        }
        if event.events & CMG_EPOLLHUP != 0, connection.exchange != nil || !connection.pendingOutput.isEmpty {
            close(connection)
            return
        }
        if event.events & (CMG_EPOLLIN | CMG_EPOLLRDHUP | CMG_EPOLLHUP) != 0 { connection.readable = true }
        if event.events & (CMG_EPOLLRDHUP | CMG_EPOLLHUP) != 0 { connection.peerHangupSignalled = true }
        if event.events & CMG_EPOLLOUT != 0, !connection.pendingOutput.isEmpty {
            writePendingOutput(connection)
        }
        service(connection)
    }

    // MARK: - Timers

    /// Checks every connection's deadline. A scan every tenth of the shortest
    /// timeout costs a few microseconds per thousand connections, less than
    /// keeping an ordered timer structure up to date on every request.
    private func scanTimers() {
        if acceptPausedUntil != 0, now >= acceptPausedUntil {
            acceptPausedUntil = 0
            if listenerFD >= 0, cmg_epoll_ctl(epollFD, 0, listenerFD, CMG_EPOLLIN | Self.epollExclusive, Self.listenerTag) == 0 {
                acceptConnections()
            }
        }
        for case let connection? in connections where connection.timer != .none && connection.deadline <= now {
            switch connection.timer {
            case .requestHead where !connection.parser.isAtRequestStart,
                 .transfer where connection.parser.isReadingBody && connection.pendingOutput.isEmpty:
                // A request started and stalled (slowloris, or a body that stopped coming).
                respondFromServer(connection, .problem(status: .requestTimeout, detail: "The request was not received in time."),
                                  method: nil)
                flush(connection)
                if connection.lingering { discardInput(connection) }
            default:
                close(connection)
            }
        }
    }

    // MARK: - Accepting

    private func acceptConnections() {
        while listenerFD >= 0, acceptPausedUntil == 0 {
            var peer = SocketAddress()
            let fd = peer.withMutableSockaddr { cmg_accept(listenerFD, $0, $1) }
            guard fd >= 0 else {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: continue
                case EAGAIN: break
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors or memory: the listener stays readable, so
                    // stop watching it for a moment instead of spinning on it.
                    _ = cmg_epoll_ctl(epollFD, 2, listenerFD, 0, 0)
                    acceptPausedUntil = now + 100_000_000
                default:
                    // EINVAL: the listener was shut down (draining).
                    stopAccepting()
                }
                return
            }
            let open = context.openConnections.wrappingAdd(1, ordering: .relaxed).newValue
            guard open <= context.configuration.maxConnections else {
                refuseOverCapacity(fd)
                continue
            }
            register(fd, peer: peer)
        }
    }

    private func register(_ fd: Int32, peer: SocketAddress) {
        _ = try? Socket.setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1, call: "setsockopt(TCP_NODELAY)")
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = Int32(connections.count)
            connections.append(nil)
            generations.append(0)
        }
        generations[Int(slot)] &+= 1
        let generation = generations[Int(slot)]
        let connection = HTTPConnection(
            fd: fd, slot: slot, generation: generation, remoteAddress: peer.description, limits: context.limits,
            deadline: now + context.headerTimeout)
        let data = UInt64(generation) << 32 | UInt64(UInt32(bitPattern: slot))
        let interest = CMG_EPOLLIN | CMG_EPOLLOUT | CMG_EPOLLRDHUP | CMG_EPOLLET
        guard cmg_epoll_ctl(epollFD, 0, fd, interest, data) == 0 else {
            Glibc.close(fd)
            freeSlots.append(slot)
            context.openConnections.subtract(1, ordering: .relaxed)
            return
        }
        connections[Int(slot)] = connection
    }

    /// Over the connection cap: a 503 the client can read, then close at once.
    private func refuseOverCapacity(_ fd: Int32) {
        var bytes: [UInt8] = []
        let response = HTTPResponse.problem(
            status: .serviceUnavailable, detail: "The server has too many open connections.", headers: ["Retry-After": "1"])
        HTTPResponseWriter.write(response, persistence: .close, includeBody: true, dateLine: dateCache.headerLine, into: &bytes)
        _ = bytes.withUnsafeBytes { Socket.write(fd, $0) }
        Glibc.shutdown(fd, Int32(SHUT_WR))
        Glibc.close(fd)
        context.openConnections.subtract(1, ordering: .relaxed)
    }

    /// Stops watching the listener; the server closes it once every loop has stopped.
    func stopAccepting() {
        guard listenerFD >= 0 else { return }
        _ = cmg_epoll_ctl(epollFD, 2, listenerFD, 0, 0)
        listenerFD = -1
    }

    private func closeEverything() {
        stopAccepting()
        for case let connection? in connections { close(connection) }
        connections = []
        output = []
    }
}
