import MailgateTesting
@testable import SMTPClient

/// Clients and endpoints for tests against `SMTPTestPeer` on loopback.
enum PeerFixture {
    static func client(
        timeout: Duration = .seconds(10),
        dataTimeoutMultiplier: Int = 5,
        trusting anchors: String? = nil
    ) throws -> SMTPClient {
        try SMTPClient(configuration: SMTPClientConfiguration(
            heloName: "client.test",
            commandTimeout: timeout,
            dataTimeoutMultiplier: dataTimeoutMultiplier,
            additionalTrustAnchorsFile: anchors
        ))
    }

    static func endpoint(
        _ peer: SMTPTestPeer,
        tls: TLSPolicy = .disabled,
        hostName: String = "localhost",
        credentials: SMTPCredentials? = nil,
        clearText: Bool = false
    ) -> SMTPEndpoint {
        SMTPEndpoint(
            hostName: hostName, address: peer.host, port: peer.port, tls: tls,
            credentials: credentials, allowsClearTextAuthentication: clearText
        )
    }

    static func envelope(_ recipients: [String], content: String = "Subject: test\r\n\r\nHello.\r\n") -> SMTPEnvelope {
        SMTPEnvelope(sender: "sender@a.test", recipients: recipients, content: Array(content.utf8))
    }

    /// Opens a connection, or records the error and returns nil.
    static func connect(_ client: SMTPClient, _ endpoint: SMTPEndpoint) -> Result<SMTPConnection, SMTPError> {
        do {
            return .success(try client.connect(to: endpoint))
        } catch {
            return .failure(error)
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
