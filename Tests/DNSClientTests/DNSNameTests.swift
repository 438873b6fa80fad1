import Testing
@testable import DNSClient

@Suite struct DNSNameTests {
    @Test func parsesDottedNamesWithOrWithoutTheTrailingDot() throws {
        let plain = try DNSName("mx1.Example.org")
        #expect(plain.labels.map { String(decoding: $0, as: UTF8.self) } == ["mx1", "Example", "org"])
        #expect(try DNSName("mx1.example.org.") == plain)
        #expect(plain.description == "mx1.Example.org")
        #expect(try DNSName(".").isRoot)
        #expect(DNSName.root.description == ".")
    }

    @Test func comparesWithoutCaseAndHashesAlike() throws {
        let lower = try DNSName("example.test")
        let mixed = try DNSName("ExAmPlE.TEST")
        #expect(lower == mixed)
        #expect(Set([lower, mixed]).count == 1)
        #expect(try DNSName("example.tes") != lower)
    }

    @Test func enforcesTheLabelAndNameLimitsOfRFC1035() throws {
        let label63 = String(repeating: "a", count: 63)
        #expect(try DNSName("\(label63).test").labels[0].count == 63)
        #expect(throws: DNSError.self) { try DNSName("\(label63)a.test") }

        // 253 characters of text is 255 octets on the wire: the largest name.
        let longest = [String](repeating: label63, count: 3).joined(separator: ".") + "." + String(repeating: "b", count: 61)
        #expect(longest.utf8.count == 253)
        #expect(try DNSName(longest).wireLength == 255)
        #expect(throws: DNSError.self) { try DNSName(longest + "b") }
    }

    @Test(arguments: ["", "..", "a..b", ".a", "exämple.test", "a b.test", "tab\t.test", "back\\slash.test", "[192.0.2.999]"])
    func refusesNamesThatNoValidAddressCarries(text: String) {
        #expect(throws: DNSError.self) { try DNSName(text) }
    }

    @Test func escapesOctetsThatWouldMakeTheTextAmbiguous() {
        let odd = DNSName(uncheckedLabels: [[0x61, 0x2E, 0x62], [0x00, 0x5C, 0xFF], Array("test".utf8)])
        #expect(odd.description == "a\\046b.\\000\\092\\255.test")
    }

    @Test func encodesUncompressed() throws {
        var bytes: [UInt8] = []
        try DNSName("mx.test").encode(into: &bytes)
        #expect(bytes == [2, 0x6D, 0x78, 4, 0x74, 0x65, 0x73, 0x74, 0])
        bytes = []
        DNSName.root.encode(into: &bytes)
        #expect(bytes == [0])
    }
}
