import Testing
@testable import DNSClient

/// Which received packets count as the answer to a query (RFC 5452 §4.1), without sockets.
@Suite struct DNSResponseMatchingTests {
    private let query = DNSMessage.query(id: 0x1234, name: name("multi.test"), type: .mx, ednsPayloadSize: 1232)

    private func reply(id: UInt16 = 0x1234, name replyName: String = "multi.test", type: DNSRecordType = .mx,
                       responseCode: UInt8 = 0, isResponse: Bool = true) -> DNSMessage {
        var message = DNSMessage(header: DNSHeader(id: id, isResponse: isResponse, responseCode: responseCode))
        message.questions = [DNSQuestion(name: name(replyName), type: type)]
        message.answers = [DNSResourceRecord(name: name(replyName), type: .mx, data: .mx(preference: 1, exchange: name("mx.test")))]
        return message
    }

    @Test func acceptsTheAnswerEvenInAnotherCase() throws {
        #expect(try query.response(from: reply().encoded()) == reply())
        #expect(try query.response(from: reply(name: "MULTI.test").encoded()) != nil)
    }

    @Test func ignoresPacketsThatAnswerSomethingElse() throws {
        #expect(try query.response(from: reply(id: 0x1235).encoded()) == nil)
        #expect(try query.response(from: reply(name: "other.test").encoded()) == nil)
        #expect(try query.response(from: reply(type: .a).encoded()) == nil)
        #expect(try query.response(from: reply(isResponse: false).encoded()) == nil)
        #expect(try query.response(from: [0x12]) == nil)
        #expect(try query.response(from: [0x12, 0x35] + [UInt8](repeating: 0xFF, count: 30)) == nil)
    }

    @Test func throwsForGarbageCarryingOurId() {
        #expect(throws: DNSError.self) {
            try query.response(from: [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C])
        }
    }

    @Test func acceptsFORMERRWithoutAQuestion() throws {
        var formatError = DNSMessage(header: DNSHeader(id: 0x1234, isResponse: true, responseCode: 1))
        formatError.questions = []
        #expect(try query.response(from: formatError.encoded())?.responseCode == DNSResponseCode.formatError)
        var noQuestion = formatError
        noQuestion.header.responseCode = 0
        #expect(try query.response(from: noQuestion.encoded()) == nil)
    }

    @Test func readsATruncatedAnswerOnlyUpToItsQuestion() throws {
        var truncated = reply()
        truncated.header.isTruncated = true
        // Cut in the middle of the answer record, as some servers truncate.
        let cut = Array(truncated.encoded().dropLast(5))
        let response = try #require(try query.response(from: cut))
        #expect(response.header.isTruncated)
        #expect(response.answers.isEmpty)
    }
}
