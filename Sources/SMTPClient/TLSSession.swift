import CMailgateOpenSSL
import Glibc

/// One TLS session (`SSL`) over a connected socket.
///
/// OpenSSL talks to memory BIOs and this type moves the bytes between them and the
/// socket itself: so every socket write goes through `send(MSG_NOSIGNAL)` and every
/// wait has the same deadlines as plain text.
final class TLSSession {
    private let ssl: OpaquePointer
    /// Bytes from the network, for OpenSSL to decrypt (owned by `ssl`).
    private let networkInput: OpaquePointer
    /// Bytes OpenSSL produced, to be written to the network (owned by `ssl`).
    private let networkOutput: OpaquePointer
    private let socket: TCPSocket
    private let stallTimeout: Duration
    private let verifiesCertificate: Bool
    /// Staging for bytes between the socket and the BIOs (one TLS record's worth).
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384 + 512, alignment: 1)

    /// Prepares a client session: SNI and the expected name (RFC 6125) for `hostName`,
    /// or the expected address when `hostName` is an IP literal.
    init(context: TLSContext, socket: TCPSocket, hostName: String, stallTimeout: Duration) throws(SMTPError) {
        guard let ssl = SSL_new(context.handle),
              let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem())
        else { throw .tlsHandshakeFailed(reason: "cannot create TLS session: \(OpenSSLErrors.drain())") }
        SSL_set_bio(ssl, input, output)
        SSL_set_connect_state(ssl)
        self.ssl = ssl
        self.networkInput = input
        self.networkOutput = output
        self.socket = socket
        self.stallTimeout = stallTimeout
        self.verifiesCertificate = context.verifiesCertificate
        // A name from DNS may end with the root's dot; certificates never do.
        let hostName = hostName.hasSuffix(".") ? String(hostName.dropLast()) : hostName
        let isAddress = hostName.contains(":") || hostName.allSatisfy { $0 == "." || $0.isASCIIDigit }
        if isAddress {
            // RFC 6066 §3: no IP literals in SNI.
            _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), hostName)
        } else {
            _ = cmg_ssl_set_tlsext_host_name(ssl, hostName)
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            _ = SSL_set1_host(ssl, hostName)
        }
    }

    deinit {
        SSL_free(ssl)
        scratch.deallocate()
    }

    func handshake(until deadline: ContinuousClock.Instant) throws(SMTPError) {
        do {
            _ = try drive(.tlsHandshake, until: deadline) { SSL_connect($0) }
        } catch .connectionClosed {
            throw .tlsHandshakeFailed(reason: "connection closed by peer during the handshake")
        } catch .networkFailure(_, let reason, .tlsHandshake) {
            throw failedHandshake(reason)
        }
    }

    /// Decrypted bytes, or 0 when the peer closed the connection.
    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: ContinuousClock.Instant, phase: SMTPPhase) throws(SMTPError) -> Int {
        let count = try drive(phase, until: deadline) { SSL_read($0, buffer.baseAddress, Int32(clamping: buffer.count)) }
        return Int(count)
    }

    /// Encrypts and sends all bytes, in records of at most 16 KiB.
    func write(_ bytes: UnsafeRawBufferPointer, phase: SMTPPhase) throws(SMTPError) {
        var offset = 0
        while offset < bytes.count {
            let chunk = min(16384, bytes.count - offset)
            let written = try drive(phase, until: .now + stallTimeout) { SSL_write($0, bytes.baseAddress! + offset, Int32(chunk)) }
            offset += Int(written)
        }
    }

    /// Sends close_notify without waiting for the peer's.
    func shutdown() {
        _ = SSL_shutdown(ssl)
        try? flush(phase: .quit)
    }

    /// Runs an SSL call until it succeeds, feeding it from and draining it to the socket.
    private func drive(_ phase: SMTPPhase, until deadline: ContinuousClock.Instant, _ operation: (OpaquePointer) -> Int32) throws(SMTPError) -> Int32 {
        while true {
            ERR_clear_error()
            let result = operation(ssl)
            let failure = SSL_get_error(ssl, result)
            try flush(phase: phase)
            if result > 0 { return result }
            switch failure {
            case SSL_ERROR_WANT_READ:
                guard try fill(until: deadline, phase: phase) else { throw .connectionClosed(phase) }
            case SSL_ERROR_ZERO_RETURN:
                return 0
            default:
                let reason = OpenSSLErrors.drain()
                throw phase == .tlsHandshake ? failedHandshake(reason) : .networkFailure(errno: 0, reason: "TLS: \(reason)", phase)
            }
        }
    }

    private func failedHandshake(_ reason: String) -> SMTPError {
        let verification = SSL_get_verify_result(ssl)
        guard verifiesCertificate, verification != X509_V_OK else { return .tlsHandshakeFailed(reason: reason) }
        return .certificateVerificationFailed(reason: String(cString: X509_verify_cert_error_string(verification)))
    }

    /// Moves bytes from the socket into OpenSSL; false when the peer closed.
    private func fill(until deadline: ContinuousClock.Instant, phase: SMTPPhase) throws(SMTPError) -> Bool {
        let count = try socket.receive(into: scratch, until: deadline, phase: phase)
        guard count > 0 else { return false }
        BIO_write(networkInput, scratch.baseAddress, Int32(count))
        return true
    }

    /// Writes everything OpenSSL produced to the socket.
    private func flush(phase: SMTPPhase) throws(SMTPError) {
        while BIO_ctrl_pending(networkOutput) > 0 {
            let count = BIO_read(networkOutput, scratch.baseAddress, Int32(scratch.count))
            guard count > 0 else { return }
            try socket.send(UnsafeRawBufferPointer(rebasing: scratch[0..<Int(count)]), stallTimeout: stallTimeout, phase: phase)
        }
    }
}
