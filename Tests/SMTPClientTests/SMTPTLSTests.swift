import MailgateTesting
import Testing
@testable import SMTPClient

@Suite("TLS and AUTH against aiosmtpd on loopback")
struct SMTPTLSTests {
    private let credentials = SMTPCredentials(username: "relayuser", password: "s3cret")
    private let verifiedRelay = TLSPolicy.relay(implicitTLS: false, startTLSRequired: false, verifiesCertificate: true)
    private let unverifiedRelay = TLSPolicy.relay(implicitTLS: false, startTLSRequired: false, verifiesCertificate: false)

    private func tlsPeer(_ certificate: SelfSignedCertificate, _ extra: String = "") throws -> SMTPTestPeer {
        try SMTPTestPeer(script: """
            {"cert": "\(certificate.certificatePath)", "key": "\(certificate.privateKeyPath)"\(extra)}
            """)
    }

    @Test func selfSignedCertificateFailsVerificationByDefault() throws {
        let certificate = try SelfSignedCertificate()
        let peer = try tlsPeer(certificate)
        let error = PeerFixture.connect(try PeerFixture.client(), PeerFixture.endpoint(peer, tls: verifiedRelay)).failure
        guard case .certificateVerificationFailed(let reason) = error else {
            Issue.record("expected certificateVerificationFailed, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("self-signed") || reason.contains("self signed"))
        #expect(error?.isTLSFailure == true)
        #expect(!peer.commands().contains { $0.verb == "MAIL" })
    }

    @Test func verificationOffDeliversOverTLS() throws {
        let certificate = try SelfSignedCertificate()
        let peer = try tlsPeer(certificate)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer, tls: unverifiedRelay))
        #expect(connection.isTLSActive)
        #expect(!connection.capabilities.startTLS)
        let result = try connection.send(PeerFixture.envelope(["a@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [250])
        connection.quit()
        #expect(peer.messages().first?.tls == true)
        #expect(peer.commands().map(\.verb).prefix(3) == ["EHLO", "STARTTLS", "EHLO"])
        #expect(peer.commands().filter { $0.verb != "EHLO" && $0.verb != "STARTTLS" }.allSatisfy { $0.tls })
    }

    @Test func trustedCertificateVerifiesWithTheRightNameOnly() throws {
        let certificate = try SelfSignedCertificate(commonName: "relay.test")
        let peer = try tlsPeer(certificate)
        let client = try PeerFixture.client(trusting: certificate.certificatePath)
        let connection = try client.connect(to: PeerFixture.endpoint(peer, tls: verifiedRelay, hostName: "relay.test"))
        #expect(connection.isTLSActive)
        connection.quit()

        let error = PeerFixture.connect(client, PeerFixture.endpoint(peer, tls: verifiedRelay, hostName: "other.test")).failure
        guard case .certificateVerificationFailed(let reason) = error else {
            Issue.record("expected certificateVerificationFailed, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("mismatch"))
    }

    @Test func trustedCertificateVerifiesAnIPLiteralAgainstItsAddressNames() throws {
        let certificate = try SelfSignedCertificate(commonName: "relay.test", alternativeNames: ["IP:127.0.0.1"])
        let peer = try tlsPeer(certificate)
        let client = try PeerFixture.client(trusting: certificate.certificatePath)
        let connection = try client.connect(to: PeerFixture.endpoint(peer, tls: verifiedRelay, hostName: "127.0.0.1"))
        #expect(connection.isTLSActive)
    }

    @Test func replyInjectedBeforeTheTLSHandshakeIsRefused() throws {
        let certificate = try SelfSignedCertificate()
        let peer = try tlsPeer(certificate, #", "starttls_inject": true"#)
        let error = PeerFixture.connect(try PeerFixture.client(), PeerFixture.endpoint(peer, tls: .opportunistic)).failure
        guard case .protocolViolation(_, .startTLS) = error else {
            Issue.record("expected a protocol violation at STARTTLS, got \(String(describing: error))")
            return
        }
    }

    @Test func opportunisticTLSSkipsVerification() throws {
        let certificate = try SelfSignedCertificate(commonName: "not-the-mx.test")
        let peer = try tlsPeer(certificate)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer, tls: .opportunistic, hostName: "mx.x.test"))
        #expect(connection.isTLSActive)
    }

    @Test func requiredTLSNotOfferedRefusesBeforeMAILAndAUTH() throws {
        let peer = try SMTPTestPeer(script: #"{"auth": {"users": {"relayuser": "s3cret"}}}"#)
        let required = TLSPolicy.relay(implicitTLS: false, startTLSRequired: true, verifiesCertificate: false)
        let endpoint = PeerFixture.endpoint(peer, tls: required, credentials: credentials, clearText: true)
        let error = PeerFixture.connect(try PeerFixture.client(), endpoint).failure
        #expect(error == .startTLSNotOffered)
        #expect(error?.recordedReply.enhancedCode?.description == "4.7.4")
        #expect(peer.commands().map(\.verb).filter { $0 != "QUIT" } == ["EHLO"])
    }

    @Test func implicitTLS() throws {
        let certificate = try SelfSignedCertificate()
        let peer = try tlsPeer(certificate, #", "implicit_tls": true"#)
        let implicit = TLSPolicy.relay(implicitTLS: true, startTLSRequired: false, verifiesCertificate: false)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer, tls: implicit))
        #expect(connection.isTLSActive)
        let result = try connection.send(PeerFixture.envelope(["a@x.test"], content: "Subject: x\r\n\r\n.\r\n"))
        #expect(result.recipients.map(\.reply.code) == [250])
        connection.quit()
        #expect(peer.commands().allSatisfy { $0.tls })
        #expect(peer.messages().first?.content == Array("Subject: x\r\n\r\n.\r\n".utf8))
    }

    @Test func implicitTLSAgainstAPlainServerIsAHandshakeFailure() throws {
        let peer = try SMTPTestPeer()
        let implicit = TLSPolicy.relay(implicitTLS: true, startTLSRequired: false, verifiesCertificate: false)
        let error = PeerFixture.connect(try PeerFixture.client(), PeerFixture.endpoint(peer, tls: implicit)).failure
        guard case .tlsHandshakeFailed = error else {
            Issue.record("expected tlsHandshakeFailed, got \(String(describing: error))")
            return
        }
        #expect(error?.isTLSFailure == true)
    }

    @Test(arguments: ["PLAIN", "LOGIN"])
    func authOverSTARTTLS(mechanism: String) throws {
        let certificate = try SelfSignedCertificate()
        let peer = try tlsPeer(certificate, """
            , "auth": {"users": {"relayuser": "s3cret"}, "mechanisms": ["\(mechanism)"], "required": true, "require_tls": true}
            """)
        let endpoint = PeerFixture.endpoint(peer, tls: unverifiedRelay, credentials: credentials)
        let connection = try PeerFixture.client().connect(to: endpoint)
        #expect(connection.capabilities.authenticationMechanisms == [mechanism])
        let result = try connection.send(PeerFixture.envelope(["a@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [250])
        #expect(peer.messages().first?.authenticatedUser == "relayuser")
        #expect(peer.commands().first { $0.verb == "AUTH" }?.tls == true)
    }

    @Test(arguments: ["PLAIN", "LOGIN"])
    func wrongPasswordIsRefusedWith535(mechanism: String) throws {
        let peer = try SMTPTestPeer(script: """
            {"auth": {"users": {"relayuser": "other"}, "mechanisms": ["\(mechanism)"], "required": true}}
            """)
        let endpoint = PeerFixture.endpoint(peer, credentials: credentials, clearText: true)
        let error = PeerFixture.connect(try PeerFixture.client(), endpoint).failure
        guard case .authenticationRefused(let reply) = error else {
            Issue.record("expected authenticationRefused, got \(String(describing: error))")
            return
        }
        #expect(reply.code == 535)
        #expect(!peer.commands().contains { $0.verb == "MAIL" })
    }

    @Test func authInClearTextOnlyWhenAllowed() throws {
        let peer = try SMTPTestPeer(script: #"{"auth": {"users": {"relayuser": "s3cret"}, "required": true}}"#)
        let refused = PeerFixture.connect(try PeerFixture.client(), PeerFixture.endpoint(peer, credentials: credentials)).failure
        #expect(refused == .authenticationRequiresTLS)
        #expect(!peer.commands().contains { $0.verb == "AUTH" })

        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer, credentials: credentials, clearText: true))
        #expect(try connection.send(PeerFixture.envelope(["a@x.test"])).recipients.map(\.reply.code) == [250])
        #expect(peer.messages().first?.authenticatedUser == "relayuser")
    }

    @Test func authRequiredButNotSentGetsTheServersRefusalPerRecipient() throws {
        let peer = try SMTPTestPeer(script: #"{"auth": {"users": {"relayuser": "s3cret"}, "required": true}}"#)
        let connection = try PeerFixture.client().connect(to: PeerFixture.endpoint(peer))
        let result = try connection.send(PeerFixture.envelope(["a@x.test"]))
        #expect(result.recipients.map(\.reply.code) == [530])
    }
}
