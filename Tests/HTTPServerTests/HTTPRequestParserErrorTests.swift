import Testing
@testable import HTTPServer

@Suite("Request parser: every bad input and limit, at every split")
struct HTTPRequestParserErrorTests {
    @Test func requestLine() {
        expectFailure("GE\u{1}T / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod)
        expectFailure(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod)
        expectFailure("GET\r\n\r\n", .invalidMethod)
        expectFailure("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget)
        expectFailure("GET /a\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget)
        expectFailure("GET example.com HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget)
        expectFailure("GET * HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget)
        expectFailure("GET /\r\n\r\n", .invalidVersion)
    }

    @Test func versions() {
        expectFailure("GET / HTTP/1\r\nHost: a\r\n\r\n", .invalidVersion)
        expectFailure("GET / HTTP/1.10\r\nHost: a\r\n\r\n", .invalidVersion)
        expectFailure("GET / http/1.1\r\nHost: a\r\n\r\n", .invalidVersion)
        expectFailure("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .invalidVersion)
        expectFailure("GET / HTTP/x.1\r\nHost: a\r\n\r\n", .invalidVersion)
        expectFailure("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion)
        expectFailure("GET / HTTP/0.9\r\nHost: a\r\n\r\n", .unsupportedVersion)
    }

    @Test func lineEndings() {
        expectFailure("GET / HTTP/1.1\nHost: a\r\n\r\n", .bareLineFeed)
        expectFailure("GET / HTTP/1.1\r\nHost: a\n\n", .bareLineFeed)
        expectFailure("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .bareLineFeed)
        expectFailure("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", .bareCarriageReturn)
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", .bareCarriageReturn)
    }

    @Test func headerFields() {
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\r\n", .obsoleteLineFolding)
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n\ttwo\r\n\r\n", .obsoleteLineFolding)
        expectFailure("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .invalidHeaderName)
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", .invalidHeaderName)
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\nNo colon\r\n\r\n", .invalidHeaderName)
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n", .invalidHeaderName)
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n", .invalidHeaderValue)
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}b\r\n\r\n", .invalidHeaderValue)
        expectFailure("GET / HTTP/1.1\r\nX: y\r\n\r\n", .missingHost)
        expectFailure("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", .duplicateHost)
        expectFailure("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", .unsupportedExpectation)
    }

    @Test func contentLength() {
        for value in ["-1", "+1", "1.0", "0x10", "", "1 2", "abc", "1234567890123456789", "99999999999999999999999", "1,2"] {
            expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value)\r\n\r\n", .invalidContentLength)
        }
        expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", .invalidContentLength)
        expectFailure(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            .conflictingFraming)
        expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", .bodyTooLarge)
    }

    @Test func transferEncoding() {
        let prefix = "POST / HTTP/1.1\r\nHost: a\r\n"
        expectFailure(prefix + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", .unsupportedTransferCoding)
        expectFailure(prefix + "Transfer-Encoding: gzip\r\n\r\n", .invalidTransferEncoding)
        expectFailure(prefix + "Transfer-Encoding: chunked, chunked\r\n\r\n", .invalidTransferEncoding)
        expectFailure(prefix + "Transfer-Encoding: chunked, gzip\r\n\r\n", .invalidTransferEncoding)
        expectFailure(prefix + "Transfer-Encoding:\r\n\r\n", .invalidTransferEncoding)
        expectFailure("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .invalidTransferEncoding)
    }

    @Test func chunks() {
        let prefix = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        expectFailure(prefix + "g\r\n", .invalidChunk)
        expectFailure(prefix + "\r\n", .invalidChunk)
        expectFailure(prefix + "-1\r\n", .invalidChunk)
        expectFailure(prefix + "0x5\r\nhello\r\n0\r\n\r\n", .invalidChunk)
        expectFailure(prefix + "1000000000000000\r\n", .invalidChunk)
        expectFailure(prefix + "5\r\nhelloX\r\n0\r\n\r\n", .invalidChunk)
        expectFailure(prefix + "5\r\nhello\rX0\r\n\r\n", .invalidChunk)
        expectFailure(prefix + "5\nhello\r\n0\r\n\r\n", .invalidChunk)
        expectFailure(prefix + "5 \r\nhello\r\n0\r\n\r\n", .invalidChunk)
        expectFailure(prefix + "5;a\u{1}b\r\nhello\r\n0\r\n\r\n", .invalidChunk)
        expectFailure(prefix + "5;" + String(repeating: "e", count: 5000) + "\r\n", .invalidChunk)
        expectFailure(prefix + "0\r\nX: a\u{1}\r\n\r\n", .invalidHeaderValue)
        expectFailure(prefix + "0\r\n folded\r\n\r\n", .obsoleteLineFolding)
        expectFailure(prefix + "0\r\nX: y\n\r\n", .bareLineFeed)
        let bigTrailer = "0\r\nX: " + String(repeating: "t", count: 300) + "\r\n\r\n"
        expectFailure(prefix + bigTrailer, .trailersTooLarge, limits: .init(maxHeadBytes: 256))
    }

    @Test func bodyLimitsAreCheckedBeforeTheBodyArrives() {
        let limits = HTTPRequestParser.Limits(maxBodyBytes: 10)
        expectFailure("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", .bodyTooLarge, limits: limits)
        expectFailure(
            "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 999999999\r\n\r\n", .bodyTooLarge,
            limits: limits)
        let chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n3\r\n"
        expectFailure(chunked, .bodyTooLarge, limits: limits)
        expectFailure("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n", .bodyTooLarge, limits: limits)
    }

    @Test func headLimits() {
        let limits = HTTPRequestParser.Limits(maxHeadBytes: 16_384, maxHeaderCount: 100)
        let huge = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "x", count: 16_384) + "\r\n\r\n"
        expectFailure(huge, .headTooLarge, limits: limits)
        let longTarget = "GET /" + String(repeating: "a", count: 17_000) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        expectFailure(longTarget, .headTooLarge, limits: limits)
        let manyFields = "GET / HTTP/1.1\r\nHost: a\r\n" + (0..<100).map { "F\($0): v\r\n" }.joined() + "\r\n"
        expectFailure(manyFields, .tooManyHeaders, limits: limits)
        let emptyLines = String(repeating: "\r\n", count: 9000)
        expectFailure(emptyLines, .headTooLarge, limits: limits)
    }

    @Test func garbageFailsAtItsFirstByte() {
        var parser = HTTPRequestParser()
        let tlsClientHello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
        #expect(parser.feed(tlsClientHello) == [.failure(.invalidMethod)])
        var binary = HTTPRequestParser()
        #expect(binary.feed([0x47, 0x45, 0x54, 0x00]) == [.failure(.invalidMethod)])
    }

    @Test func aFailedParserStaysFailed() {
        var parser = HTTPRequestParser()
        #expect(parser.feed(Array("GET / HTTP/1.1\nHost: a\r\n\r\n".utf8)) == [.failure(.bareLineFeed)])
        #expect(parser.feed(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)) == [.failure(.bareLineFeed)])
    }

    @Test func everyErrorHasItsStatus() {
        #expect(HTTPRequestParseError.headTooLarge.statusCode == 431)
        #expect(HTTPRequestParseError.tooManyHeaders.statusCode == 431)
        #expect(HTTPRequestParseError.bodyTooLarge.statusCode == 413)
        #expect(HTTPRequestParseError.unsupportedVersion.statusCode == 505)
        #expect(HTTPRequestParseError.unsupportedTransferCoding.statusCode == 501)
        #expect(HTTPRequestParseError.unsupportedExpectation.statusCode == 417)
        #expect(HTTPRequestParseError.obsoleteLineFolding.statusCode == 400)
        #expect(HTTPRequestParseError.invalidChunk.statusCode == 400)
    }
}
