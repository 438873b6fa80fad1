#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import MailgateTesting
import Synchronization
import Testing
@testable import DNSClient

/// The resolver against a real DNS server (dns_server.py) on loopback.
@Suite struct DNSResolverLiveTests {
    @Test func mxRecordsComeLowestPreferenceFirstWithEqualOnesShuffled() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver()
        var generator = SeededGenerator(seed: 7)
        let result = try resolver.lookupMX("multi.test", using: &generator)
        guard case .exchanges(let records) = result else {
            Issue.record("expected exchanges, got \(result)")
            return
        }
        #expect(records.map(\.preference) == [10, 10, 20])
        #expect(Set(records.prefix(2).map(\.host)) == ["mx1.multi.test", "mx2.multi.test"])
        #expect(records.last?.host == "mx3.multi.test")
        var sameSeed = SeededGenerator(seed: 7)
        #expect(try resolver.lookupMX("MULTI.test.", using: &sameSeed) == result)
    }

    @Test func aNullMXIsReported() throws {
        let server = try DNSTestServer.live()
        #expect(try server.resolver().lookupMX("null.test") == .nullMX)
    }

    @Test func nxdomainIsItsOwnError() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver()
        #expect(throws: DNSError.nxdomain("gone.test")) { try resolver.lookupMX("gone.test") }
        #expect(throws: DNSError.nxdomain("gone.test")) { try resolver.lookupAddresses("gone.test") }
        // NXDOMAIN on A holds for AAAA too: no second query.
        #expect(server.queries(for: "gone.test").map(\.type) == ["MX", "A"])
    }

    @Test func aCNAMEToNowhereIsNXDOMAIN() throws {
        let server = try DNSTestServer.live()
        #expect(throws: DNSError.nxdomain("dangling.test")) { try server.resolver().lookupAddresses("dangling.test") }
    }

    @Test func servfailIsAServerFailureAfterEveryAttempt() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver(attempts: 3)
        #expect(throws: DNSError.serverFailure(rcode: 2)) { try resolver.lookupMX("fail.test") }
        #expect(server.queries(for: "fail.test").count == 3)
    }

    @Test func refusedIsReported() throws {
        let server = try DNSTestServer.live()
        #expect(throws: DNSError.refused) { try server.resolver().lookupMX("refused.test") }
    }

    @Test func noMXLeavesTheDomainsOwnAddresses() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver()
        #expect(try resolver.lookupMX("amail.test") == .noMX)
        #expect(try resolver.lookupAddresses("amail.test") == ["127.0.0.1", "127.0.0.2"])
    }

    @Test func ipv4AddressesComeFirst() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver()
        #expect(try resolver.lookupAddresses("dual.test") == ["127.0.0.2", "::1"])
        #expect(try resolver.lookupAddresses("v6only.test") == ["::1", "2001:db8::5"])
        #expect(try resolver.lookupAddresses("multi.test") == [])
    }

    @Test func cnameChainsAreFollowed() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver()
        #expect(try resolver.lookupAddresses("alias.test") == ["127.0.0.2", "::1"])
        var generator = SeededGenerator(seed: 1)
        guard case .exchanges(let records) = try resolver.lookupMX("mxalias.test", using: &generator) else {
            Issue.record("expected the MX records of the CNAME's target")
            return
        }
        #expect(Set(records.map(\.host)) == ["mx1.multi.test", "mx2.multi.test", "mx3.multi.test"])
    }

    @Test func aTruncatedAnswerIsAskedAgainOverTCP() throws {
        let server = try DNSTestServer.live()
        #expect(try server.resolver().lookupMX("big.test") == .exchanges([MXRecord(preference: 5, host: "mx.big.test")]))
        #expect(server.queries(for: "big.test").map(\.transport) == ["udp", "tcp"])
    }

    @Test func aSilentServerTimesOutAfterItsAttempts() throws {
        let server = try DNSTestServer.live(silent: true)
        let resolver = try server.resolver(timeout: silenceTimeout, attempts: 2)
        #expect(throws: DNSError.timeout) { try resolver.lookupMX("multi.test") }
        #expect(server.queries(for: "multi.test").count == 2)
    }

    @Test func packetsForOtherQueriesAreIgnored() throws {
        let server = try DNSTestServer.live()
        #expect(try server.resolver().lookupAddresses("odd.test") == ["127.0.0.3"])
    }

    @Test func aBrokenAnswerIsMalformed() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver()
        let result = Result { () throws(DNSError) in try resolver.lookupMX("broken.test") }
        guard case .failure(.malformedResponse) = result else {
            Issue.record("expected malformedResponse, got \(result)")
            return
        }
    }

    @Test func aServerWithoutEDNSIsAskedAgainWithout() throws {
        let server = try DNSTestServer.live()
        #expect(try server.resolver().lookupMX("old.test") == .exchanges([MXRecord(preference: 1, host: "mx.old.test")]))
        #expect(server.queries(for: "old.test").count == 2)
    }

    @Test func oneFamilyFailingLeavesTheOther() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver(timeout: mixedTimeout, attempts: 1)
        #expect(try resolver.lookupAddresses("slowv6.test") == ["127.0.0.5"])
        #expect(try resolver.lookupAddresses("failv4.test") == ["::6"])
    }

    @Test func aTimeoutOnAEndsTheAddressLookup() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver(timeout: silenceTimeout, attempts: 1)
        #expect(throws: DNSError.timeout) { try resolver.lookupAddresses("deadv4.test") }
        #expect(server.queries(for: "deadv4.test").map(\.type) == ["A"])
    }

    @Test func anIPv6ServerWorks() throws {
        let server = try DNSTestServer.live(host: "::1")
        #expect(server.address.hasPrefix("[::1]:"))
        #expect(try server.resolver().lookupMX("null.test") == .nullMX)
    }

    @Test func theNextServerIsAskedWhenOneIsSilent() throws {
        let silent = try DNSTestServer.live(silent: true)
        let good = try DNSTestServer.live()
        let resolver = DNSResolver(servers: [try silent.serverAddress, try good.serverAddress], timeout: mixedTimeout, attempts: 2)
        #expect(try resolver.lookupMX("null.test") == .nullMX)
        #expect(silent.queries(for: "null.test").count == 1)
    }

    @Test func aServersAnswerOutranksAnotherServersSilence() throws {
        let silent = try DNSTestServer.live(silent: true)
        let failing = try DNSTestServer.live()
        let resolver = DNSResolver(servers: [try failing.serverAddress, try silent.serverAddress], timeout: mixedTimeout, attempts: 1)
        #expect(throws: DNSError.serverFailure(rcode: 2)) { try resolver.lookupMX("fail.test") }
    }

    @Test func aClosedPortIsASocketErrorAndTheNextServerAnswers() throws {
        let closed = try DNSServerAddress(host: "127.0.0.1", port: closedUDPPort())
        let alone = DNSResolver(servers: [closed], timeout: liveTimeout, attempts: 1)
        #expect(throws: DNSError.socket(operation: "recv", errno: ECONNREFUSED)) { try alone.lookupMX("null.test") }
        let good = try DNSTestServer.live()
        let resolver = DNSResolver(servers: [closed, try good.serverAddress], timeout: liveTimeout, attempts: 1)
        #expect(try resolver.lookupMX("null.test") == .nullMX)
    }

    @Test func oneResolverServesManyThreadsAtOnce() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver()
        let expected: [String: [String]] = [
            "amail.test": ["127.0.0.1", "127.0.0.2"], "dual.test": ["127.0.0.2", "::1"],
            "v6only.test": ["::1", "2001:db8::5"], "alias.test": ["127.0.0.2", "::1"],
        ]
        let hosts = Array(expected.keys).sorted()
        let results = Mutex<[(String, Result<[String], DNSError>)]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let host = hosts[index % hosts.count]
            let result = Result { () throws(DNSError) -> [String] in try resolver.lookupAddresses(host) }
            results.withLock { $0.append((host, result)) }
        }
        let collected = results.withLock { $0 }
        #expect(collected.count == 16)
        for (host, result) in collected {
            #expect(try result.get() == expected[host])
        }
    }

    @Test func theTestServerAnswersFromAnUpdatedZone() throws {
        let server = try DNSTestServer.live()
        let resolver = try server.resolver()
        #expect(try resolver.lookupMX("null.test") == .nullMX)
        try server.updateZone(#"{"null.test": {"MX": [[3, "mx.now.test"]]}}"#)
        #expect(try resolver.lookupMX("null.test") == .exchanges([MXRecord(preference: 3, host: "mx.now.test")]))
    }
}
