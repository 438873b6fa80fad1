/// The session from the greeting to the first MAIL: EHLO (or HELO), STARTTLS and a
/// second EHLO, AUTH. It does no I/O: it takes replies and returns the next command.
///
/// RFC 5321 §3.1 and §4.1.1.1, RFC 3207 (STARTTLS), RFC 4954 (AUTH).
struct SMTPHandshake {
    /// What the connection must do after a step's command, if any, is written.
    enum Next: Equatable {
        case readReply
        /// Run the TLS handshake on the socket, then call `tlsEstablished()`.
        case startTLS
        /// Transactions may begin.
        case ready
    }

    struct Step: Equatable {
        var command: SMTPCommand?
        var next: Next
    }

    private enum State: Equatable {
        case greeting, ehlo, helo, startTLS, tlsHandshake, authPlain, ready
        case authLogin(AuthLoginStage)
    }

    private enum AuthLoginStage: Equatable { case mechanism, username, password }

    private let heloName: String
    private let endpoint: SMTPEndpoint
    private var state = State.greeting
    /// Whether the bytes on the wire are encrypted now.
    private(set) var isTLSActive: Bool
    /// The extensions from the latest EHLO; empty after HELO.
    private(set) var capabilities = SMTPCapabilities()

    init(heloName: String, endpoint: SMTPEndpoint) {
        self.heloName = heloName
        self.endpoint = endpoint
        self.isTLSActive = endpoint.tls.mode == .implicit
    }

    /// The first step: wait for the greeting.
    var initialStep: Step { Step(command: nil, next: .readReply) }

    /// The phase whose reply is awaited, for timeout and close errors.
    var phase: SMTPPhase {
        switch state {
        case .greeting: .greeting
        case .ehlo: .ehlo
        case .helo: .helo
        case .startTLS: .startTLS
        case .tlsHandshake: .tlsHandshake
        case .authPlain, .authLogin, .ready: .authentication
        }
    }

    mutating func receive(_ reply: SMTPReply) throws(SMTPError) -> Step {
        switch state {
        case .greeting:
            guard reply.code == 220 else { throw .greetingRefused(reply) }
            return sendHello()
        case .ehlo:
            if reply.isPositive {
                capabilities = SMTPCapabilities(ehloReply: reply)
                return try afterHello()
            }
            // RFC 5321 §4.1.4: a server that does not know EHLO answers 5xx; try HELO.
            guard reply.isPermanent else { throw .helloRefused(reply) }
            state = .helo
            return Step(command: .helo(heloName), next: .readReply)
        case .helo:
            guard reply.isPositive else { throw .helloRefused(reply) }
            capabilities = SMTPCapabilities()
            return try afterHello()
        case .startTLS:
            return try receiveStartTLS(reply)
        case .authPlain:
            guard reply.isPositive else { throw .authenticationRefused(reply) }
            return finish()
        case .authLogin(let stage):
            return try receiveAuthLogin(reply, stage: stage)
        case .tlsHandshake, .ready:
            throw .protocolViolation(.unexpectedReply(reply, after: phase.rawValue), phase)
        }
    }

    /// After the TLS handshake: forget what was learned in clear text and greet again
    /// (RFC 3207 §4.2).
    mutating func tlsEstablished() -> Step {
        isTLSActive = true
        capabilities = SMTPCapabilities()
        return sendHello()
    }

    private mutating func sendHello() -> Step {
        state = .ehlo
        return Step(command: .ehlo(heloName), next: .readReply)
    }

    private mutating func afterHello() throws(SMTPError) -> Step {
        let wantsStartTLS = endpoint.tls.mode == .startTLSWhenOffered || endpoint.tls.mode == .startTLSRequired
        if !isTLSActive && wantsStartTLS {
            if capabilities.startTLS {
                state = .startTLS
                return Step(command: .startTLS, next: .readReply)
            }
            if endpoint.tls.mode == .startTLSRequired { throw .startTLSNotOffered }
        }
        return try authenticate()
    }

    private mutating func receiveStartTLS(_ reply: SMTPReply) throws(SMTPError) -> Step {
        if reply.code == 220 {
            state = .tlsHandshake
            return Step(command: nil, next: .startTLS)
        }
        // RFC 3207 §4: after a refusal the client may go on in clear text, unless TLS
        // is required or the server is closing the connection.
        guard endpoint.tls.mode == .startTLSWhenOffered, !reply.isClosingConnection else {
            throw .startTLSRefused(reply)
        }
        return try authenticate()
    }

    /// AUTH when credentials are configured and the server asks for AUTH at all; like
    /// Postfix, a server that offers no AUTH gets the mail without it.
    private mutating func authenticate() throws(SMTPError) -> Step {
        let mechanisms = capabilities.authenticationMechanisms
        guard let credentials = endpoint.credentials, !mechanisms.isEmpty else { return finish() }
        guard isTLSActive || endpoint.allowsClearTextAuthentication else { throw .authenticationRequiresTLS }
        if mechanisms.contains("PLAIN") {
            state = .authPlain
            return Step(command: .authPlain(credentials), next: .readReply)
        }
        if mechanisms.contains("LOGIN") {
            state = .authLogin(.mechanism)
            return Step(command: .authLogin, next: .readReply)
        }
        throw .authenticationMechanismUnavailable(offered: mechanisms.sorted())
    }

    /// AUTH LOGIN: 334 asks for the user name, then the password, each base64.
    private mutating func receiveAuthLogin(_ reply: SMTPReply, stage: AuthLoginStage) throws(SMTPError) -> Step {
        guard let credentials = endpoint.credentials else { return finish() }
        switch stage {
        case .mechanism, .username:
            guard reply.code == 334 else { throw .authenticationRefused(reply) }
            let answer = stage == .mechanism ? credentials.username : credentials.password
            state = .authLogin(stage == .mechanism ? .username : .password)
            return Step(command: .authResponse(answer), next: .readReply)
        case .password:
            guard reply.isPositive else { throw .authenticationRefused(reply) }
            return finish()
        }
    }

    private mutating func finish() -> Step {
        state = .ready
        return Step(command: nil, next: .ready)
    }
}
