/// Where and how to deliver: one SMTP server, as the delivery engine resolved it.
public struct SMTPEndpoint: Sendable, Hashable {
    /// The server's name as configured or looked up: sent as SNI, checked against the
    /// certificate, and recorded as `last_response.host`.
    public var hostName: String
    /// The IPv4 or IPv6 literal to connect to (no brackets); DNS is the caller's job.
    public var address: String
    public var port: Int
    public var tls: TLSPolicy
    /// Sent with AUTH when the server offers PLAIN or LOGIN; nil: never authenticate.
    public var credentials: SMTPCredentials?
    /// Whether AUTH may be sent without TLS. The gateway allows it only for a relay on
    /// a loopback address, where nobody can listen in (SPEC §6, Relay mode).
    public var allowsClearTextAuthentication: Bool

    public init(
        hostName: String,
        address: String,
        port: Int,
        tls: TLSPolicy,
        credentials: SMTPCredentials? = nil,
        allowsClearTextAuthentication: Bool = false
    ) {
        self.hostName = hostName
        self.address = address
        self.port = port
        self.tls = tls
        self.credentials = credentials
        self.allowsClearTextAuthentication = allowsClearTextAuthentication
    }
}

/// How a connection uses TLS, and whether it checks the server's certificate.
public struct TLSPolicy: Sendable, Hashable {
    public enum Mode: Sendable, Hashable {
        /// Never TLS, even when STARTTLS is offered (the plain retry after a failed
        /// opportunistic handshake).
        case disabled
        /// STARTTLS when the server offers it, plain text otherwise.
        case startTLSWhenOffered
        /// STARTTLS or nothing: no AUTH and no mail is ever sent in clear text.
        case startTLSRequired
        /// TLS from the first byte (`smtps://`, port 465).
        case implicit
    }

    public var mode: Mode
    /// Verify the chain against the system trust store and the name against `hostName`.
    public var verifiesCertificate: Bool

    public init(mode: Mode, verifiesCertificate: Bool) {
        self.mode = mode
        self.verifiesCertificate = verifiesCertificate
    }

    /// No TLS at all.
    public static let disabled = TLSPolicy(mode: .disabled, verifiesCertificate: false)

    /// MX delivery, Postfix's `may`: STARTTLS when offered, no certificate checks,
    /// since an MX certificate rarely matches and a failed check must not stop mail.
    public static let opportunistic = TLSPolicy(mode: .startTLSWhenOffered, verifiesCertificate: false)

    /// Relay delivery as `MAILGATE_RELAY` describes it: `smtps://` is implicit TLS,
    /// `starttls=required` refuses clear text, `tls_verify=false` skips verification.
    public static func relay(implicitTLS: Bool, startTLSRequired: Bool, verifiesCertificate: Bool) -> TLSPolicy {
        let mode: Mode = implicitTLS ? .implicit : (startTLSRequired ? .startTLSRequired : .startTLSWhenOffered)
        return TLSPolicy(mode: mode, verifiesCertificate: verifiesCertificate)
    }
}

/// A user name and password for AUTH PLAIN or LOGIN (RFC 4954).
public struct SMTPCredentials: Sendable, Hashable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// Masks the password so that logging an endpoint never leaks it.
    public var description: String { "\(username):****" }
}

/// Settings shared by every connection the gateway opens.
public struct SMTPClientConfiguration: Sendable, Hashable {
    /// The name sent with EHLO/HELO (`MAILGATE_HELO_NAME`).
    public var heloName: String
    /// Limit for connecting, the TLS handshake and each reply (`MAILGATE_SMTP_TIMEOUT`).
    public var commandTimeout: Duration
    /// The reply to the end of DATA may take this many command timeouts, since the
    /// server often scans or queues the message before answering (RFC 5321 §4.5.3.2.6).
    public var dataTimeoutMultiplier: Int
    /// A PEM file of extra trust anchors, on top of the system store (a private CA
    /// for a relay, or a test certificate).
    public var additionalTrustAnchorsFile: String?

    public init(
        heloName: String,
        commandTimeout: Duration = .seconds(60),
        dataTimeoutMultiplier: Int = 5,
        additionalTrustAnchorsFile: String? = nil
    ) {
        self.heloName = heloName
        self.commandTimeout = commandTimeout
        self.dataTimeoutMultiplier = dataTimeoutMultiplier
        self.additionalTrustAnchorsFile = additionalTrustAnchorsFile
    }

    var dataEndTimeout: Duration { commandTimeout * dataTimeoutMultiplier }
}
