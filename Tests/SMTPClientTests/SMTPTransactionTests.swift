import Testing
@testable import SMTPClient

@Suite("Mail transaction without I/O")
struct SMTPTransactionTests {
    private let pipelining = ScriptedSession.capabilities("PIPELINING", "SIZE 100000", "8BITMIME", "SMTPUTF8")
    private let lockstep = ScriptedSession.capabilities("SIZE", "8BITMIME")
    private let content = Array("Subject: hi\r\n\r\n.dot line\r\nbye".utf8)

    private func envelope(_ recipients: [String], sender: String = "from@a.test", content: [UInt8]? = nil) -> SMTPEnvelope {
        SMTPEnvelope(sender: sender, recipients: recipients, content: content ?? self.content)
    }

    @Test func pipelinedEnvelopeGoesInOneWriteAndBodyInTheNext() {
        let run = ScriptedSession.transaction(
            envelope(["b@x.test", "c@x.test"]), capabilities: pipelining,
            replies: ["250 ok", "250 ok", "250 ok", "354 go", "250 2.0.0 queued as 42"]
        )
        #expect(run.writes == [
            "MAIL FROM:<from@a.test> SIZE=29\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n",
            "Subject: hi\r\n\r\n..dot line\r\nbye\r\n.\r\n",
        ])
        #expect(run.codes == [250, 250])
        #expect(run.result?.dataReply?.message == "queued as 42")
        #expect(run.result?.interruption == nil)
    }

    @Test func withoutPipeliningEachCommandWaitsForItsReply() {
        let run = ScriptedSession.transaction(
            envelope(["b@x.test", "c@x.test"]), capabilities: lockstep, resetting: true,
            replies: ["250 reset", "250 ok", "250 ok", "250 ok", "354 go", "250 queued"]
        )
        #expect(run.writes == [
            "RSET\r\n", "MAIL FROM:<from@a.test> SIZE=29\r\n", "RCPT TO:<b@x.test>\r\n", "RCPT TO:<c@x.test>\r\n", "DATA\r\n",
            "Subject: hi\r\n\r\n..dot line\r\nbye\r\n.\r\n",
        ])
        #expect(run.codes == [250, 250])
    }

    @Test func pipelinedResetJoinsTheGroup() {
        let run = ScriptedSession.transaction(
            envelope(["b@x.test"]), capabilities: pipelining, resetting: true,
            replies: ["250 reset", "250 ok", "250 ok", "354 go", "250 queued"]
        )
        #expect(run.writes.first?.hasPrefix("RSET\r\nMAIL FROM:<from@a.test>") == true)
        #expect(run.codes == [250])
    }

    @Test(arguments: [true, false])
    func mixedRecipientRepliesEachDecideTheirRecipient(pipelined: Bool) {
        let run = ScriptedSession.transaction(
            envelope(["ok@x.test", "later@x.test", "never@x.test"]), capabilities: pipelined ? pipelining : lockstep,
            replies: ["250 ok", "250 ok", "451 4.2.0 greylisted", "550 5.1.1 unknown", "354 go", "250 2.0.0 queued"]
        )
        #expect(run.codes == [250, 451, 550])
        #expect(run.result?.recipients[1].reply.enhancedCode?.description == "4.2.0")
        #expect(run.result?.recipients.map(\.isSynthesized) == [false, false, false])
    }

    @Test func dataEndRefusalDecidesOnlyAcceptedRecipients() {
        let run = ScriptedSession.transaction(
            envelope(["ok@x.test", "no@x.test"]), capabilities: pipelining,
            replies: ["250 ok", "250 ok", "550 5.1.1 unknown", "354 go", "552 5.3.4 message too big"]
        )
        #expect(run.codes == [552, 550])
        #expect(run.result?.dataReply?.code == 552)
    }

    @Test func refusedDATACommandDecidesAcceptedRecipients() {
        let run = ScriptedSession.transaction(
            envelope(["ok@x.test"]), capabilities: lockstep,
            replies: ["250 ok", "250 ok", "451 4.3.0 try later"]
        )
        #expect(run.writes.last == "DATA\r\n")
        #expect(run.codes == [451])
        #expect(run.result?.dataReply?.code == 451)
    }

    @Test func allRecipientsRefusedWithoutPipeliningSendsNoDATA() {
        let run = ScriptedSession.transaction(
            envelope(["a@x.test", "b@x.test"]), capabilities: lockstep,
            replies: ["250 ok", "550 no", "450 later"]
        )
        #expect(!run.writes.contains("DATA\r\n"))
        #expect(run.codes == [550, 450])
        #expect(run.result?.dataReply == nil)
    }

    @Test func allRecipientsRefusedWithPipeliningAndDATARefused() {
        let run = ScriptedSession.transaction(
            envelope(["a@x.test"]), capabilities: pipelining,
            replies: ["250 ok", "550 5.1.1 no", "554 5.5.1 no valid recipients"]
        )
        #expect(run.writes.count == 1)
        #expect(run.codes == [550])
        #expect(run.result?.dataReply == nil)
    }

    /// RFC 2920 §3.1: if DATA is accepted anyway, the client sends a single dot.
    @Test func allRecipientsRefusedWithPipeliningButDATAAcceptedSendsOnlyADot() {
        let run = ScriptedSession.transaction(
            envelope(["a@x.test"]), capabilities: pipelining,
            replies: ["250 ok", "550 5.1.1 no", "354 go", "554 5.5.1 no valid recipients"]
        )
        #expect(run.writes.last == ".\r\n")
        #expect(run.codes == [550])
        #expect(run.result?.dataReply == nil)
    }

    @Test(arguments: [true, false])
    func refusedMAILDecidesEveryRecipient(pipelined: Bool) {
        let replies = pipelined
            ? ["553 5.1.8 bad sender", "503 need MAIL", "503 need MAIL", "503 need MAIL"]
            : ["553 5.1.8 bad sender"]
        let run = ScriptedSession.transaction(
            envelope(["a@x.test", "b@x.test"]), capabilities: pipelined ? pipelining : lockstep, replies: replies
        )
        #expect(run.codes == [553, 553])
        #expect(run.writes.count == 1)
    }

    @Test func closingReplyBeforeMAILAnswerThrows() {
        let run = ScriptedSession.transaction(
            envelope(["a@x.test"]), capabilities: lockstep, resetting: true, replies: ["421 4.4.2 idle timeout"]
        )
        #expect(run.error == .serviceClosing(ScriptedSession.reply("421 4.4.2 idle timeout")))
    }

    @Test func closingReplyMidTransactionDecidesTheRestAndInterrupts() {
        let run = ScriptedSession.transaction(
            envelope(["a@x.test", "b@x.test", "c@x.test"]), capabilities: lockstep,
            replies: ["250 ok", "550 no", "421 4.3.2 shutting down"]
        )
        #expect(run.codes == [550, 421, 421])
        #expect(run.result?.interruption == .serviceClosing(ScriptedSession.reply("421 4.3.2 shutting down")))
    }

    @Test func messageOverTheAnnouncedSizeIsRefusedWithoutSending() {
        let small = ScriptedSession.capabilities("SIZE 10", "PIPELINING")
        let run = ScriptedSession.transaction(envelope(["a@x.test", "b@x.test"]), capabilities: small, replies: [])
        #expect(run.writes.isEmpty)
        #expect(run.codes == [552, 552])
        #expect(run.result?.recipients.first?.reply.enhancedCode?.description == "5.3.4")
        #expect(run.result?.recipients.allSatisfy(\.isSynthesized) == true)
    }

    @Test func utf8RecipientWithoutSMTPUTF8IsLeftOut() {
        let run = ScriptedSession.transaction(
            envelope(["jörg@x.test", "plain@x.test"]), capabilities: lockstep,
            replies: ["250 ok", "250 ok", "354 go", "250 queued"]
        )
        #expect(run.writes.contains("RCPT TO:<plain@x.test>\r\n"))
        #expect(!run.writes.contains { $0.contains("jörg") })
        #expect(run.codes == [553, 250])
        #expect(run.result?.recipients[0].reply.enhancedCode?.description == "5.6.7")
        #expect(run.result?.recipients.map(\.isSynthesized) == [true, false])
    }

    @Test func utf8SenderWithoutSMTPUTF8RefusesEveryone() {
        let run = ScriptedSession.transaction(envelope(["a@x.test"], sender: "jörg@a.test"), capabilities: lockstep, replies: [])
        #expect(run.writes.isEmpty)
        #expect(run.codes == [553])
    }

    @Test func mailParametersFollowNeedsAndOffers() {
        let utf8 = ScriptedSession.transaction(
            envelope(["jörg@x.test"], content: Array("ä\r\n".utf8)), capabilities: pipelining,
            replies: ["250 ok", "250 ok", "354 go", "250 queued"]
        )
        #expect(utf8.writes.first?.hasPrefix("MAIL FROM:<from@a.test> SIZE=4 BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<jörg@x.test>") == true)
        let noOffers = ScriptedSession.transaction(
            envelope(["a@x.test"], content: Array("ä\r\n".utf8)), capabilities: SMTPCapabilities(),
            replies: ["250 ok", "250 ok", "354 go", "250 queued"]
        )
        #expect(noOffers.writes.first == "MAIL FROM:<from@a.test>\r\n")
    }

    @Test func addressesThatCouldInjectCommandsAreNeverSent() {
        let run = ScriptedSession.transaction(
            envelope(["a@x.test\r\nRSET", "b@x.test"]), capabilities: lockstep,
            replies: ["250 ok", "250 ok", "354 go", "250 queued"]
        )
        #expect(!run.writes.joined().contains("RSET"))
        #expect(run.codes == [553, 250])
        let badSender = ScriptedSession.transaction(envelope(["a@x.test"], sender: "x>\r\nDATA"), capabilities: lockstep, replies: [])
        #expect(badSender.writes.isEmpty)
        #expect(badSender.codes == [553])
    }

    @Test func nullSender() {
        let run = ScriptedSession.transaction(
            envelope(["a@x.test"], sender: ""), capabilities: SMTPCapabilities(),
            replies: ["250 ok", "250 ok", "354 go", "250 queued"]
        )
        #expect(run.writes.first == "MAIL FROM:<>\r\n")
    }

    @Test func intermediateReplyOutOfPlaceIsAProtocolError() {
        let run = ScriptedSession.transaction(envelope(["a@x.test"]), capabilities: lockstep, replies: ["354 what"])
        #expect(run.error == .protocolViolation(.unexpectedReply(ScriptedSession.reply("354 what"), after: "MAIL FROM"), .mailFrom))
    }

    @Test func positiveReplyToDATAIsAProtocolError() {
        let run = ScriptedSession.transaction(envelope(["a@x.test"]), capabilities: lockstep, replies: ["250 ok", "250 ok", "250 odd"])
        #expect(run.error != nil)
    }

    @Test func interruptionAfterRecipientRepliesKeepsTheirDecisions() {
        var machine = SMTPTransaction(envelope: envelope(["ok@x.test", "no@x.test"]), capabilities: pipelining)
        _ = machine.start(resettingFirst: false)
        for reply in ["250 ok", "250 ok", "550 5.1.1 unknown", "354 go"] {
            _ = try? machine.receive(ScriptedSession.reply(reply))
        }
        #expect(machine.hasStarted)
        let result = machine.interrupted(by: .connectionClosed(.dataEnd))
        #expect(result.recipients.map(\.reply.code) == [421, 550])
        #expect(result.recipients.map(\.isSynthesized) == [true, false])
        #expect(result.interruption == .connectionClosed(.dataEnd))
    }
}
