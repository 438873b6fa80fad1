import Testing
@testable import HTTPServer

@Suite("Request parser: valid requests, at every split")
struct HTTPRequestParserTests {
    @Test func simpleGet() throws {
        let messages = expectMessages("GET /healthz HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n")
        let head = try #require(messages.first?.head)
        #expect(messages.count == 1)
        #expect(head.method == .get)
        #expect(head.target == "/healthz")
        #expect(head.version == .http1_1)
        #expect(head.keepAlive)
        #expect(!head.expectsContinue)
        #expect(head.framing == .none)
        #expect(head.headers["host"] == "localhost")
        #expect(head.headers["ACCEPT"] == "*/*")
    }

    @Test func headerLookupIsCaseInsensitiveAndRepeatedFieldsKeepTheirOrder() throws {
        let text = "GET / HTTP/1.1\r\nHost: a\r\nX-Tag: one\r\nx-tag:two  \r\nX-TAG: \t three\r\nEmpty:\r\n\r\n"
        let head = try #require(expectMessages(text).first?.head)
        #expect(head.headers.values(for: "x-tag") == ["one", "two", "three"])
        #expect(head.headers["X-Tag"] == "one")
        #expect(head.headers["empty"] == "")
        #expect(head.headers.count == 5)
        #expect(head.headers.map(\.name) == ["Host", "X-Tag", "x-tag", "X-TAG", "Empty"])
        #expect(!head.headers.contains("missing"))
    }

    @Test func contentLengthBody() throws {
        let messages = expectMessages("POST /v1/messages HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world")
        #expect(messages.count == 1)
        #expect(messages.first?.head.framing == .contentLength(11))
        #expect(messages.first?.body == Array("hello world".utf8))
    }

    @Test func repeatedIdenticalContentLengthIsAccepted() throws {
        let messages = expectMessages("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc")
        #expect(messages.first?.body == Array("abc".utf8))
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() throws {
        let text = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value;flag\r\nhello\r\n"
            + "1 ; spaced=\"quoted\"\r\n \r\n"
            + "A\r\n0123456789\r\n"
            + "0\r\nX-Checksum: abc\r\nX-Other: def\r\n\r\n"
        let messages = expectMessages(text)
        #expect(messages.count == 1)
        #expect(messages.first?.head.framing == .chunked)
        #expect(messages.first?.body == Array("hello 0123456789".utf8))
    }

    @Test func transferEncodingIsCaseInsensitive() throws {
        let messages = expectMessages("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n")
        #expect(messages.first?.body == [])
    }

    @Test func pipelinedRequestsComeOutInOrder() throws {
        let text = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
            + "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
            + "GET /4 HTTP/1.1\r\nHost: a\r\n\r\n"
        let messages = expectMessages(text)
        #expect(messages.map(\.head.target) == ["/1", "/2", "/3", "/4"])
        #expect(messages.map(\.body) == [[], Array("hi".utf8), Array("ok".utf8), []])
    }

    @Test func emptyLinesBeforeARequestAreIgnored() throws {
        let messages = expectMessages("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(messages.count == 1)
    }

    @Test func connectionPersistence() throws {
        let cases: [(String, Bool)] = [
            ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n", false),
            ("GET / HTTP/1.0\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
            ("GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n\r\n", false),
        ]
        for (text, keepAlive) in cases {
            #expect(expectMessages(text).first?.head.keepAlive == keepAlive, "\(text)")
        }
    }

    @Test func expectContinueOnlyOnHTTP11() throws {
        let http11 = expectMessages("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx")
        #expect(http11.first?.head.expectsContinue == true)
        let http10 = expectMessages("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")
        #expect(http10.first?.head.expectsContinue == false)
    }

    @Test func headIsAnnouncedBeforeTheBodyArrives() throws {
        var parser = HTTPRequestParser()
        let events = parser.feed(Array("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        guard case .headReceived(let head)? = events.first else {
            Issue.record("expected headReceived, got \(events)")
            return
        }
        #expect(head.expectsContinue)
        #expect(parser.isReadingBody)
        #expect(parser.feed(Array("abc".utf8)) == [.message(head, body: Array("abc".utf8))])
        #expect(parser.isAtRequestStart)
    }

    @Test func targetForms() throws {
        #expect(expectMessages("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").first?.head.target == "*")
        let absolute = expectMessages("GET http://example.com/a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n")
        #expect(absolute.first?.head.target == "http://example.com/a?b=c")
        let request = HTTPRequest(method: .get, target: "http://example.com/a?b=c")
        #expect(request.path == "/a")
        #expect(request.query == "b=c")
    }

    @Test func unknownMethodsAndHigherMinorVersionsParse() throws {
        let head = try #require(expectMessages("BREW /pot HTTP/1.9\r\nHost: a\r\n\r\n").first?.head)
        #expect(head.method.rawValue == "BREW")
        #expect(head.version == HTTPVersion(major: 1, minor: 9))
        #expect(head.keepAlive)
    }

    @Test func limitsAreInclusive() throws {
        let base = "GET / HTTP/1.1\r\nHost: a\r\nX: "
        let padding = String(repeating: "p", count: 1024 - base.utf8.count - 4)
        let exact = base + padding + "\r\n\r\n"
        #expect(exact.utf8.count == 1024)
        let limits = HTTPRequestParser.Limits(maxHeadBytes: 1024, maxHeaderCount: 3, maxBodyBytes: 5)
        #expect(expectMessages(exact, limits: limits).count == 1)
        expectFailure(base + padding + "p\r\n\r\n", .headTooLarge, limits: limits)

        let body = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n12345"
        #expect(expectMessages(body, limits: limits).first?.body.count == 5)
        let chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n12\r\n3\r\n345\r\n0\r\n\r\n"
        #expect(expectMessages(chunked, limits: limits).first?.body.count == 5)

        let threeHeaders = "GET / HTTP/1.1\r\nHost: a\r\nB: b\r\nC: c\r\n\r\n"
        #expect(expectMessages(threeHeaders, limits: limits).count == 1)
    }
}
