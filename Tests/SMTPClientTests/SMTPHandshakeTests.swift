import Testing
@testable import SMTPClient

@Suite("Session set-up without I/O")
struct SMTPHandshakeTests {
    private let ehloWithTLS = "250-peer.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME"
    private let ehloAfterTLS = "250-peer.test\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 1000"
    private let credentials = SMTPCredentials(username: "user", password: "secret")

    private func endpoint(_ tls: TLSPolicy, credentials: SMTPCredentials? = nil, clearText: Bool = false) -> SMTPEndpoint {
        SMTPEndpoint(hostName: "peer.test", address: "127.0.0.1", port: 25, tls: tls, credentials: credentials, allowsClearTextAuthentication: clearText)
    }

    @Test func plainSessionIsGreetingThenEHLO() throws {
        let run = ScriptedSession.handshake(endpoint(.disabled), replies: ["220 peer.test ESMTP", ehloWithTLS])
        #expect(run.written == ["EHLO client.test"])
        let capabilities = try run.outcome.get()
        #expect(capabilities.pipelining && capabilities.startTLS)
        #expect(!run.isTLSActive)
    }

    @Test(arguments: ["421 4.3.2 too busy", "554 5.7.1 no service", "450 later", "250 odd"])
    func greetingOtherThan220IsAnErrorCarryingTheReply(_ greeting: String) {
        let run = ScriptedSession.handshake(endpoint(.opportunistic), replies: [greeting])
        #expect(run.written.isEmpty)
        #expect(run.outcome == .failure(.greetingRefused(ScriptedSession.reply(greeting))))
    }

    @Test func refusedEHLOFallsBackToHELOWithNoExtensions() throws {
        let run = ScriptedSession.handshake(endpoint(.opportunistic), replies: ["220 hi", "502 5.5.2 what?", "250 peer.test"])
        #expect(run.written == ["EHLO client.test", "HELO client.test"])
        #expect(try run.outcome.get() == SMTPCapabilities())
    }

    @Test func transientEHLOFailureDoesNotFallBack() {
        let run = ScriptedSession.handshake(endpoint(.disabled), replies: ["220 hi", "421 4.3.2 closing"])
        #expect(run.outcome == .failure(.helloRefused(ScriptedSession.reply("421 4.3.2 closing"))))
    }

    @Test func refusedHELOIsAnError() {
        let run = ScriptedSession.handshake(endpoint(.disabled), replies: ["220 hi", "500 no", "550 not you"])
        #expect(run.outcome == .failure(.helloRefused(ScriptedSession.reply("550 not you"))))
    }

    @Test func startTLSWhenOfferedThenEHLOAgainAndAuthOverTLS() throws {
        let run = ScriptedSession.handshake(
            endpoint(.opportunistic, credentials: credentials),
            replies: ["220 hi", ehloWithTLS, "220 go ahead", ehloAfterTLS, "235 2.7.0 ok"]
        )
        #expect(run.written == ["EHLO client.test", "STARTTLS", "<TLS>", "EHLO client.test", "AUTH PLAIN AHVzZXIAc2VjcmV0"])
        #expect(run.isTLSActive)
        // What the server said before TLS is forgotten (RFC 3207 §4.2).
        let capabilities = try run.outcome.get()
        #expect(!capabilities.startTLS && !capabilities.eightBitMIME && capabilities.maximumMessageSize == 1000)
    }

    @Test func authLoginSendsUserAndPasswordOnChallenges() throws {
        let run = ScriptedSession.handshake(
            endpoint(.disabled, credentials: credentials, clearText: true),
            replies: ["220 hi", "250-peer.test\r\n250 AUTH=LOGIN", "334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 ok"]
        )
        #expect(run.written == ["EHLO client.test", "AUTH LOGIN", "dXNlcg==", "c2VjcmV0"])
        #expect(throws: Never.self) { try run.outcome.get() }
    }

    @Test(arguments: ["535 5.7.8 bad credentials", "454 4.7.0 try later"])
    func refusedAuthIsAnErrorCarryingTheReply(_ refusal: String) {
        let run = ScriptedSession.handshake(
            endpoint(.disabled, credentials: credentials, clearText: true),
            replies: ["220 hi", "250-peer.test\r\n250 AUTH PLAIN", refusal]
        )
        #expect(run.outcome == .failure(.authenticationRefused(ScriptedSession.reply(refusal))))
    }

