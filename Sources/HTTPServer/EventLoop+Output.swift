#if canImport(Glibc)
import Glibc
#endif

/// Writing responses and closing connections. Runs on the loop thread only.
extension EventLoop {
    /// The output buffer is shared by the loop's connections; one that grew
    /// for a large response is let go instead of being kept forever.
    private static let maxRetainedOutputCapacity = 1 << 20
    /// A closing connection reads and drops at most this much of what the client still sends.
    private static let maxLingerDiscard = 1 << 20

    /// Writes what was serialized for `connection` in one call; what the kernel
    /// does not take waits in the connection until the socket is writable again.
    func flush(_ connection: HTTPConnection) {
        defer {
            if output.capacity > Self.maxRetainedOutputCapacity { output = [] } else { output.removeAll(keepingCapacity: true) }
        }
        guard !connection.isClosed else { return }
        if !output.isEmpty {
            if !connection.pendingOutput.isEmpty {
                connection.pendingOutput.append(contentsOf: output)
            } else {
                switch output.withUnsafeBytes({ Socket.write(connection.fd, $0) }) {
                case .transferred(let count) where count == output.count:
                    break
                case .transferred(let count):
                    connection.pendingOutput = Array(output[count...])
                case .wouldBlock:
                    connection.pendingOutput = output
                case .endOfStream, .failed:
                    close(connection)
                    return
                }
            }
        }
        if connection.pendingOutput.isEmpty { outputDrained(connection) }
    }

    /// Continues a response the kernel did not take whole (the socket became writable).
    func writePendingOutput(_ connection: HTTPConnection) {
        let result = connection.pendingOutput.withUnsafeBytes { bytes in
            Socket.write(connection.fd, UnsafeRawBufferPointer(rebasing: bytes[connection.pendingOutputSent...]))
        }
        switch result {
        case .transferred(let count):
            connection.pendingOutputSent += count
            connection.deadline = now + context.idleTimeout
            if connection.pendingOutputSent == connection.pendingOutput.count {
                connection.pendingOutput = []
                connection.pendingOutputSent = 0
                outputDrained(connection)
            }
        case .wouldBlock:
            break
        case .endOfStream, .failed:
            close(connection)
        }
    }

    /// Everything serialized so far is in the kernel: those exchanges are
    /// finished, and a connection that was to close now closes.
    private func outputDrained(_ connection: HTTPConnection) {
        if connection.unwrittenResponses > 0 {
            context.unfinishedExchanges.subtract(connection.unwrittenResponses, ordering: .relaxed)
            connection.unwrittenResponses = 0
        }
        if connection.closeAfterWrite, !connection.lingering { beginLingeringClose(connection) }
    }

    /// Half-closes and keeps reading for a moment before the real close: closing
    /// with unread input makes the kernel send a reset, which can destroy the
    /// response (a 413, say) before the client reads it (RFC 9112 §9.6).
    private func beginLingeringClose(_ connection: HTTPConnection) {
        connection.lingering = true
        connection.pendingInput = []
        if connection.peerClosedWrite {
            close(connection)
            return
        }
        Glibc.shutdown(connection.fd, Int32(SHUT_WR))
        connection.setTimer(.linger, deadline: now + context.lingerTimeout)
    }

    /// Reads and drops input on a closing connection until the client closes too.
    func discardInput(_ connection: HTTPConnection) {
        while !connection.isClosed {
            switch Socket.read(connection.fd, into: readBuffer) {
            case .transferred(let count):
                connection.lingerDiscarded += count
                if connection.lingerDiscarded > Self.maxLingerDiscard { close(connection) }
            case .wouldBlock:
                return
            case .endOfStream, .failed:
                close(connection)
            }
        }
    }

    func close(_ connection: HTTPConnection) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        Glibc.close(connection.fd)
        connections[Int(connection.slot)] = nil
        freeSlots.append(connection.slot)
        context.openConnections.subtract(1, ordering: .relaxed)
        _ = releaseAdmission(connection)
        let unfinished = connection.unwrittenResponses + (connection.exchange == nil ? 0 : 1)
        if unfinished > 0 { context.unfinishedExchanges.subtract(unfinished, ordering: .relaxed) }
        connection.exchange = nil
        connection.pendingOutput = []
        connection.pendingInput = []
    }
}
