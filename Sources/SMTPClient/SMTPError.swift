/// The step of an SMTP session during which something went wrong.
public enum SMTPPhase: String, Sendable, Hashable {
    case connect
    case tlsHandshake = "TLS handshake"
    case greeting
    case ehlo = "EHLO"
    case helo = "HELO"
    case startTLS = "STARTTLS"
    case authentication = "AUTH"
    case reset = "RSET"
    case mailFrom = "MAIL FROM"
    case recipient = "RCPT TO"
    case data = "DATA"
    case dataContent = "message content"
    case dataEnd = "end of DATA"
    case quit = "QUIT"
}

/// Why a connection or a transaction could not go on, with what decided it.
///
/// Every case turns into the reply recorded as `last_response` (`recordedReply`): the
/// peer's own reply when it refused something, or a synthesized 4xx reply with the
/// fitting RFC 3463 code when the network or TLS failed, so recipients are deferred.
public enum SMTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// connect() failed: refused, unreachable, ... (the errno and its text).
    case connectFailed(errno: Int32, reason: String)
    /// The peer did not answer within the timeout.
    case timedOut(SMTPPhase)
    /// The peer closed or reset the connection.
    case connectionClosed(SMTPPhase)
    /// A socket call failed with an errno other than a close or a reset.
    case networkFailure(errno: Int32, reason: String, SMTPPhase)
    /// The greeting was not 220 (e.g. 421 busy, 554 no service).
    case greetingRefused(SMTPReply)
    /// Both EHLO and HELO were refused, or EHLO got a 4xx.
    case helloRefused(SMTPReply)
    /// TLS is required but the server does not offer STARTTLS.
    case startTLSNotOffered
    /// TLS is required and the server refused STARTTLS.
    case startTLSRefused(SMTPReply)
    /// The TLS handshake failed for a reason other than the certificate. For
    /// opportunistic TLS the caller retries on a new plain connection.
    case tlsHandshakeFailed(reason: String)
    /// The certificate chain or name did not verify.
    case certificateVerificationFailed(reason: String)
    /// The server refused the credentials (535) or the AUTH exchange.
    case authenticationRefused(SMTPReply)
    /// Credentials are configured but the server offers neither PLAIN nor LOGIN.
    case authenticationMechanismUnavailable(offered: [String])
    /// Credentials are configured, TLS is not active and clear-text AUTH is not allowed.
    case authenticationRequiresTLS
    /// The server sent something that is not a valid reply, or a reply out of place.
    case protocolViolation(SMTPProtocolViolation, SMTPPhase)
    /// The server announced it is closing the connection (421) outside a transaction.
    case serviceClosing(SMTPReply)
    /// The connection already failed or was closed; open a new one.
    case connectionUnusable

    /// The peer's reply when it refused something, nil for local and network failures.
    public var peerReply: SMTPReply? {
        switch self {
        case .greetingRefused(let reply), .helloRefused(let reply), .startTLSRefused(let reply),
             .authenticationRefused(let reply), .serviceClosing(let reply):
            reply
        default:
            nil
        }
    }

    /// Whether TLS itself failed: for opportunistic TLS the caller tries again in plain text.
    public var isTLSFailure: Bool {
        switch self {
        case .tlsHandshakeFailed, .certificateVerificationFailed: true
        default: false
        }
    }

    /// The reply to record for recipients this error decided: the peer's reply, or a
    /// synthesized transient one (SPEC §3: broken connections and timeouts defer).
    public var recordedReply: SMTPReply {
        if let reply = peerReply { return reply }
        let (detail, text) = synthesizedDetail
        return SMTPReply(code: 421, enhancedCode: EnhancedStatusCode(statusClass: 4, subject: detail.0, detail: detail.1), text: text)
    }

    public var description: String { recordedReply.description }

    /// RFC 3463 subject and detail, and the text, for failures without a peer reply.
    private var synthesizedDetail: ((Int, Int), String) {
        switch self {
        case .connectFailed(_, let reason): ((4, 1), "connect failed: \(reason)")
        case .timedOut(let phase): ((4, 2), "timed out during \(phase.rawValue)")
        case .connectionClosed(let phase): ((4, 2), "connection closed by peer during \(phase.rawValue)")
        case .networkFailure(_, let reason, let phase): ((4, 2), "network error during \(phase.rawValue): \(reason)")
        case .startTLSNotOffered: ((7, 4), "TLS is required, but the server does not offer STARTTLS")
        case .tlsHandshakeFailed(let reason): ((7, 5), "TLS handshake failed: \(reason)")
        case .certificateVerificationFailed(let reason): ((7, 5), "certificate verification failed: \(reason)")
        case .authenticationMechanismUnavailable(let offered):
            ((7, 0), "no supported AUTH mechanism (server offers \(offered.joined(separator: " ")))")
        case .authenticationRequiresTLS: ((7, 0), "AUTH needs TLS, which the server does not offer")
        case .protocolViolation(let violation, let phase): ((5, 0), "protocol error during \(phase.rawValue): \(violation)")
        case .connectionUnusable: ((4, 2), "connection no longer usable")
        case .greetingRefused, .helloRefused, .startTLSRefused, .authenticationRefused, .serviceClosing:
            ((0, 0), "")
        }
    }
}
