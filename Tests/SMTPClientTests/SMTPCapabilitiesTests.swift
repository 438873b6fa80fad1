import Testing
@testable import SMTPClient

@Suite("EHLO capabilities")
struct SMTPCapabilitiesTests {
    private func capabilities(_ lines: [String]) -> SMTPCapabilities {
        SMTPCapabilities(ehloReply: SMTPReply(code: 250, text: ["mx.example.org Hello"] + lines))
    }

    @Test func readsEveryExtensionWeUse() {
        let parsed = capabilities([
            "PIPELINING", "SIZE 10240000", "8BITMIME", "SMTPUTF8", "STARTTLS",
            "AUTH PLAIN LOGIN CRAM-MD5", "ENHANCEDSTATUSCODES", "DSN", "CHUNKING",
        ])
        #expect(parsed.pipelining && parsed.eightBitMIME && parsed.smtpUTF8 && parsed.startTLS && parsed.enhancedStatusCodes)
        #expect(parsed.size && parsed.maximumMessageSize == 10_240_000)
        #expect(parsed.authenticationMechanisms == ["PLAIN", "LOGIN", "CRAM-MD5"])
    }

    @Test func oldAuthEqualsFormAndLowerCase() {
        let parsed = capabilities(["auth=login plain", "pipelining"])
        #expect(parsed.authenticationMechanisms == ["LOGIN", "PLAIN"])
        #expect(parsed.pipelining)
    }

    @Test func sizeWithoutALimit() {
        #expect(capabilities(["SIZE"]).maximumMessageSize == nil)
        #expect(capabilities(["SIZE 0"]).maximumMessageSize == nil)
        #expect(capabilities(["SIZE"]).size)
    }

    @Test func greetingLineIsNotAnExtension() {
        let parsed = SMTPCapabilities(ehloReply: SMTPReply(code: 250, text: ["PIPELINING"]))
        #expect(!parsed.pipelining)
        #expect(parsed == SMTPCapabilities())
    }
}
