import Testing
@testable import DNSClient

@Suite struct DNSMessageCodecTests {
    @Test func encodesAQueryAsDnslibDoes() {
        let query = DNSMessage.query(id: 0x1234, name: name("multi.test"), type: .mx, ednsPayloadSize: nil)
        #expect(query.encoded() == CapturedPacket.mxQuery)
    }

    @Test func addsAnEDNS0OptRecordWhenAsked() throws {
        let query = DNSMessage.query(id: 0x1234, name: name("multi.test"), type: .mx, ednsPayloadSize: 1232)
        let encoded = query.encoded()
        // ARCOUNT 1, then root name, TYPE 41, CLASS = payload size 1232, TTL 0, RDLENGTH 0 (RFC 6891 §6.1.2).
        #expect(encoded[10...11] == [0, 1])
        #expect(Array(encoded.suffix(11)) == [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0])
        let decoded = try DNSMessage.decode(encoded)
        #expect(decoded.optRecord?.recordClass == 1232)
        #expect(decoded.header.recursionDesired)
        #expect(!decoded.header.isResponse)
    }

    @Test func roundTripsEveryRecordKind() throws {
        var message = DNSMessage(header: DNSHeader(
            id: 0xA5A5, isResponse: true, opcode: 0, isAuthoritative: true, isTruncated: true,
            recursionDesired: true, recursionAvailable: true, responseCode: 3))
        message.questions = [DNSQuestion(name: name("Example.test"), type: .mx)]
        message.answers = [
            DNSResourceRecord(name: name("example.test"), type: .cname, ttl: 1, data: .cname(name("real.test"))),
            DNSResourceRecord(name: name("real.test"), type: .mx, ttl: 2, data: .mx(preference: 0, exchange: .root)),
            DNSResourceRecord(name: name("real.test"), type: .mx, ttl: 3, data: .mx(preference: 65535, exchange: name("mx.real.test"))),
        ]
        message.authorities = [DNSResourceRecord(name: name("test"), type: .txt, ttl: 4, data: .other([3, 0x61, 0x62, 0x63]))]
        message.additionals = [
            DNSResourceRecord(name: name("mx.real.test"), type: .a, ttl: .max, data: .a(address("192.0.2.1"))),
            DNSResourceRecord(name: name("mx.real.test"), type: .aaaa, ttl: 0, data: .aaaa(address("2001:db8::53"))),
        ]
        #expect(try DNSMessage.decode(message.encoded()) == message)
    }

    @Test func decodesCompressedMXAnswersFromDnslib() throws {
        let message = try DNSMessage.decode(CapturedPacket.mxResponse)
        #expect(message.header.id == 0x1234)
        #expect(message.header.isResponse && message.header.recursionAvailable && !message.header.isTruncated)
        #expect(message.responseCode == DNSResponseCode.noError)
        #expect(message.questions == [DNSQuestion(name: name("multi.test"), type: .mx)])
        #expect(message.answers.map(\.data) == [
            .mx(preference: 10, exchange: name("mx1.multi.test")),
            .mx(preference: 10, exchange: name("mx2.multi.test")),
            .mx(preference: 20, exchange: name("backup.example.org")),
        ])
        #expect(message.answers.allSatisfy { $0.name == name("multi.test") && $0.ttl == 300 })
        #expect(message.additionals == [
            DNSResourceRecord(name: name("mx1.multi.test"), type: .a, ttl: 300, data: .a(address("192.0.2.10")))
        ])
    }

    @Test func decodesACNAMEChainAndTheOptRecord() throws {
        let message = try DNSMessage.decode(CapturedPacket.aaaaResponse)
        #expect(message.optRecord?.recordClass == 1232)
        let (owner, records) = message.answers(ofType: .aaaa, for: name("WWW.example.test"))
        #expect(owner == name("web.example.test"))
        #expect(records.map(\.data) == [.aaaa(address("2001:db8::1")), .aaaa(address("2001:db8::1:0:0:1"))])
        #expect(address("2001:db8:0:0:1:0:0:1").description == "2001:db8::1:0:0:1")
    }

    @Test func decodesNXDOMAINWithItsAuthority() throws {
        let message = try DNSMessage.decode(CapturedPacket.nxdomainResponse)
        #expect(message.responseCode == DNSResponseCode.nameError)
        #expect(message.answers.isEmpty)
        #expect(message.authorities.count == 1)
        #expect(message.authorities.first?.type == .soa)
        #expect(message.authorities.first?.name == name("test"))
    }

    @Test func extendsTheResponseCodeFromTheOptRecord() throws {
        var message = DNSMessage(header: DNSHeader(id: 1, isResponse: true, responseCode: 0))
        // RFC 6891 §6.1.3: BADVERS is 16, carried as upper bits 1 in the OPT TTL and 0 in the header.
        message.additionals = [DNSResourceRecord(name: .root, type: .opt, recordClass: 1232, ttl: 1 << 24, data: .other([]))]
        #expect(try DNSMessage.decode(message.encoded()).responseCode == 16)
    }

    @Test func skipsUnknownTypesAndOtherClasses() throws {
        var message = DNSMessage(header: DNSHeader(id: 2, isResponse: true))
        message.answers = [
            DNSResourceRecord(name: name("x.test"), type: DNSRecordType(rawValue: 65280), data: .other([1, 2, 3])),
            DNSResourceRecord(name: name("x.test"), type: .a, recordClass: 3, data: .other([1, 2, 3])),
        ]
        let decoded = try DNSMessage.decode(message.encoded())
        #expect(decoded.answers.map(\.data) == [.other([1, 2, 3]), .other([1, 2, 3])])
    }

    @Test func ignoresOctetsAfterTheLastRecord() throws {
        let padded = CapturedPacket.mxResponse + [0, 0, 0, 0]
        #expect(try DNSMessage.decode(padded) == DNSMessage.decode(CapturedPacket.mxResponse))
    }
}
