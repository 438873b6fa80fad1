import Glibc
import MailgateTesting
import Testing
@testable import SMTPClient

@Suite("SMTP connection against aiosmtpd on loopback")
struct SMTPConnectionTests {
    @Test(arguments: [true, false])
    func mixedRecipientRepliesInOneTransaction(pipelining: Bool) throws {
        let peer = try SMTPTestPeer(script: """
            {"pipelining": \(pipelining), "rcpt": {"later@x.test": "451 4.2.0 greylisted", "never@x.test": "550 5.1.1 unknown"}}
            """)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(PeerFixture.envelope(["ok@x.test", "later@x.test", "never@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [250, 451, 550])
        #expect(result.recipients[1].reply.enhancedCode?.description == "4.2.0")
        #expect(result.dataReply?.code == 250)
        #expect(connection.isUsable)
        connection.quit()
        #expect(peer.messages().map(\.recipients) == [["ok@x.test"]])
        let envelopeCommands = peer.commands().filter { ["MAIL", "RCPT"].contains($0.verb) }
        #expect(envelopeCommands.count == 4)
        if pipelining {
            // MAIL, the RCPTs and DATA arrived in one write.
            #expect(envelopeCommands.allSatisfy { $0.unreadBytes > 0 })
        } else {
            // Each command waited for the previous reply.
            #expect(peer.commands().allSatisfy { $0.unreadBytes == 0 })
        }
    }

    @Test func contentArrivesByteExact() throws {
        let peer = try SMTPTestPeer(script: #"{"pipelining": true}"#)
        var content = Array("Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nmiddle . dot\r\n".utf8)
        content += (0..<20_000).flatMap { Array("line \($0) with some text to make the body large\r\n".utf8) }
        content += Array("ünïcödé 8-bit\r\n.".utf8)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(SMTPEnvelope(sender: "s@a.test", recipients: ["r@x.test"], content: content))
        #expect(result.recipients.map(\.reply.code) == [250])
        connection.quit()
        let received = try #require(peer.messages().first)
        // Content that does not end with CRLF gets one before the final dot.
        #expect(received.content == content + Array("\r\n".utf8))
        #expect(received.mailOptions.contains("BODY=8BITMIME"))
        #expect(received.mailOptions.contains("SIZE=\(content.count)"))
    }

    @Test(arguments: [true, false])
    func severalMessagesOnOneConnectionWithRSETBetween(pipelining: Bool) throws {
        let peer = try SMTPTestPeer(script: #"{"pipelining": \#(pipelining), "rcpt": {"gone@x.test": "550 5.1.1 gone"}}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let first = try connection.send(PeerFixture.envelope(["a@x.test"], content: "Subject: 1\r\n\r\none\r\n"))
        let refused = try connection.send(PeerFixture.envelope(["gone@x.test"], content: "Subject: 2\r\n\r\ntwo\r\n"))
        let third = try connection.send(PeerFixture.envelope(["b@x.test", "c@x.test"], content: "Subject: 3\r\n\r\nthree\r\n"))
        #expect(first.recipients.map(\.reply.code) == [250])
        #expect(refused.recipients.map(\.reply.code) == [550])
        #expect(third.recipients.map(\.reply.code) == [250, 250])
        #expect(connection.transactionCount == 3)
        connection.quit()
        #expect(peer.connectionCount() == 1)
        #expect(peer.messages().map(\.content) == [Array("Subject: 1\r\n\r\none\r\n".utf8), Array("Subject: 3\r\n\r\nthree\r\n".utf8)])
        #expect(peer.messages().map(\.recipients) == [["a@x.test"], ["b@x.test", "c@x.test"]])
        let verbs = peer.commands().map(\.verb).filter { $0 != "RCPT" }
        #expect(verbs == ["EHLO", "MAIL", "DATA", "RSET", "MAIL", "RSET", "MAIL", "DATA", "QUIT"]
            || verbs == ["EHLO", "MAIL", "DATA", "RSET", "MAIL", "DATA", "RSET", "MAIL", "DATA", "QUIT"])
    }

    @Test func greeting421IsRefusalCarryingTheReply() throws {
        let peer = try SMTPTestPeer(script: #"{"greeting": "421 4.3.2 Service not available, try later"}"#)
        let error = PeerFixture.connect(try PeerFixture.client(), PeerFixture.endpoint(peer)).failure
        guard case .greetingRefused(let reply) = error else {
            Issue.record("expected greetingRefused, got \(String(describing: error))")
            return
        }
        #expect(reply.code == 421 && reply.enhancedCode?.description == "4.3.2")
        #expect(error?.recordedReply == reply)
    }

    @Test func greeting554IsPermanentRefusal() throws {
        let peer = try SMTPTestPeer(script: #"{"greeting": "554 5.7.1 you are not welcome"}"#)
        let error = PeerFixture.connect(try PeerFixture.client(), PeerFixture.endpoint(peer)).failure
        #expect(error?.peerReply?.isPermanent == true)
    }

    @Test func refusalAtTheEndOfDATA() throws {
        let peer = try SMTPTestPeer(script: #"{"pipelining": true, "data_end": "552 5.3.4 Message too big for system"}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(PeerFixture.envelope(["a@x.test", "b@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [552, 552])
        #expect(result.dataReply?.enhancedCode?.description == "5.3.4")
        #expect(connection.isUsable)
    }

    @Test func refusalOfTheDATACommand() throws {
        let peer = try SMTPTestPeer(script: #"{"data": "451 4.3.0 try again later"}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(PeerFixture.envelope(["a@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [451])
        #expect(peer.messages().isEmpty)
    }

    @Test func refusedSenderDecidesEveryRecipient() throws {
        let peer = try SMTPTestPeer(script: #"{"pipelining": true, "mail": "451 4.7.1 sender greylisted"}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(PeerFixture.envelope(["a@x.test", "b@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [451, 451])
        #expect(connection.isUsable)
        #expect(peer.messages().isEmpty)
    }

    @Test func connectionDroppedAfter354DefersAcceptedRecipients() throws {
        let peer = try SMTPTestPeer(script: #"{"drop": "after_354", "rcpt": {"no@x.test": "550 5.1.1 unknown"}}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let body = String(repeating: "filler line to keep the client writing\r\n", count: 50_000)
        let result = try connection.send(PeerFixture.envelope(["ok@x.test", "no@x.test"], content: body))
        let interruption = try #require(result.interruption)
        #expect(interruption == .connectionClosed(.dataContent) || interruption == .connectionClosed(.dataEnd))
        #expect(result.recipients.map(\.reply.code) == [421, 550])
        #expect(result.recipients.map(\.isSynthesized) == [true, false])
        #expect(result.recipients[0].reply.isTransient)
        #expect(!connection.isUsable)
        #expect(throws: SMTPError.connectionUnusable) { try connection.send(PeerFixture.envelope(["a@x.test"])) }
    }

    @Test func connectionDroppedBeforeTheDATAReplyMayHaveDelivered() throws {
        let peer = try SMTPTestPeer(script: #"{"drop": "before_data_reply"}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(PeerFixture.envelope(["a@x.test"]))
        #expect(result.interruption == .connectionClosed(.dataEnd))
        #expect(result.recipients.first?.reply.isTransient == true)
        // The peer had the message: this is why delivery is at least once.
        #expect(peer.messages().count == 1)
    }

    @Test func slowEndOfDATAReplyTimesOut() throws {
        let peer = try SMTPTestPeer(script: #"{"delays": {"DATA_END": 30}}"#)
        let client = try PeerFixture.client(timeout: .milliseconds(400), dataTimeoutMultiplier: 1)
        let connection = try client.connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(PeerFixture.envelope(["a@x.test"]))
        #expect(result.interruption == .timedOut(.dataEnd))
        #expect(result.recipients.first?.reply.description == "421 4.4.2 timed out during end of DATA")
        #expect(!connection.isUsable)
    }

    @Test func slowGreetingTimesOut() throws {
        let peer = try SMTPTestPeer(script: #"{"greeting_delay": 30}"#)
        let error = PeerFixture.connect(try PeerFixture.client(timeout: .milliseconds(400)), PeerFixture.endpoint(peer)).failure
        #expect(error == .timedOut(.greeting))
    }

    @Test func slowRecipientReplyTimesOutBeforeAnythingIsDecided() throws {
        let peer = try SMTPTestPeer(script: #"{"delays": {"MAIL": 30}}"#)
        let connection = try PeerFixture.client(timeout: .milliseconds(400)).connect(to: PeerFixture.endpoint(peer))
        #expect(throws: SMTPError.timedOut(.mailFrom)) { try connection.send(PeerFixture.envelope(["a@x.test"])) }
        #expect(!connection.isUsable)
    }

    @Test func closingReplyToARecipientEndsTheConnection() throws {
        let peer = try SMTPTestPeer(script: #"{"rcpt": {"b@x.test": "421 4.3.2 shutting down"}}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(PeerFixture.envelope(["a@x.test", "b@x.test", "c@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [421, 421, 421])
        #expect(result.recipients.map(\.isSynthesized) == [false, false, false])
        #expect(result.interruption?.peerReply?.code == 421)
        #expect(!connection.isUsable)
        #expect(peer.messages().isEmpty)
    }

    @Test func garbageInsteadOfAReplyIsAProtocolError() throws {
        let peer = try SMTPTestPeer(script: #"{"greeting": "HTTP/1.1 400 Bad Request"}"#)
        let error = PeerFixture.connect(try PeerFixture.client(), PeerFixture.endpoint(peer)).failure
        guard case .protocolViolation(.malformedLine, .greeting) = error else {
            Issue.record("expected a protocol violation, got \(String(describing: error))")
            return
        }
        #expect(error?.recordedReply.enhancedCode?.description == "4.5.0")
    }

    @Test func refusedEHLOFallsBackToHELO() throws {
        let peer = try SMTPTestPeer(script: #"{"ehlo": "502 5.5.2 Error: command not recognized"}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        #expect(connection.capabilities == SMTPCapabilities())
        let result = try connection.send(PeerFixture.envelope(["a@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [250])
        #expect(peer.commands().prefix(2).map(\.verb) == ["EHLO", "HELO"])
        #expect(peer.messages().first?.mailOptions == [])
    }

    @Test func messageLargerThanTheAnnouncedSizeIsNeverSent() throws {
        let peer = try SMTPTestPeer(script: #"{"size": 100}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        #expect(connection.capabilities.maximumMessageSize == 100)
        let result = try connection.send(PeerFixture.envelope(["a@x.test", "b@x.test"], content: String(repeating: "x", count: 200)))
        #expect(result.recipients.map(\.reply.code) == [552, 552])
        #expect(result.recipients.allSatisfy { $0.reply.isPermanent && $0.isSynthesized })
        #expect(!peer.commands().contains { $0.verb == "MAIL" })
        // Nothing was sent, so the connection goes on without an RSET.
        _ = try connection.send(PeerFixture.envelope(["a@x.test"]))
        #expect(peer.commands().map(\.verb) == ["EHLO", "MAIL", "RCPT", "DATA"])
    }

    @Test func utf8RecipientBouncesWhenSMTPUTF8IsNotOffered() throws {
        let peer = try SMTPTestPeer(script: #"{"smtputf8": false}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(PeerFixture.envelope(["jörg@x.test", "plain@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [553, 250])
        #expect(result.recipients[0].reply.enhancedCode?.description == "5.6.7")
        #expect(peer.messages().map(\.recipients) == [["plain@x.test"]])
    }

    @Test func utf8RecipientIsSentWithSMTPUTF8WhenOffered() throws {
        let peer = try SMTPTestPeer(script: #"{"smtputf8": true}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(PeerFixture.envelope(["jörg@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [250])
        let message = try #require(peer.messages().first)
        #expect(message.recipients == ["jörg@x.test"])
        #expect(message.mailOptions.contains("SMTPUTF8"))
    }

    @Test func explicitResetAndQuit() throws {
        let peer = try SMTPTestPeer()
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        try connection.reset()
        connection.quit()
        #expect(!connection.isUsable)
        #expect(peer.commands().map(\.verb) == ["EHLO", "RSET", "QUIT"])
    }

    @Test func deliversOverIPv6() throws {
        let peer = try SMTPTestPeer(host: "::1")
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        #expect(try connection.send(PeerFixture.envelope(["a@x.test"])).recipients.map(\.reply.code) == [250])
    }

    @Test func refusedConnectionCarriesErrno() throws {
        let refusing = RefusingPort()
        let port = refusing.port
        let endpoint = SMTPEndpoint(hostName: "127.0.0.1", address: "127.0.0.1", port: port, tls: .disabled)
        let error = PeerFixture.connect(try PeerFixture.client(), endpoint).failure
        #expect(error == .connectFailed(errno: ECONNREFUSED, reason: "Connection refused"))
        #expect(error?.recordedReply.enhancedCode?.description == "4.4.1")
    }

    @Test func addressThatIsNotAnIPLiteralIsRefusedWithoutConnecting() throws {
        let endpoint = SMTPEndpoint(hostName: "mx.test", address: "mx.test", port: 25, tls: .disabled)
        guard case .connectFailed(let code, _) = PeerFixture.connect(try PeerFixture.client(), endpoint).failure else {
            Issue.record("expected connectFailed")
            return
        }
        #expect(code == EINVAL)
    }
}
