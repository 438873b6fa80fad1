#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DNSClient

@Suite struct DNSServerAddressTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1", 53),
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        ("[::1]:5353", "::1", 5353),
        ("[::1]", "::1", 53),
        ("::1", "::1", 53),
        ("2001:DB8:0::53", "2001:db8::53", 53),
        ("[2001:db8::53]:65535", "2001:db8::53", 65535),
    ] as [(String, String, UInt16)])
    func parsesTheFormsOfMailgateDNSServer(text: String, host: String, port: UInt16) throws {
        let server = try DNSServerAddress.parse(text)
        #expect(server.host == host)
        #expect(server.port == port)
        #expect(try DNSServerAddress.parse(server.description) == server)
    }

    @Test(arguments: [
        "", "localhost", "dns.example.org:53", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:+53",
        "127.0.0.1:5 3", "[127.0.0.1]:53", "[::1", "[::1]53", "[::1]:", "1.2.3", "::1%nosuchinterface0",
    ])
    func refusesWhatIsNotAnIPLiteralAndPort(text: String) {
        #expect(throws: DNSError.invalidServerAddress(text)) { try DNSServerAddress.parse(text) }
    }

    @Test func describesItselfForLogs() throws {
        #expect(try DNSServerAddress.parse("127.0.0.1").description == "127.0.0.1:53")
        #expect(try DNSServerAddress.parse("::1").description == "[::1]:53")
    }

    @Test func readsNameserverLinesOfResolvConf() throws {
        let text = """
            # generated
            ; comment
            search example.org
            nameserver 192.0.2.53
            nameserver\t2001:db8::53   # trailing words are ignored
            nameserver fe80::1%1
            options ndots:2 timeout:1
            nameserver not-an-address
            nameserver 192.0.2.54
            """
        let servers = ResolvConf.nameservers(in: text)
        #expect(servers.map(\.description) == ["192.0.2.53:53", "[2001:db8::53]:53", "[fe80::1]:53"])
        #expect(servers[2].scopeID == 1)
    }

    @Test func fallsBackToTheLocalHostWithoutResolvConf() {
        let resolver = DNSResolver.system(resolvConfPath: "/nonexistent/resolv.conf")
        #expect(resolver.servers.map(\.description) == ["127.0.0.1:53"])
        #expect(resolver.timeout == DNSResolver.defaultTimeout)
        #expect(resolver.attempts == DNSResolver.defaultAttempts)
    }

    @Test func readsTheSystemFile() throws {
        let path = "/tmp/mailgate-dns-resolv-\(getpid()).conf"
        let text = "nameserver 192.0.2.1\nnameserver ::1\n"
        let file = try #require(fopen(path, "w"))
        fputs(text, file)
        fclose(file)
        defer { unlink(path) }
        #expect(DNSResolver.system(resolvConfPath: path).servers.map(\.description) == ["192.0.2.1:53", "[::1]:53"])
    }

    @Test func configuresFromTheSettingOrTheSystem() throws {
        let configured = try DNSResolver.configured(dnsServer: "127.0.0.1:5353", timeout: .seconds(1), attempts: 3)
        #expect(configured.servers.map(\.description) == ["127.0.0.1:5353"])
        #expect(configured.timeout == .seconds(1))
        #expect(configured.attempts == 3)
        #expect(throws: DNSError.invalidServerAddress("dns.example")) { try DNSResolver.configured(dnsServer: "dns.example") }
        #expect(try DNSResolver.configured(dnsServer: nil).servers == DNSResolver.system().servers)
    }

    @Test func keepsTimeoutAndAttemptsUsable() {
        let resolver = DNSResolver(servers: [], timeout: .zero, attempts: 0)
        #expect(resolver.attempts == 1)
        #expect(resolver.timeout > .zero)
    }
}

@Suite struct IPLiteralTests {
    /// A resolver with no servers: any attempt to query would throw `noServers`.
    private let offline = DNSResolver(servers: [])

    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"),
        ("[127.0.0.1]", "127.0.0.1"),
        ("[IPv6:2001:db8:0::1]", "2001:db8::1"),
        ("[ipv6:::1]", "::1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
    ])
    func anIPLiteralResolvesToItselfWithoutAQuery(host: String, expected: String) throws {
        #expect(try offline.lookupAddresses(host) == [expected])
    }

    @Test func aDomainLiteralIsItsOwnExchangeAsWritten() throws {
        #expect(try offline.lookupMX("[192.0.2.1]") == .exchanges([MXRecord(preference: 0, host: "[192.0.2.1]")]))
        #expect(try offline.lookupMX("[IPv6:::1]") == .exchanges([MXRecord(preference: 0, host: "[IPv6:::1]")]))
    }

    @Test func aTaggedIPv4LiteralIsNotAnAddress() {
        #expect(IPAddress(hostLiteral: "[IPv6:127.0.0.1]") == nil)
        #expect(IPAddress(hostLiteral: "[999.0.0.1]") == nil)
        #expect(IPAddress(hostLiteral: "mx.example.org") == nil)
    }

    @Test func namesNeedAServer() {
        #expect(throws: DNSError.noServers) { try offline.lookupMX("example.test") }
        #expect(throws: DNSError.noServers) { try offline.lookupAddresses("example.test") }
    }

    @Test func invalidNamesAreRefusedBeforeAnyQuery() {
        #expect(throws: DNSError.self) { try offline.lookupMX("a..test") }
        #expect(throws: DNSError.self) { try offline.lookupAddresses(String(repeating: "a", count: 64) + ".test") }
        #expect(DNSError.invalidName("x").isPermanent)
        #expect(DNSError.nxdomain("x").isPermanent)
        #expect(!DNSError.timeout.isPermanent)
        #expect(!DNSError.serverFailure(rcode: 2).isPermanent)
    }
}
