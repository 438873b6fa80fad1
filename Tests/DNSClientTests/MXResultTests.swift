import MailgateTesting
import Testing
@testable import DNSClient

@Suite struct MXResultTests {
    private func response(for domain: String, _ records: [(UInt16, String)], owner: String? = nil) -> DNSMessage {
        var message = DNSMessage(header: DNSHeader(id: 1, isResponse: true))
        message.questions = [DNSQuestion(name: name(domain), type: .mx)]
        message.answers = records.map { preference, host in
            DNSResourceRecord(name: name(owner ?? domain), type: .mx, data: .mx(preference: preference, exchange: name(host)))
        }
        return message
    }

    private func hosts(_ result: MXResult) -> [String] {
        guard case .exchanges(let records) = result else { return [] }
        return records.map(\.host)
    }

    @Test func sortsByPreferenceAndShufflesOnlyWithinEqualPreferences() {
        let records: [(UInt16, String)] = [(20, "c.test"), (10, "a1.test"), (30, "d.test"), (10, "a2.test"), (10, "a3.test")]
        var orders: Set<[String]> = []
        for seed in 0..<200 as Range<UInt64> {
            var generator = SeededGenerator(seed: seed)
            let order = hosts(MXResult(response: response(for: "x.test", records), domain: name("x.test"), using: &generator))
            #expect(Set(order.prefix(3)) == ["a1.test", "a2.test", "a3.test"])
            #expect(Array(order.suffix(2)) == ["c.test", "d.test"])
            orders.insert(order)
        }
        // All six orders of the three equal exchanges turn up: the shuffle is real.
        #expect(orders.count == 6)
    }

    @Test func theSameSeedGivesTheSameOrder() {
        let records: [(UInt16, String)] = (0..<8).map { (5, "mx\($0).test") }
        var first = SeededGenerator(seed: 42)
        var second = SeededGenerator(seed: 42)
        let message = response(for: "x.test", records)
        #expect(MXResult(response: message, domain: name("x.test"), using: &first)
            == MXResult(response: message, domain: name("x.test"), using: &second))
    }

    @Test func aLoneRootExchangeIsANullMX() {
        var generator = SeededGenerator(seed: 1)
        #expect(MXResult(response: response(for: "x.test", [(0, ".")]), domain: name("x.test"), using: &generator) == .nullMX)
    }

    @Test func aRootExchangeAmongOthersIsDropped() {
        var generator = SeededGenerator(seed: 1)
        let result = MXResult(response: response(for: "x.test", [(0, "."), (10, "mx.test")]), domain: name("x.test"), using: &generator)
        #expect(result == .exchanges([MXRecord(preference: 10, host: "mx.test")]))
    }

    @Test func noMXRecordsForTheDomainIsNoMX() {
        var generator = SeededGenerator(seed: 1)
        #expect(MXResult(response: response(for: "x.test", []), domain: name("x.test"), using: &generator) == .noMX)
        // Records owned by another name do not answer for this one.
        let stray = response(for: "x.test", [(10, "mx.test")], owner: "y.test")
        #expect(MXResult(response: stray, domain: name("x.test"), using: &generator) == .noMX)
    }

    @Test func followsACNAMEToTheRecordsOfItsTarget() {
        var message = response(for: "alias.test", [(10, "mx.real.test")], owner: "real.test")
        message.answers.insert(DNSResourceRecord(name: name("ALIAS.test"), type: .cname, data: .cname(name("real.test"))), at: 0)
        var generator = SeededGenerator(seed: 1)
        #expect(MXResult(response: message, domain: name("alias.test"), using: &generator)
            == .exchanges([MXRecord(preference: 10, host: "mx.real.test")]))
    }

    @Test func aCNAMELoopEndsTheChain() {
        var message = DNSMessage(header: DNSHeader(id: 1, isResponse: true))
        message.answers = [
            DNSResourceRecord(name: name("a.test"), type: .cname, data: .cname(name("b.test"))),
            DNSResourceRecord(name: name("b.test"), type: .cname, data: .cname(name("a.test"))),
        ]
        #expect(message.answers(ofType: .mx, for: name("a.test")).records.isEmpty)
    }
}
