/// An open SMTP session, ready for transactions, that can carry several messages in turn.
///
/// Blocking: each call waits on the calling thread, bounded by the configured timeouts.
/// `@unchecked Sendable` so that a pool may hand a connection from thread to thread;
/// it must never be used by two threads at once.
public final class SMTPConnection: @unchecked Sendable {
    /// Where this connection goes, as the caller described it.
    public let endpoint: SMTPEndpoint
    /// What the server announced in its last EHLO (after STARTTLS, if any).
    public let capabilities: SMTPCapabilities
    /// Whether the session is encrypted (implicit TLS or STARTTLS).
    public let isTLSActive: Bool
    /// How many transactions this connection carried (sent MAIL FROM for).
    public private(set) var transactionCount = 0

    private enum Lifecycle {
        /// `needsReset`: an earlier transaction used the connection, so RSET first.
        case open(needsReset: Bool)
        case closed
    }

    private let stream: SMTPStream
    private let configuration: SMTPClientConfiguration
    private var lifecycle = Lifecycle.open(needsReset: false)

    /// Whether another message may be sent: false after QUIT, a 421, a timeout, or
    /// any network or protocol failure.
    public var isUsable: Bool {
        if case .open = lifecycle { true } else { false }
    }

    private init(endpoint: SMTPEndpoint, configuration: SMTPClientConfiguration, stream: SMTPStream, capabilities: SMTPCapabilities) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.stream = stream
        self.capabilities = capabilities
        self.isTLSActive = stream.isTLSActive
    }

    static func open(to endpoint: SMTPEndpoint, configuration: SMTPClientConfiguration, tlsContext: TLSContext) throws(SMTPError) -> SMTPConnection {
        let timeout = configuration.commandTimeout
        let socket = try TCPSocket.connect(address: endpoint.address, port: endpoint.port, timeout: timeout)
        let stream = SMTPStream(socket: socket, stallTimeout: timeout)
        var handshake = SMTPHandshake(heloName: configuration.heloName, endpoint: endpoint)
        do {
            if endpoint.tls.mode == .implicit {
                try stream.startTLS(context: tlsContext, hostName: endpoint.hostName, until: .now + timeout)
            }
            var step = handshake.initialStep
            while true {
                if let command = step.command { try stream.write(command.bytes, phase: command.phase) }
                switch step.next {
                case .readReply:
                    step = try handshake.receive(stream.readReply(phase: handshake.phase, until: .now + timeout))
                case .startTLS:
                    try stream.startTLS(context: tlsContext, hostName: endpoint.hostName, until: .now + timeout)
                    step = handshake.tlsEstablished()
                case .ready:
                    return SMTPConnection(endpoint: endpoint, configuration: configuration, stream: stream, capabilities: handshake.capabilities)
                }
            }
        } catch {
            // A server that refused us in words gets a QUIT; a broken one just a close.
            if let reply = error.peerReply, !reply.isClosingConnection {
                try? stream.write(SMTPCommand.quit.bytes, phase: .quit)
            }
            stream.close()
            throw error
        }
    }

    /// Sends one message to all its recipients in one transaction (RSET first when the
    /// connection carried an earlier one) and returns a reply for every recipient.
    ///
    /// Throws only when nothing about the envelope was decided: the connection was
    /// unusable, or failed (or got a 421) before the server answered MAIL FROM. Then
    /// every recipient shares the error's `recordedReply`, and a caller whose reused
    /// connection went stale may retry on a new one. Once MAIL FROM was answered, a
    /// failure is reported in the result's `interruption`, and recipients without a
    /// reply of their own carry the synthesized one.
    public func send(_ envelope: SMTPEnvelope) throws(SMTPError) -> SMTPTransactionResult {
        guard case .open(let needsReset) = lifecycle else { throw .connectionUnusable }
        var transaction = SMTPTransaction(envelope: envelope, capabilities: capabilities)
        var step = transaction.start(resettingFirst: needsReset)
        let usesConnection = !step.output.isEmpty
        if usesConnection { transactionCount += 1 }
        do {
            while true {
                switch step.next {
                case .finished(let result):
                    guard result.interruption == nil else {
                        lifecycle = .closed
                        stream.close()
                        return result
                    }
                    lifecycle = .open(needsReset: needsReset || usesConnection)
                    return result
                case .readReply(let phase, let isDataEnd):
                    try stream.write(step.output, phase: isDataEnd ? .dataContent : phase)
                    let timeout = isDataEnd ? configuration.dataEndTimeout : configuration.commandTimeout
                    step = try transaction.receive(stream.readReply(phase: phase, until: .now + timeout))
                }
            }
        } catch {
            lifecycle = .closed
            stream.close()
            guard transaction.hasStarted else { throw error }
            return transaction.interrupted(by: error)
        }
    }

    /// Sends RSET: abandons any transaction state on the server (RFC 5321 §4.1.1.5).
    /// `send` does this itself between messages; this is for a caller that wants to
    /// check a pooled connection before use.
    public func reset() throws(SMTPError) {
        guard case .open = lifecycle else { throw .connectionUnusable }
        do throws(SMTPError) {
            try stream.write(SMTPCommand.reset.bytes, phase: .reset)
            let reply = try stream.readReply(phase: .reset, until: .now + configuration.commandTimeout)
            if reply.isClosingConnection { throw .serviceClosing(reply) }
            guard reply.isPositive else { throw .protocolViolation(.unexpectedReply(reply, after: "RSET"), .reset) }
            lifecycle = .open(needsReset: false)
        } catch {
            lifecycle = .closed
            stream.close()
            throw error
        }
    }

    /// Says QUIT, waits (bounded) for the 221, and closes. Never fails: the connection
    /// is closed afterwards whatever the server did.
    public func quit() {
        guard case .open = lifecycle else { return }
        lifecycle = .closed
        if (try? stream.write(SMTPCommand.quit.bytes, phase: .quit)) != nil {
            _ = try? stream.readReply(phase: .quit, until: .now + configuration.commandTimeout)
        }
        stream.close()
    }
}
