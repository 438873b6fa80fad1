/// One mail transaction (RFC 5321 §3.3): optional RSET, MAIL FROM, one RCPT TO per
/// recipient, DATA, the content, and the reply that ends it. It does no I/O: it takes
/// replies and returns bytes to write, and in the end a reply for every recipient.
///
/// With PIPELINING (RFC 2920) the whole envelope goes in one write and the replies are
/// matched to the commands in order; without it, one command waits for the last reply.
struct SMTPTransaction {
    enum Next: Equatable {
        /// Read one reply; `isDataEnd` selects the longer end-of-DATA timeout.
        case readReply(SMTPPhase, isDataEnd: Bool)
        case finished(SMTPTransactionResult)
    }

    struct Step: Equatable {
        var output: [UInt8]
        var next: Next
    }

    /// A command whose reply is awaited.
    private enum Awaited: Equatable {
        case reset, mailFrom, data
        case recipient(Int)
        /// The end of the content; `discarded` when only "." was sent because no
        /// recipient was accepted (RFC 2920 §3.1).
        case dataEnd(discarded: Bool)
    }

    private let envelope: SMTPEnvelope
    private let capabilities: SMTPCapabilities
    private var decisions: [SMTPReply?]
    private var synthesized: [Bool]
    private var accepted: [Int] = []
    private var awaited: [Awaited] = []
    private var unsent: [(command: SMTPCommand, awaited: Awaited)] = []
    private var mailAccepted = false
    private var dataReply: SMTPReply?
    /// Whether the peer has answered MAIL FROM: before that, nothing about this
    /// envelope is decided and a failure means the whole attempt failed.
    private(set) var hasStarted = false

    init(envelope: SMTPEnvelope, capabilities: SMTPCapabilities) {
        self.envelope = envelope
        self.capabilities = capabilities
        self.decisions = Array(repeating: nil, count: envelope.recipients.count)
        self.synthesized = Array(repeating: false, count: envelope.recipients.count)
    }

    /// Decides what can be decided without the peer, then sends the envelope (after an
    /// RSET when the connection carried an earlier transaction).
    mutating func start(resettingFirst: Bool) -> Step {
        decideLocally()
        let pending = envelope.recipients.indices.filter { decisions[$0] == nil }
        guard !pending.isEmpty else { return finish() }
        var plan: [(command: SMTPCommand, awaited: Awaited)] = resettingFirst ? [(.reset, .reset)] : []
        plan.append((.mailFrom(envelope.sender, parameters: mailParameters), .mailFrom))
        plan += pending.map { (.recipient(envelope.recipients[$0]), .recipient($0)) }
        plan.append((.data, .data))
        guard capabilities.pipelining else {
            unsent = plan
            return sendNextUnsent()
        }
        // RFC 2920 §3.1: RSET, MAIL and RCPT may be grouped, and DATA may end a group.
        awaited = plan.map(\.awaited)
        return Step(output: plan.flatMap(\.command.bytes), next: nextRead)
    }

    /// Takes the reply to the oldest command still waiting for one.
    mutating func receive(_ reply: SMTPReply) throws(SMTPError) -> Step {
        guard !awaited.isEmpty else {
            throw .protocolViolation(.unexpectedReply(reply, after: "the end of the transaction"), .dataEnd)
        }
        let command = awaited.removeFirst()
        if reply.isIntermediate && command != .data {
            throw .protocolViolation(.unexpectedReply(reply, after: phase(of: command).rawValue), phase(of: command))
        }
        if reply.isClosingConnection {
            // RFC 5321 §3.8: the server is going away; nothing else will be answered.
            guard hasStarted else { throw .serviceClosing(reply) }
            decideUndecided(reply)
            return finish(interruption: .serviceClosing(reply))
        }
        switch command {
        case .reset:
            break
        case .mailFrom:
            hasStarted = true
            mailAccepted = reply.isPositive
            if !mailAccepted { decideUndecided(reply) }
        case .recipient(let index):
            if !mailAccepted { break }
            if reply.isPositive { accepted.append(index) } else { decisions[index] = reply }
        case .data:
            return try receiveData(reply)
        case .dataEnd(let discarded):
            if !discarded {
                dataReply = reply
                decideUndecided(reply)
            }
            return finish()
        }
        return continueAfterReply()
    }

    /// The connection failed after the transaction started: recipients not yet decided
    /// get the failure's synthesized reply.
    mutating func interrupted(by error: SMTPError) -> SMTPTransactionResult {
        decideUndecided(error.recordedReply, synthesized: true)
        return result(interruption: error)
    }

