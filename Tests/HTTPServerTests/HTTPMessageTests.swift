import JSON
import Testing
@testable import HTTPServer

@Suite("Requests, responses, headers, query strings")
struct HTTPMessageTests {
    @Test func queryParameters() {
        let query = HTTPQueryParameters(query: "status=deferred&limit=50&cursor=a%2Bb%3D&name=J%C3%BCrg+en&flag&empty=&status=queued")
        #expect(query["status"] == "deferred")
        #expect(query.values(for: "status") == ["deferred", "queued"])
        #expect(query["limit"] == "50")
        #expect(query["cursor"] == "a+b=")
        #expect(query["name"] == "Jürg en")
        #expect(query["flag"] == "")
        #expect(query["empty"] == "")
        #expect(query["missing"] == nil)
        #expect(HTTPQueryParameters(query: "").pairs.isEmpty)
        #expect(HTTPQueryParameters(query: "a=%zz%4").pairs.first?.value == "%zz%4")
        #expect(HTTPQueryParameters.percentDecode("a+b%20c") == "a+b c")
    }

    @Test func requestPathAndQuery() {
        let request = HTTPRequest(method: .get, target: "/v1/messages?status=queued&limit=2")
        #expect(request.path == "/v1/messages")
        #expect(request.query == "status=queued&limit=2")
        #expect(request.queryParameters["limit"] == "2")
        #expect(HTTPRequest(method: .get, target: "/plain").query == nil)
        #expect(HTTPRequest(method: .get, target: "/empty?").query == "")
        #expect(HTTPRequest(method: .get, target: "https://host:8443?x=1").path == "/")
    }

    @Test func headersBuiltByHandlers() {
        var headers: HTTPHeaders = ["Content-Type": "application/json", "Set-Cookie": "a=1"]
        headers.add(name: "set-cookie", value: "b=2")
        #expect(headers.values(for: "SET-COOKIE") == ["a=1", "b=2"])
        headers.replaceOrAdd(name: "Set-Cookie", value: "c=3")
        #expect(headers.values(for: "set-cookie") == ["c=3"])
        headers.remove(name: "content-type")
        #expect(headers["Content-Type"] == nil)
        #expect(headers.count == 1)
    }

    @Test func headerInjectionIsImpossible() {
        var headers = HTTPHeaders()
        headers.add(name: "X-Evil\r\nInjected", value: "value\r\nSet-Cookie: stolen=1")
        var output: [UInt8] = []
        HTTPResponseWriter.write(HTTPResponse(headers: headers), persistence: .keepAlive, includeBody: true,
                                 dateLine: Array("Date: x\r\n".utf8), into: &output)
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains("X-Evil--Injected: value  Set-Cookie: stolen=1\r\n"))
        #expect(!text.contains("\r\nSet-Cookie"))
    }

    @Test func responsesAreFramedByTheServer() {
        var output: [UInt8] = []
        let response = HTTPResponse(status: .accepted, headers: ["Content-Length": "999", "Connection": "keep-alive",
                                                                 "Transfer-Encoding": "chunked", "X-Kept": "yes"],
                                    body: Array("{}".utf8))
        HTTPResponseWriter.write(response, persistence: .close, includeBody: true, dateLine: Array("Date: d\r\n".utf8), into: &output)
        #expect(String(decoding: output, as: UTF8.self)
            == "HTTP/1.1 202 Accepted\r\nX-Kept: yes\r\nContent-Length: 2\r\nDate: d\r\nConnection: close\r\n\r\n{}")

        var head: [UInt8] = []
        HTTPResponseWriter.write(HTTPResponse(body: Array("12345678901".utf8)), persistence: .keepAliveHTTP10,
                                 includeBody: false, dateLine: [], into: &head)
        #expect(String(decoding: head, as: UTF8.self) == "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n")

        var noContent: [UInt8] = []
        HTTPResponseWriter.write(HTTPResponse(status: .noContent, body: Array("dropped".utf8)), persistence: .keepAlive,
                                 includeBody: true, dateLine: [], into: &noContent)
        #expect(String(decoding: noContent, as: UTF8.self) == "HTTP/1.1 204 No Content\r\n\r\n")
    }

    @Test func dateLineIsIMFFixdate() {
        #expect(String(decoding: HTTPDateCache.headerLine(forUnixTime: 784_111_777), as: UTF8.self)
            == "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n")
        var cache = HTTPDateCache()
        cache.update()
        #expect(cache.headerLine.count == "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n".utf8.count)
    }

    @Test func problemResponsesCarryExtraMembers() throws {
        let response = HTTPResponse.problem(
            status: .unprocessableContent, detail: "2 fields are invalid.",
            extra: ["errors": [["field": "to[1]", "message": "not an address"]]],
            headers: ["Retry-After": "5"])
        #expect(response.status.code == 422)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(response.headers["Retry-After"] == "5")
        #expect(String(decoding: response.body, as: UTF8.self)
            == #"{"type":"about:blank","title":"Unprocessable Content","status":422,"detail":"2 fields are invalid.","errors":[{"field":"to[1]","message":"not an address"}]}"#)
        let bare = try JSONParser.parse(HTTPResponse.problem(status: .notFound).body)
        #expect(bare == ["type": "about:blank", "title": "Not Found", "status": 404])
    }

    @Test func listenAddresses() throws {
        #expect(try SocketAddress.parse("127.0.0.1:8080").description == "127.0.0.1:8080")
        #expect(try SocketAddress.parse("0.0.0.0:0").description == "0.0.0.0:0")
        #expect(try SocketAddress.parse("[::]:8080").description == "[::]:8080")
        #expect(try SocketAddress.parse("[::]:8080").isIPv6Unspecified)
        #expect(try SocketAddress.parse("[::1]:0").description == "[::1]:0")
        #expect(try SocketAddress.parse("localhost:9").description == "127.0.0.1:9")
        for bad in ["", ":80", "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:65536", "[::1:80", "::1:80", "[127.0.0.1]:80", "host:80"] {
            #expect(throws: HTTPServerError.invalidListenAddress(bad)) { try SocketAddress.parse(bad) }
        }
    }
}