    @Test func authIsNeverSentInClearTextUnlessAllowed() {
        let run = ScriptedSession.handshake(
            endpoint(.opportunistic, credentials: credentials),
            replies: ["220 hi", "250-peer.test\r\n250 AUTH PLAIN LOGIN"]
        )
        #expect(run.written == ["EHLO client.test"])
        #expect(run.outcome == .failure(.authenticationRequiresTLS))
    }

    @Test func noMechanismWeSpeak() {
        let run = ScriptedSession.handshake(
            endpoint(.disabled, credentials: credentials, clearText: true),
            replies: ["220 hi", "250-peer.test\r\n250 AUTH CRAM-MD5 XOAUTH2"]
        )
        #expect(run.outcome == .failure(.authenticationMechanismUnavailable(offered: ["CRAM-MD5", "XOAUTH2"])))
    }

    @Test func serverWithoutAuthGetsMailWithoutIt() throws {
        let run = ScriptedSession.handshake(endpoint(.disabled, credentials: credentials), replies: ["220 hi", "250 peer.test"])
        #expect(run.written == ["EHLO client.test"])
        #expect(throws: Never.self) { try run.outcome.get() }
    }

    @Test func requiredTLSNotOfferedStopsBeforeAnythingElse() {
        let required = TLSPolicy.relay(implicitTLS: false, startTLSRequired: true, verifiesCertificate: true)
        let run = ScriptedSession.handshake(endpoint(required, credentials: credentials, clearText: true), replies: ["220 hi", "250-peer.test\r\n250 AUTH PLAIN"])
        #expect(run.written == ["EHLO client.test"])
        #expect(run.outcome == .failure(.startTLSNotOffered))
    }

    @Test func requiredTLSAfterHELOFallbackFails() {
        let required = TLSPolicy.relay(implicitTLS: false, startTLSRequired: true, verifiesCertificate: true)
        let run = ScriptedSession.handshake(endpoint(required), replies: ["220 hi", "500 no", "250 ok"])
        #expect(run.outcome == .failure(.startTLSNotOffered))
    }

    @Test func refusedStartTLSContinuesInClearTextOnlyWhenOpportunistic() throws {
        let opportunistic = ScriptedSession.handshake(endpoint(.opportunistic), replies: ["220 hi", ehloWithTLS, "454 4.7.0 TLS not available"])
        #expect(opportunistic.written == ["EHLO client.test", "STARTTLS"])
        #expect(!opportunistic.isTLSActive)
        #expect(throws: Never.self) { try opportunistic.outcome.get() }

        let required = TLSPolicy.relay(implicitTLS: false, startTLSRequired: true, verifiesCertificate: false)
        let strict = ScriptedSession.handshake(endpoint(required), replies: ["220 hi", ehloWithTLS, "454 4.7.0 TLS not available"])
        #expect(strict.outcome == .failure(.startTLSRefused(ScriptedSession.reply("454 4.7.0 TLS not available"))))
    }

    @Test func disabledPolicyIgnoresOfferedSTARTTLS() {
        let run = ScriptedSession.handshake(endpoint(.disabled), replies: ["220 hi", ehloWithTLS])
        #expect(run.written == ["EHLO client.test"])
    }

    @Test func implicitTLSIsActiveFromTheStartAndSendsNoSTARTTLS() throws {
        let implicit = TLSPolicy.relay(implicitTLS: true, startTLSRequired: false, verifiesCertificate: true)
        let run = ScriptedSession.handshake(endpoint(implicit, credentials: credentials), replies: ["220 hi", ehloAfterTLS, "235 ok"])
        #expect(run.written == ["EHLO client.test", "AUTH PLAIN AHVzZXIAc2VjcmV0"])
        #expect(run.isTLSActive)
    }

    @Test func errorsRecordTheRightReply() {
        #expect(SMTPError.timedOut(.greeting).recordedReply.description == "421 4.4.2 timed out during greeting")
        #expect(SMTPError.connectionClosed(.dataEnd).recordedReply.isTransient)
        #expect(SMTPError.startTLSNotOffered.recordedReply.enhancedCode?.description == "4.7.4")
        #expect(SMTPError.authenticationRefused(ScriptedSession.reply("535 5.7.8 no")).recordedReply.code == 535)
        #expect(SMTPError.tlsHandshakeFailed(reason: "x").isTLSFailure)
        #expect(!SMTPError.timedOut(.connect).isTLSFailure)
    }
}
