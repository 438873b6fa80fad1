import MailgateTesting
import Testing
@testable import DNSClient

/// Packets a hostile or broken server could send: each must end in `malformedResponse`
/// (never a trap, never a loop), however the octets are arranged.
@Suite struct DNSHostilePacketTests {
    /// A response header with the given counts, followed by `body`.
    private func packet(questions: UInt16 = 0, answers: UInt16 = 0, _ body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0x12, 0x34, 0x81, 0x80]
        for count in [questions, answers, 0, 0] { bytes.appendBigEndian(count) }
        return bytes + body
    }

    private func expectMalformed(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation, performing: { _ = try DNSMessage.decode(bytes) }, throws: { error in
            if case .malformedResponse = error as? DNSError { return true }
            return false
        })
    }

    /// An A record for `x.test` with the given RDATA length and RDATA.
    private func aRecord(length: UInt16, rdata: [UInt8], type: UInt16 = 1) -> [UInt8] {
        var bytes: [UInt8] = [1, 0x78, 4, 0x74, 0x65, 0x73, 0x74, 0]
        bytes.appendBigEndian(type)
        bytes += [0, 1, 0, 0, 0, 60]
        bytes.appendBigEndian(length)
        return bytes + rdata
    }

    @Test func refusesAnythingShorterThanAHeader() {
        for length in 0..<DNSMessage.headerLength {
            expectMalformed(Array(CapturedPacket.mxResponse.prefix(length)))
        }
    }

    @Test func refusesEveryTruncationOfRealPackets() {
        for captured in [CapturedPacket.mxResponse, CapturedPacket.aaaaResponse, CapturedPacket.nxdomainResponse] {
            for length in DNSMessage.headerLength..<captured.count {
                expectMalformed(Array(captured.prefix(length)))
            }
        }
    }

    @Test func refusesAPointerToItself() {
        expectMalformed(packet(questions: 1, [0xC0, 0x0C, 0, 1, 0, 1]))
    }

    @Test func refusesALoopThroughLabels() {
        // "abc" then a pointer back to the start of the same name.
        expectMalformed(packet(questions: 1, [3, 0x61, 0x62, 0x63, 0xC0, 0x0C, 0, 1, 0, 1]))
    }

    @Test func refusesALoopBetweenTwoNames() {
        // The question name is "a" + pointer to the answer's name, which points back to the question.
        let question: [UInt8] = [1, 0x61, 0xC0, 0x12, 0, 1, 0, 1]
        let answer: [UInt8] = [1, 0x62, 0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]
        expectMalformed(packet(questions: 1, answers: 1, question + answer))
    }

    @Test func refusesForwardAndOutOfBoundsPointers() {
        expectMalformed(packet(questions: 1, [0xC0, 0x20, 0, 1, 0, 1]))
        expectMalformed(packet(questions: 1, [0xFF, 0xFF, 0, 1, 0, 1]))
        expectMalformed(packet(questions: 1, [0xC0]))
    }

    @Test func refusesLabelsRunningPastTheEnd() {
        expectMalformed(packet(questions: 1, [63, 0x61, 0x62]))
        expectMalformed(packet(questions: 1, [3, 0x61, 0x62, 0x63]))
    }

    @Test func refusesExtendedLabelTypes() {
        expectMalformed(packet(questions: 1, [0x41, 0, 0, 1, 0, 1]))
        expectMalformed(packet(questions: 1, [0x80, 0, 0, 1, 0, 1]))
    }

    @Test func refusesNamesLongerThan255OctetsEvenThroughPointers() {
        // Four 63-octet labels make 257 octets with the root: one too many.
        let label = [UInt8](repeating: 0x61, count: 63)
        var body: [UInt8] = []
        for _ in 0..<4 { body += [63] + label }
        expectMalformed(packet(questions: 1, body + [0, 0, 1, 0, 1]))
        // The same length reached by pointing at a name of three such labels.
        var three: [UInt8] = []
        for _ in 0..<3 { three += [63] + label }
        let question = three + [0, 0, 1, 0, 1]
        let answerName = [63] + label + [0xC0, 0x0C]
        expectMalformed(packet(questions: 1, answers: 1, question + answerName + [0, 1, 0, 1, 0, 0, 0, 0, 0, 0]))
    }

    @Test func refusesCountsLargerThanThePacket() {
        expectMalformed(packet(questions: .max, [0, 0, 1, 0, 1]))
        expectMalformed(packet(answers: .max, aRecord(length: 4, rdata: [127, 0, 0, 1])))
        var header = Array(CapturedPacket.mxResponse.prefix(12))
        header[10] = 0xFF
        header[11] = 0xFF
        expectMalformed(header + CapturedPacket.mxResponse.dropFirst(12))
    }

    @Test func refusesRDATALongerThanThePacket() {
        expectMalformed(packet(answers: 1, aRecord(length: 400, rdata: [127, 0, 0, 1])))
    }

    @Test func refusesAddressesOfTheWrongLength() {
        expectMalformed(packet(answers: 1, aRecord(length: 5, rdata: [127, 0, 0, 1, 9])))
        expectMalformed(packet(answers: 1, aRecord(length: 3, rdata: [127, 0, 0])))
        expectMalformed(packet(answers: 1, aRecord(length: 4, rdata: [0, 0, 0, 0], type: 28)))
    }

    @Test func refusesNamesThatDoNotFillTheirRDATA() {
        // MX RDATA: preference 10, exchange "mx" + root = 6 octets, declared as 8 and as 5.
        let exchange: [UInt8] = [0, 10, 2, 0x6D, 0x78, 0]
        expectMalformed(packet(answers: 1, aRecord(length: 8, rdata: exchange + [0, 0], type: 15)))
        expectMalformed(packet(answers: 1, aRecord(length: 5, rdata: exchange, type: 15)))
        // CNAME RDATA whose name runs on past its declared length.
        expectMalformed(packet(answers: 1, aRecord(length: 2, rdata: [2, 0x6D, 0x78, 0], type: 5)))
    }

    /// Random damage to real packets, with a fixed seed: every variant either decodes
    /// or throws `malformedResponse`; a trap or a hang would fail the run.
    @Test func survivesRandomDamage() {
        var generator = SeededGenerator(seed: 0xD15EA5E)
        let originals = [CapturedPacket.mxResponse, CapturedPacket.aaaaResponse, CapturedPacket.nxdomainResponse]
        var decoded = 0
        var refused = 0
        for round in 0..<3000 {
            var damaged = originals[round % originals.count]
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<damaged.count, using: &generator)
                damaged[index] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) {
                damaged = Array(damaged.prefix(Int.random(in: 0...damaged.count, using: &generator)))
            }
            do {
                _ = try DNSMessage.decode(damaged)
                decoded += 1
            } catch {
                guard case .malformedResponse = error else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                refused += 1
            }
        }
        #expect(decoded + refused == 3000)
        #expect(decoded > 0 && refused > 0)
    }
}
