/// A push parser for HTTP/1.1 requests: feed it bytes as they arrive, get back
/// what they completed. It does no I/O and keeps at most one head (bounded by
/// `maxHeadBytes`) and one body (bounded by `maxBodyBytes`), so no input can make
/// it hold more. It reads one request at a time: after `.message` it starts on the
/// next (pipelined) request with whatever input the caller passes next.
///
/// Every decision depends only on the bytes, never on how they were split, which
/// the tests check by feeding each input split at every offset.
public struct HTTPRequestParser: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Request line plus header section, CRLFs included (431 beyond).
        public var maxHeadBytes: Int
        /// Header fields in one request (431 beyond).
        public var maxHeaderCount: Int
        /// Decoded body bytes (413 beyond).
        public var maxBodyBytes: Int

        public init(maxHeadBytes: Int = 16_384, maxHeaderCount: Int = 100, maxBodyBytes: Int = 1_048_576) {
            self.maxHeadBytes = maxHeadBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyBytes = maxBodyBytes
        }
    }

    public enum Event: Sendable, Equatable {
        /// Everything given was used; nothing is complete yet.
        case needMoreInput
        /// The head is complete and a body is still to come: the moment to send
        /// `100 Continue` (or to refuse the request without reading its body).
        case headReceived(HTTPRequestHead)
        /// A whole request.
        case message(HTTPRequestHead, body: [UInt8])
        /// The input is not HTTP/1.1 the parser accepts; it stays failed.
        case failure(HTTPRequestParseError)
    }

    public struct Step: Sendable, Equatable {
        /// How many bytes of the input were used; the rest belongs to what follows.
        public var consumed: Int
        public var event: Event
    }

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkedBody
        case failed(HTTPRequestParseError)
    }

    public let limits: Limits
    private var state = State.head
    private var scanner: HTTPHeadScanner
    /// The part of a head received so far, kept only while a head spans reads.
    private var headBuffer: [UInt8] = []
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var chunkedDecoder = ChunkedBodyDecoder()

    /// Bodies announced with a larger Content-Length grow as they arrive, so that
    /// a client cannot make the server reserve memory it never sends.
    private static let maxInitialBodyCapacity = 65_536

    public init(limits: Limits = Limits()) {
        self.limits = limits
        self.scanner = HTTPHeadScanner(maxHeadBytes: limits.maxHeadBytes)
    }

    /// Whether no byte of another request has arrived since the last message.
    public var isAtRequestStart: Bool {
        if case .head = state { return scanner.isAtRequestStart }
        return false
    }

    /// Whether a request's head is complete and its body is still arriving.
    public var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunkedBody: true
        case .head, .failed: false
        }
    }

    /// Parses as much of `input` as completes one event.
    public mutating func parse(_ input: UnsafeRawBufferPointer) -> Step {
        switch state {
        case .failed(let error):
            return Step(consumed: 0, event: .failure(error))
        case .head:
            return parseHead(input)
        case .fixedBody(let remaining):
            return continueFixedBody(input, from: 0, remaining: remaining, announceHead: false)
        case .chunkedBody:
            return continueChunkedBody(input, from: 0, announceHead: false)
        }
    }

    /// Feeds all of `bytes` and returns every event but `.needMoreInput`, in order,
    /// up to the first failure.
    public mutating func feed(_ bytes: [UInt8]) -> [Event] {
        var events: [Event] = []
        bytes.withUnsafeBytes { raw in
            var offset = 0
            repeat {
                let step = parse(UnsafeRawBufferPointer(rebasing: raw[offset...]))
                offset += step.consumed
                if case .failure = step.event {
                    events.append(step.event)
                    return
                }
                if step.event != .needMoreInput { events.append(step.event) }
            } while offset < raw.count
        }
        return events
    }

    private mutating func parseHead(_ input: UnsafeRawBufferPointer) -> Step {
        switch scanner.scan(input) {
        case .failure(let error):
            return fail(error)
        case .incomplete(let headStart):
            if headStart < input.count {
                headBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[headStart...]))
            }
            return Step(consumed: input.count, event: .needMoreInput)
        case .complete(let headStart, let end, let lines):
            let parsed: Result<HTTPRequestHead, HTTPRequestParseError>
            let headBytes = UnsafeRawBufferPointer(rebasing: input[headStart..<end])
            if headBuffer.isEmpty {
                parsed = Result { () throws(HTTPRequestParseError) in try HTTPHeadParser.parse(headBytes, fieldLines: lines - 2, limits: limits) }
            } else {
                headBuffer.append(contentsOf: headBytes)
                parsed = headBuffer.withUnsafeBytes { whole in
                    Result { () throws(HTTPRequestParseError) in try HTTPHeadParser.parse(whole, fieldLines: lines - 2, limits: limits) }
                }
                headBuffer = []
            }
            scanner = HTTPHeadScanner(maxHeadBytes: limits.maxHeadBytes)
            switch parsed {
            case .success(let head): return startBody(of: head, input: input, from: end)
            case .failure(let error): return fail(error)
            }
        }
    }

    private mutating func startBody(of head: HTTPRequestHead, input: UnsafeRawBufferPointer, from offset: Int) -> Step {
        switch head.framing {
        case .none, .contentLength(0):
            return Step(consumed: offset, event: .message(head, body: []))
        case .contentLength(let length):
            self.head = head
            body.reserveCapacity(min(length, Self.maxInitialBodyCapacity))
            return continueFixedBody(input, from: offset, remaining: length, announceHead: true)
        case .chunked:
            self.head = head
            chunkedDecoder = ChunkedBodyDecoder()
            return continueChunkedBody(input, from: offset, announceHead: true)
        }
    }

    private mutating func continueFixedBody(
        _ input: UnsafeRawBufferPointer, from offset: Int, remaining: Int, announceHead: Bool
    ) -> Step {
        let take = min(remaining, input.count - offset)
        body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset..<(offset + take)]))
        if take == remaining { return finishMessage(consumed: offset + take) }
        state = .fixedBody(remaining: remaining - take)
        return Step(consumed: offset + take, event: announceHead ? .headReceived(head!) : .needMoreInput)
    }

    private mutating func continueChunkedBody(_ input: UnsafeRawBufferPointer, from offset: Int, announceHead: Bool) -> Step {
        let (used, outcome) = chunkedDecoder.decode(
            UnsafeRawBufferPointer(rebasing: input[offset...]), into: &body, limits: limits)
        switch outcome {
        case .complete:
            return finishMessage(consumed: offset + used)
        case .failure(let error):
            return fail(error)
        case .needMoreInput:
            state = .chunkedBody
            return Step(consumed: offset + used, event: announceHead ? .headReceived(head!) : .needMoreInput)
        }
    }

    private mutating func finishMessage(consumed: Int) -> Step {
        let message = Event.message(head!, body: body)
        head = nil
        body = []
        state = .head
        return Step(consumed: consumed, event: message)
    }

    private mutating func fail(_ error: HTTPRequestParseError) -> Step {
        state = .failed(error)
        headBuffer = []
        body = []
        head = nil
        return Step(consumed: 0, event: .failure(error))
    }
}
