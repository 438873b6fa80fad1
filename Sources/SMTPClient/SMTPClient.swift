/// Opens SMTP connections with one configuration: the HELO name, the timeouts, and the
/// TLS contexts every connection shares (one verifying, one not).
///
/// Make one per gateway and share it between delivery threads.
public final class SMTPClient: Sendable {
    public let configuration: SMTPClientConfiguration
    private let verifyingContext: TLSContext
    private let unverifiedContext: TLSContext

    /// Fails only when OpenSSL cannot set up a context or load the trust store.
    public init(configuration: SMTPClientConfiguration) throws(SMTPError) {
        self.configuration = configuration
        self.verifyingContext = try TLSContext(
            verifiesCertificate: true,
            additionalTrustAnchorsFile: configuration.additionalTrustAnchorsFile
        )
        self.unverifiedContext = try TLSContext(verifiesCertificate: false, additionalTrustAnchorsFile: nil)
    }

    /// Connects and runs the session up to the first transaction: the greeting, EHLO
    /// (HELO when refused), STARTTLS and EHLO again when the policy says so, and AUTH
    /// when credentials are set. Blocks the calling thread; every wait is bounded by
    /// `configuration.commandTimeout`.
    ///
    /// A thrown `SMTPError` says what decided the failure; its `recordedReply` is the
    /// reply to record for the recipients, and `isTLSFailure` tells an opportunistic
    /// caller to retry with `TLSPolicy.disabled`.
    public func connect(to endpoint: SMTPEndpoint) throws(SMTPError) -> SMTPConnection {
        let context = endpoint.tls.verifiesCertificate ? verifyingContext : unverifiedContext
        return try SMTPConnection.open(to: endpoint, configuration: configuration, tlsContext: context)
    }
}
