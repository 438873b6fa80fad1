import Testing
import Webhooks

/// The address classifier over a table of addresses. Unit tests only: the public
/// addresses here are never connected to.
@Suite struct AddressGuardTests {
    static let refused: [(String, String)] = [
        ("127.0.0.1", "loopback"), ("127.255.255.254", "loopback"),
        ("10.0.0.1", "private"), ("10.255.255.255", "private"),
        ("172.16.0.1", "private"), ("172.31.255.255", "private"),
        ("192.168.0.1", "private"), ("192.168.255.255", "private"),
        ("169.254.0.1", "link-local"), ("169.254.169.254", "metadata"), ("168.63.129.16", "metadata"),
        ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"),
        ("255.255.255.255", "reserved"), ("240.0.0.1", "reserved"),
        ("192.0.2.1", "documentation"), ("198.18.0.1", "benchmarking"),
        ("::1", "loopback"), ("::", "unspecified"),
        ("fe80::1", "link-local"), ("febf::1", "link-local"), ("fec0::1", "site-local"),
        ("fc00::1", "unique-local"), ("fd12:3456::1", "unique-local"), ("fd00:ec2::254", "unique-local"),
        ("ff02::1", "multicast"), ("ff05::2", "multicast"),
        ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.1.2.3", "private"),
        ("::ffff:169.254.169.254", "metadata"), ("::ffff:0.0.0.0", "unspecified"),
        ("::127.0.0.1", "loopback"), ("[::ffff:192.168.1.1]", "private"),
        ("64:ff9b::7f00:1", "loopback"), ("2002:a00:1::", "private"),
        ("2001:db8::1", "documentation"),
    ]

    static let allowed = [
        "93.184.216.34", "8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "192.169.0.1",
        "169.253.255.255", "100.128.0.1", "223.255.255.255", "11.0.0.1",
        "2606:2800:220:1::1", "2001:4860:4860::8888", "::ffff:93.184.216.34", "[2606:2800:220:1::1]",
        "2002:5db8:d822::1", "64:ff9b::808:808",
    ]

    @Test(arguments: refused)
    func refusesNonPublicAddresses(literal: String, range: String) throws {
        let address = try #require(IPAddress(literal))
        #expect(address.restrictedRange == range)
        let refusal = try #require(AddressGuard(allowPrivate: false).refusal(for: address))
        #expect(refusal.contains(range))
        #expect(AddressGuard(allowPrivate: true).refusal(for: address) == nil)
    }

    @Test(arguments: allowed)
    func allowsPublicAddresses(literal: String) throws {
        let address = try #require(IPAddress(literal))
        #expect(address.restrictedRange == nil)
        #expect(AddressGuard(allowPrivate: false).refusal(for: address) == nil)
    }

    @Test(arguments: ["localhost", "example.com", "1.2.3", "::g", "fe80::1%eth0", "", "[::1", "256.1.1.1"])
    func parsesOnlyLiterals(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func printsCanonicalForms() throws {
        #expect(try #require(IPAddress("10.1.2.3")).description == "10.1.2.3")
        #expect(try #require(IPAddress("2001:0db8:0000::0001")).description == "2001:db8::1")
        #expect(try #require(IPAddress("::ffff:127.0.0.1")).description == "::ffff:127.0.0.1")
    }
}

/// Validation of webhook URLs when they are given (SPEC §6 "Webhook URL checks").
@Suite struct WebhookURLTests {
    static let strict = AddressGuard(allowPrivate: false)

    @Test(arguments: [
        "https://app.example.com/hooks/mail", "http://example.com", "HTTPS://Example.com:8443/a?b=c#d",
        "http://93.184.216.34:8080/x", "http://[2606:2800:220:1::1]/x", "http://localhost:8080/hook",
    ])
    func acceptsHTTPURLs(text: String) throws {
        let url = try WebhookURL(text, guard: Self.strict)
        #expect(url.text == text)
    }

    @Test(arguments: [
        "ftp://example.com/x", "file:///etc/passwd", "gopher://example.com", "example.com/hook", "http://",
        "http://user:pass@example.com/", "http://exa mple.com/", "http://example.com:0/", "http://example.com:65536/",
        "http://127.0.0.1/hook", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data", "http://[::1]/",
        "http://[::ffff:127.0.0.1]/", "http://[fe80::1%25eth0]/", "http://0.0.0.0:8080/", "http://2130706433/",
        "http://0x7f.1/", "http://[::1/",
    ])
    func refusesOtherURLs(text: String) {
        #expect(throws: WebhookURLError.self) { try WebhookURL(text, guard: Self.strict) }
    }

    @Test(arguments: ["http://127.0.0.1:8080/hook", "http://[::1]:9/x", "http://10.1.2.3/"])
    func acceptsPrivateLiteralsWhenAllowed(text: String) throws {
        #expect(try WebhookURL(text, guard: AddressGuard(allowPrivate: true)).text == text)
    }
}
