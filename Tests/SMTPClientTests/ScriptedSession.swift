import Testing
@testable import SMTPClient

/// Drives the I/O-free state machines with scripted replies, recording what they write.
enum ScriptedSession {
    static func reply(_ text: String) -> SMTPReply {
        var parser = SMTPReplyParser()
        parser.append(Array((text.hasSuffix("\n") ? text : text + "\r\n").utf8))
        guard let reply = try? parser.nextReply() else { fatalError("bad scripted reply \(text)") }
        return reply
    }

    struct HandshakeRun {
        /// Command lines without CRLF; "<TLS>" where the handshake ran.
        var written: [String] = []
        var outcome: Result<SMTPCapabilities, SMTPError> = .failure(.connectionUnusable)
        var isTLSActive = false
    }

    static func handshake(_ endpoint: SMTPEndpoint, replies: [String]) -> HandshakeRun {
        var machine = SMTPHandshake(heloName: "client.test", endpoint: endpoint)
        var run = HandshakeRun()
        var queue = replies[...]
        var step = machine.initialStep
        do {
            while true {
                if let command = step.command {
                    run.written.append(String(decoding: command.bytes.dropLast(2), as: UTF8.self))
                }
                switch step.next {
                case .readReply:
                    guard let next = queue.popFirst() else {
                        Issue.record("script ran out of replies after \(run.written)")
                        return run
                    }
                    step = try machine.receive(reply(next))
                case .startTLS:
                    run.written.append("<TLS>")
                    step = machine.tlsEstablished()
                case .ready:
                    run.outcome = .success(machine.capabilities)
                    run.isTLSActive = machine.isTLSActive
                    #expect(queue.isEmpty, "unused replies \(queue)")
                    return run
                }
            }
        } catch {
            run.outcome = .failure(error)
            return run
        }
    }

    struct TransactionRun {
        /// Each write, as text, in order: a pipelined group is one element.
        var writes: [String] = []
        var result: SMTPTransactionResult?
        var error: SMTPError?
        var codes: [Int] { result?.recipients.map(\.reply.code) ?? [] }
    }

    static func transaction(
        _ envelope: SMTPEnvelope,
        capabilities: SMTPCapabilities,
        resetting: Bool = false,
        replies: [String]
    ) -> TransactionRun {
        var machine = SMTPTransaction(envelope: envelope, capabilities: capabilities)
        var run = TransactionRun()
        var queue = replies[...]
        var step = machine.start(resettingFirst: resetting)
        do {
            while true {
                if !step.output.isEmpty { run.writes.append(String(decoding: step.output, as: UTF8.self)) }
                switch step.next {
                case .finished(let result):
                    run.result = result
                    #expect(queue.isEmpty, "unused replies \(queue)")
                    return run
                case .readReply:
                    guard let next = queue.popFirst() else {
                        Issue.record("script ran out of replies after \(run.writes)")
                        return run
                    }
                    step = try machine.receive(reply(next))
                }
            }
        } catch {
            run.error = error
            return run
        }
    }

    static func capabilities(_ lines: String...) -> SMTPCapabilities {
        SMTPCapabilities(ehloReply: SMTPReply(code: 250, text: ["peer.test"] + lines))
    }
}
