#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// An HTTP/1.1 server on POSIX sockets and epoll: one event-loop thread per
/// core (by default), no thread per connection, nothing blocking on a loop.
///
/// Lifecycle: `start()` binds and runs the loops; `beginDraining()` stops
/// accepting at once and answers new requests with 503; `waitUntilIdle` waits
/// for the requests already handed to the handler; `shutdown()` closes every
/// connection and joins the loop threads.
public final class HTTPServer: Sendable {
    private struct Running: Sendable {
        var loops: [EventLoop]
        var threads: [pthread_t]
        var listenerFD: Int32
        var address: SocketAddress
    }

    private enum Lifecycle: Sendable {
        case created
        case running(Running)
        case draining(Running)
        case stopped
    }

    private let context: ServerContext
    private let lifecycle = Mutex(Lifecycle.created)

    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: some HTTPHandler,
                observer: (any HTTPServerObserver)? = nil) {
        context = ServerContext(configuration: configuration, handler: handler, observer: observer)
    }

    deinit {
        shutdown()
    }

    public var configuration: HTTPServerConfiguration { context.configuration }

    /// The bound address (`127.0.0.1:49152`, `[::1]:49152`) once started.
    public var localAddress: String? { runningState?.address.description }

    /// The bound port once started: the real one when the configuration said port 0.
    public var port: Int? { runningState?.address.port }

    public var isDraining: Bool { context.isDraining.load(ordering: .relaxed) }

    /// Connections open right now, across loops.
    public var openConnectionCount: Int { context.openConnections.load(ordering: .relaxed) }

    /// Requests in flight: handed to the handler with their responses not yet
    /// written, or with their head read and their body still arriving.
    public var unfinishedRequestCount: Int {
        context.unfinishedExchanges.load(ordering: .relaxed) + context.admittedBodies.load(ordering: .relaxed)
    }

    private var runningState: Running? {
        lifecycle.withLock { state in
            switch state {
            case .running(let running), .draining(let running): running
            case .created, .stopped: nil
            }
        }
    }

    /// Binds the listeners and starts the loops. Fails if the address does not
    /// parse, is in use, or a system call fails; nothing stays open then.
    public func start() throws(HTTPServerError) {
        try lifecycle.withLock { (state: inout Lifecycle) throws(HTTPServerError) in
            guard case .created = state else { throw .invalidState("the server was already started") }
            let address = try SocketAddress.parse(context.configuration.listenAddress)
            let loopCount = max(1, context.configuration.loopCount ?? sysconf(Int32(_SC_NPROCESSORS_ONLN)))
            let listenerFD = try Socket.listener(at: address, backlog: context.configuration.listenBacklog)
            let bound = Socket.localAddress(of: listenerFD)
            var loops: [EventLoop] = []
            do throws(HTTPServerError) {
                for index in 0..<loopCount {
                    loops.append(try EventLoop(index: index, loopCount: loopCount, context: context, listenerFD: listenerFD))
                }
            } catch {
                Glibc.close(listenerFD)
                throw error
            }
            var threads: [pthread_t] = []
            for loop in loops {
                guard let thread = Self.spawn(loop) else {
                    let code = errno
                    loops.forEach { $0.requestStop() }
                    threads.forEach { pthread_join($0, nil) }
                    Glibc.close(listenerFD)
                    throw .systemCall("pthread_create", errno: code)
                }
                threads.append(thread)
            }
            state = .running(Running(loops: loops, threads: threads, listenerFD: listenerFD, address: bound))
        }
    }

    private static func spawn(_ loop: EventLoop) -> pthread_t? {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(loop).toOpaque()
        let created = pthread_create(&thread, nil, { raw in
            let loop = Unmanaged<EventLoop>.fromOpaque(raw!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<EventLoop>.fromOpaque(context).release()
            errno = created
            return nil
        }
        return thread
    }

    /// Stops accepting at once (new connections are refused by the kernel);
    /// requests that arrive afterwards on open connections get 503 with
    /// `Retry-After` and `Connection: close`; requests already with the handler
    /// finish and their connections then close (SPEC §6 "Draining").
    public func beginDraining() {
        lifecycle.withLock { state in
            guard case .running(let running) = state else { return }
            // Draining first: once a client sees the listener refuse, a request on a
            // connection already open is answered 503 with `Connection: close`.
            context.isDraining.store(true, ordering: .sequentiallyConsistent)
            // Shut down here, from the caller's thread, so refusal is immediate;
            // the loops stop watching it, and `shutdown()` closes it.
            Glibc.shutdown(running.listenerFD, Int32(SHUT_RDWR))
            running.loops.forEach { $0.wake() }
            state = .draining(running)
        }
    }

    /// Waits until every request in flight has its response written (or its
    /// connection died); false if `timeout` passed first. Blocks the calling
    /// thread: never call it from a handler.
    @discardableResult
    public func waitUntilIdle(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while unfinishedRequestCount > 0 {
            guard ContinuousClock.now < deadline else { return false }
            usleep(2_000)
        }
        return true
    }

    /// `waitUntilIdle(timeout:)` for async callers: suspends instead of blocking.
    @discardableResult
    public func waitUntilIdle(timeout: Duration) async -> Bool {
        await poll(every: .milliseconds(2), timeout: timeout) { unfinishedRequestCount == 0 }
    }

    /// While draining, waits until clients have closed every connection (each
    /// request on one is answered 503 with `Connection: close`), or `timeout`
    /// passed; true if none is left open.
    @discardableResult
    public func waitUntilConnectionsClose(timeout: Duration) async -> Bool {
        await poll(every: .milliseconds(5), timeout: timeout) { openConnectionCount == 0 }
    }

    /// Suspends until `done()` holds (true) or `timeout` passed (false): the
    /// counters live on the loops, which signal no one, so they are looked at.
    private func poll(every interval: Duration, timeout: Duration, until done: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !done() {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: interval)
        }
        return true
    }

    /// Closes the listeners and every connection and joins the loop threads.
    /// Responses that arrive later are dropped. Idempotent; never call it from a handler.
    public func shutdown() {
        let running: Running? = lifecycle.withLock { state in
            defer { state = .stopped }
            switch state {
            case .running(let running), .draining(let running): return running
            case .created, .stopped: return nil
            }
        }
        guard let running else { return }
        context.isDraining.store(true, ordering: .sequentiallyConsistent)
        running.loops.forEach { $0.requestStop() }
        for thread in running.threads where pthread_equal(thread, pthread_self()) == 0 {
            pthread_join(thread, nil)
        }
        Glibc.close(running.listenerFD)
    }
}
