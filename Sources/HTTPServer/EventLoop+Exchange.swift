#if canImport(Glibc)
import Glibc
#endif

/// Reading, parsing and dispatching requests on one connection, and writing
/// what comes back. Runs on the loop thread only.
extension EventLoop {
    /// Moves a connection as far as it can go now: queued input, then the
    /// socket, then one write of everything answered meanwhile.
    func service(_ connection: HTTPConnection) {
        if connection.lingering {
            discardInput(connection)
            return
        }
        if connection.canProcessInput, !connection.pendingInput.isEmpty {
            let queued = connection.pendingInput
            connection.pendingInput = []
            queued.withUnsafeBytes { process(connection, $0) }
        }
        readAvailable(connection)
        flush(connection)
        guard !connection.isClosed else { return }
        if connection.lingering {
            discardInput(connection)
        } else if connection.peerClosedWrite, connection.canProcessInput {
            // The client finished sending and everything it asked for is answered.
            close(connection)
        } else {
            refreshTimer(connection)
        }
    }

    private func readAvailable(_ connection: HTTPConnection) {
        while connection.readable, connection.canProcessInput, !connection.peerClosedWrite {
            switch Socket.read(connection.fd, into: readBuffer) {
            case .transferred(let count):
                // A short read means the socket is drained; a new edge comes with new data.
                if count < readBuffer.count, !connection.peerHangupSignalled { connection.readable = false }
                process(connection, UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            case .wouldBlock:
                connection.readable = false
            case .endOfStream:
                connection.peerClosedWrite = true
                connection.readable = false
            case .failed:
                output.removeAll(keepingCapacity: true)
                close(connection)
            }
        }
    }

    /// Parses `input` request by request, dispatching each; stops (keeping the
    /// rest) while a response is pending, so pipelined requests are answered in order.
    func process(_ connection: HTTPConnection, _ input: UnsafeRawBufferPointer) {
        if connection.timer == .idle, !input.isEmpty {
            connection.setTimer(.requestHead, deadline: now + context.headerTimeout)
        }
        var offset = 0
        while true {
            guard connection.canProcessInput else {
                if !connection.closeAfterWrite, !connection.isClosed, offset < input.count {
                    connection.pendingInput.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset...]))
                }
                return
            }
            let step = connection.parser.parse(UnsafeRawBufferPointer(rebasing: input[offset...]))
            offset += step.consumed
            switch step.event {
            case .needMoreInput:
                return
            case .headReceived(let head):
                headReceived(connection, head)
            case .message(let head, let body):
                dispatch(connection, head: head, body: body)
            case .failure(let error):
                respondFromServer(connection, .problem(status: HTTPStatus(code: error.statusCode), detail: error.description),
                                  method: nil)
                return
            }
        }
    }

    /// A head whose body is still to come: refuse it now if draining; else the
    /// request is in flight (a drain waits for it), and the body is invited if
    /// the client waits for `100 Continue`.
    private func headReceived(_ connection: HTTPConnection, _ head: HTTPRequestHead) {
        if context.isDraining.load(ordering: .relaxed) {
            refuseWhileDraining(connection, method: head.method)
            return
        }
        if !connection.admittedBody {
            connection.admittedBody = true
            context.admittedBodies.wrappingAdd(1, ordering: .relaxed)
        }
        if head.expectsContinue {
            HTTPResponseWriter.writeContinue(into: &output)
        }
    }

    /// Ends the in-flight mark of a request whose body was awaited; true if it had one.
    func releaseAdmission(_ connection: HTTPConnection) -> Bool {
        guard connection.admittedBody else { return false }
        connection.admittedBody = false
        context.admittedBodies.subtract(1, ordering: .relaxed)
        return true
    }

    private func dispatch(_ connection: HTTPConnection, head: HTTPRequestHead, body: [UInt8]) {
        let admittedBeforeDraining = releaseAdmission(connection)
        guard admittedBeforeDraining || !context.isDraining.load(ordering: .relaxed) else {
            refuseWhileDraining(connection, method: head.method)
            return
        }
        connection.sequence &+= 1
        connection.requestsServed += 1
        requestCounter &+= 1
        let token = ExchangeToken(slot: connection.slot, generation: connection.generation, sequence: connection.sequence)
        let requestID = requestCounter &* UInt64(loopCount) &+ UInt64(index)
        connection.exchange = HTTPConnection.Exchange(
            token: token, method: head.method, keepAlive: head.keepAlive, isHTTP10: head.version.minor == 0,
            requestID: requestID, startedAt: context.observer == nil ? 0 : Self.preciseNow(), requestBodyBytes: body.count)
        connection.setTimer(.none, deadline: 0)
        context.unfinishedExchanges.wrappingAdd(1, ordering: .relaxed)
        let request = HTTPRequest(
            method: head.method, target: head.target, version: head.version, headers: head.headers, body: body,
            remoteAddress: connection.remoteAddress, requestID: requestID)
        currentDispatch = token
        context.handler.handle(request, responder: HTTPResponder(loop: self, token: token))
        currentDispatch = nil
        if let answered = inlineResponse {
            inlineResponse = nil
            complete(connection, with: answered)
        }
    }

    /// Serializes the handler's response for the exchange it belongs to; a
    /// response for anything else (answered twice, connection gone) is dropped.
    func complete(_ connection: HTTPConnection, with item: InboxItem) {
        guard let exchange = connection.exchange, exchange.token == item.token else { return }
        connection.exchange = nil
        let keepAlive = exchange.keepAlive && !context.isDraining.load(ordering: .relaxed)
        if !keepAlive { connection.closeAfterWrite = true }
        HTTPResponseWriter.write(
            item.response, persistence: !keepAlive ? .close : exchange.isHTTP10 ? .keepAliveHTTP10 : .keepAlive,
            includeBody: exchange.method != .head, dateLine: dateCache.headerLine, into: &output)
        connection.unwrittenResponses += 1
        if let observer = context.observer {
            observer.requestFinished(HTTPExchangeSummary(
                requestID: exchange.requestID, method: exchange.method, route: item.route ?? Router.unmatchedRoute,
                status: item.response.status.code, duration: .nanoseconds(Int64(Self.preciseNow() &- exchange.startedAt)),
                requestBodyBytes: exchange.requestBodyBytes, responseBodyBytes: item.response.body.count,
                remoteAddress: connection.remoteAddress))
        }
    }

    private func refuseWhileDraining(_ connection: HTTPConnection, method: HTTPMethod) {
        let retryAfter = String(context.configuration.retryAfterSecondsWhenDraining)
        respondFromServer(
            connection,
            .problem(status: .serviceUnavailable, detail: "The server is shutting down.", headers: ["Retry-After": retryAfter]),
            method: method)
    }

    /// A response the server makes itself (errors, timeouts, draining), after
    /// which the connection closes.
    func respondFromServer(_ connection: HTTPConnection, _ response: HTTPResponse, method: HTTPMethod?) {
        _ = releaseAdmission(connection)
        connection.closeAfterWrite = true
        HTTPResponseWriter.write(response, persistence: .close, includeBody: method != .head,
                                 dateLine: dateCache.headerLine, into: &output)
        requestCounter &+= 1
        context.observer?.requestFinished(HTTPExchangeSummary(
            requestID: requestCounter &* UInt64(loopCount) &+ UInt64(index), method: method,
            route: HTTPExchangeSummary.serverRoute, status: response.status.code, duration: .zero,
            requestBodyBytes: 0, responseBodyBytes: response.body.count, remoteAddress: connection.remoteAddress))
    }

    private func refreshTimer(_ connection: HTTPConnection) {
        if connection.exchange != nil {
            connection.setTimer(.none, deadline: 0)
        } else if !connection.pendingOutput.isEmpty {
            if connection.timer != .transfer { connection.setTimer(.transfer, deadline: now + context.idleTimeout) }
        } else if connection.parser.isReadingBody {
            connection.setTimer(.transfer, deadline: now + context.idleTimeout)
        } else if connection.parser.isAtRequestStart, connection.requestsServed > 0 {
            if connection.timer != .idle { connection.setTimer(.idle, deadline: now + context.idleTimeout) }
        } else if connection.timer != .requestHead {
            connection.setTimer(.requestHead, deadline: now + context.headerTimeout)
        }
    }

    static func preciseNow() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