    private mutating func receiveData(_ reply: SMTPReply) throws(SMTPError) -> Step {
        guard reply.code == 354 else {
            guard !reply.isIntermediate && !reply.isPositive else {
                throw .protocolViolation(.unexpectedReply(reply, after: "DATA"), .data)
            }
            if !accepted.isEmpty { dataReply = reply }
            decideUndecided(reply)
            return finish()
        }
        // RFC 2920 §3.1: a DATA accepted with no valid recipient gets a single dot.
        let discarded = accepted.isEmpty || !mailAccepted
        awaited = [.dataEnd(discarded: discarded)]
        let output = discarded ? Array(".\r\n".utf8) : DataEncoding.encode(envelope.content)
        return Step(output: output, next: nextRead)
    }

    /// Without pipelining: the next command, unless MAIL failed or no RCPT succeeded.
    private mutating func continueAfterReply() -> Step {
        guard awaited.isEmpty else { return Step(output: [], next: nextRead) }
        let mailRefused = hasStarted && !mailAccepted
        guard !mailRefused, let next = unsent.first else { return finish() }
        if next.command == .data && accepted.isEmpty { return finish() }
        return sendNextUnsent()
    }

    private mutating func sendNextUnsent() -> Step {
        let next = unsent.removeFirst()
        awaited = [next.awaited]
        return Step(output: next.command.bytes, next: nextRead)
    }

    private var nextRead: Next {
        let command = awaited.first ?? .dataEnd(discarded: false)
        return .readReply(phase(of: command), isDataEnd: command == .dataEnd(discarded: false))
    }

    private func phase(of command: Awaited) -> SMTPPhase {
        switch command {
        case .reset: .reset
        case .mailFrom: .mailFrom
        case .recipient: .recipient
        case .data: .data
        case .dataEnd: .dataEnd
        }
    }

    /// Refusals the client makes itself, before the peer sees the envelope: the message
    /// is over the peer's SIZE (RFC 1870 §6.1), an address needs SMTPUTF8 the peer does
    /// not offer (RFC 6531 §3.4), or an address could inject commands.
    private mutating func decideLocally() {
        let sender = envelope.sender
        if !SMTPEnvelope.isSafeInCommand(sender) {
            return decideUndecided(Self.refusal(553, 1, 7, "sender address contains characters not allowed in SMTP"), synthesized: true)
        }
        if let limit = capabilities.maximumMessageSize, envelope.content.count > limit {
            return decideUndecided(Self.refusal(552, 3, 4, "message size exceeds fixed maximum message size (\(limit) bytes)"), synthesized: true)
        }
        let smtpUTF8Refusal = Self.refusal(553, 6, 7, "the server does not offer SMTPUTF8, which this address needs")
        if !capabilities.smtpUTF8 && (envelope.contentRequiresSMTPUTF8 || SMTPEnvelope.needsSMTPUTF8(sender)) {
            return decideUndecided(smtpUTF8Refusal, synthesized: true)
        }
        for (index, recipient) in envelope.recipients.enumerated() {
            if !SMTPEnvelope.isSafeInCommand(recipient) {
                decisions[index] = Self.refusal(553, 1, 3, "recipient address contains characters not allowed in SMTP")
            } else if !capabilities.smtpUTF8 && SMTPEnvelope.needsSMTPUTF8(recipient) {
                decisions[index] = smtpUTF8Refusal
            }
            synthesized[index] = decisions[index] != nil
        }
    }

    private static func refusal(_ code: Int, _ subject: Int, _ detail: Int, _ text: String) -> SMTPReply {
        SMTPReply(code: code, enhancedCode: EnhancedStatusCode(statusClass: code / 100, subject: subject, detail: detail), text: text)
    }

    private var mailParameters: [String] {
        var parameters: [String] = []
        if capabilities.size { parameters.append("SIZE=\(envelope.content.count)") }
        if envelope.requires8BitMIME && capabilities.eightBitMIME { parameters.append("BODY=8BITMIME") }
        if envelope.requiresSMTPUTF8 && capabilities.smtpUTF8 { parameters.append("SMTPUTF8") }
        return parameters
    }

    private mutating func decideUndecided(_ reply: SMTPReply, synthesized isSynthesized: Bool = false) {
        for index in decisions.indices where decisions[index] == nil {
            decisions[index] = reply
            synthesized[index] = isSynthesized
        }
    }

    private mutating func finish(interruption: SMTPError? = nil) -> Step {
        Step(output: [], next: .finished(result(interruption: interruption)))
    }

    private func result(interruption: SMTPError?) -> SMTPTransactionResult {
        let recipients = envelope.recipients.indices.map { index in
            SMTPRecipientResult(
                recipient: envelope.recipients[index],
                reply: decisions[index] ?? SMTPError.connectionUnusable.recordedReply,
                isSynthesized: synthesized[index]
            )
        }
        return SMTPTransactionResult(recipients: recipients, dataReply: dataReply, interruption: interruption)
    }
}
