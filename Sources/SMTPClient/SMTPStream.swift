/// The byte stream under an SMTP session: a socket, encrypted or not, and the reply
/// parser that turns what arrives into replies.
final class SMTPStream {
    private let socket: TCPSocket
    private var tls: TLSSession?
    private var parser = SMTPReplyParser()
    private let stallTimeout: Duration
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 1)

    var isTLSActive: Bool { tls != nil }

    init(socket: TCPSocket, stallTimeout: Duration) {
        self.socket = socket
        self.stallTimeout = stallTimeout
    }

    deinit {
        buffer.deallocate()
    }

    /// Runs the TLS handshake (implicit TLS, or after a 220 to STARTTLS).
    func startTLS(context: TLSContext, hostName: String, until deadline: ContinuousClock.Instant) throws(SMTPError) {
        // RFC 3207 §5 / CVE-2011-0411: bytes that arrived with the 220 were sent before
        // TLS and must not be read as if they came through it.
        if parser.hasPartialReply {
            throw .protocolViolation(.malformedLine("data after the 220 reply to STARTTLS"), .startTLS)
        }
        let session = try TLSSession(context: context, socket: socket, hostName: hostName, stallTimeout: stallTimeout)
        try session.handshake(until: deadline)
        tls = session
    }

    func write(_ bytes: [UInt8], phase: SMTPPhase) throws(SMTPError) {
        guard !bytes.isEmpty else { return }
        let failure = bytes.withUnsafeBytes { (raw) -> SMTPError? in
            do throws(SMTPError) {
                if let tls {
                    try tls.write(raw, phase: phase)
                } else {
                    try socket.send(raw, stallTimeout: stallTimeout, phase: phase)
                }
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// The next complete reply, reading as needed until `deadline`.
    func readReply(phase: SMTPPhase, until deadline: ContinuousClock.Instant) throws(SMTPError) -> SMTPReply {
        while true {
            do {
                if let reply = try parser.nextReply() { return reply }
            } catch {
                throw .protocolViolation(error, phase)
            }
            let count = if let tls {
                try tls.read(into: buffer, until: deadline, phase: phase)
            } else {
                try socket.receive(into: buffer, until: deadline, phase: phase)
            }
            guard count > 0 else { throw .connectionClosed(phase) }
            parser.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// Ends the session politely on the wire without waiting for the peer.
    func close() {
        tls?.shutdown()
        socket.shutdownOutput()
    }
}
