/// One client connection's state, owned by the loop thread that accepted it;
/// no other thread touches it (responses from elsewhere arrive through the loop's inbox).
final class HTTPConnection {
    /// Which deadline is running.
    enum Timer {
        case none
        /// A request (or the first one) has to arrive whole: the header-read timeout.
        case requestHead
        /// Keep-alive between requests.
        case idle
        /// A body being received or a response being sent must keep moving.
        case transfer
        /// Closing: the client has a moment to read our last response.
        case linger
    }

    /// A request handed to the handler and not yet answered.
    struct Exchange {
        var token: ExchangeToken
        var method: HTTPMethod
        var keepAlive: Bool
        var isHTTP10: Bool
        var requestID: UInt64
        var startedAt: UInt64
        var requestBodyBytes: Int
    }

    let fd: Int32
    let slot: Int32
    let generation: UInt32
    let remoteAddress: String
    var parser: HTTPRequestParser

    var exchange: Exchange?
    /// A head arrived before the server began draining and its body is still
    /// coming: the request is in flight, so it is served, not refused.
    var admittedBody = false
    var sequence: UInt64 = 0
    var requestsServed = 0
    /// Responses serialized but not yet all taken by the kernel.
    var unwrittenResponses = 0
    /// Bytes read past a request whose response is still pending (pipelining).
    var pendingInput: [UInt8] = []
    /// Bytes of responses the kernel did not take yet, from `pendingOutputSent` on.
    var pendingOutput: [UInt8] = []
    var pendingOutputSent = 0

    /// The socket may have more to read (edge-triggered: only a read that comes
    /// back short or with EAGAIN clears it).
    var readable = true
    /// The client's FIN was signalled (EPOLLRDHUP): read on to the end of
    /// stream even after a short read, or the edge would be lost.
    var peerHangupSignalled = false
    var peerClosedWrite = false
    var closeAfterWrite = false
    var lingering = false
    var lingerDiscarded = 0
    var isClosed = false

    var timer = Timer.requestHead
    var deadline: UInt64

    init(fd: Int32, slot: Int32, generation: UInt32, remoteAddress: String, limits: HTTPRequestParser.Limits, deadline: UInt64) {
        self.fd = fd
        self.slot = slot
        self.generation = generation
        self.remoteAddress = remoteAddress
        self.parser = HTTPRequestParser(limits: limits)
        self.deadline = deadline
    }

    /// Whether the next request may be read: nothing pending before it.
    var canProcessInput: Bool {
        exchange == nil && !closeAfterWrite && !isClosed && pendingOutput.isEmpty
    }

    func setTimer(_ timer: Timer, deadline: UInt64) {
        self.timer = timer
        self.deadline = deadline
    }
}
