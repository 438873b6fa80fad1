import Foundation
import Testing
@testable import HTTPServer

extension LiveServerTests {
    @Test func keepAliveConnectionServesSeveralRequests() async throws {
        try await withServer { server, port in
            let client = try TestClient(port: port)
            for index in 0..<5 {
                try client.send("GET /items/\(index) HTTP/1.1\r\nHost: test\r\n\r\n")
                let response = try #require(try client.readResponse())
                #expect(response.status == 200)
                #expect(response.text == "item \(index)")
                #expect(response.header("Connection") == nil)
                #expect(response.header("Date")?.hasSuffix(" GMT") == true)
                #expect(response.header("Content-Length") == String(response.body.count))
            }
            #expect(server.openConnectionCount == 1)
        }
    }

    @Test func curlReusesTheConnection() async throws {
        try await withServer { _, port in
            let url = "http://127.0.0.1:\(port)"
            let result = try curl(["--verbose", "\(url)/hello", "\(url)/items/7"])
            #expect(result.status == 0)
            #expect(result.output == "helloitem 7")
            #expect(result.errors.contains("Re-using existing connection"))
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withServer { _, port in
            let client = try TestClient(port: port)
            let words = ["one", "two", "three", "four", "five", "six"]
            // Mixed inline and deferred answers: order must still hold.
            let requests = words.enumerated().map { index, word in
                index % 2 == 0 ? "GET /later/\(word) HTTP/1.1\r\nHost: t\r\n\r\n"
                    : "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(word.utf8.count)\r\n\r\n\(word)"
            }
            try client.send(requests.joined())
            for word in words {
                let response = try #require(try client.readResponse())
                #expect(response.text == word)
            }
        }
    }

    @Test func handlerMayAnswerFromAnotherThread() async throws {
        try await withServer { _, port in
            let result = try curl(["http://127.0.0.1:\(port)/later/elsewhere"])
            #expect(result.output == "elsewhere")
        }
    }

    @Test func headGetsTheHeadersOfGet() async throws {
        try await withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /items/after HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try #require(try client.readResponse(bodyExpected: false))
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "5")
            #expect(head.header("Content-Type") == "text/plain")
            // The next bytes are the next response: no body was sent for HEAD.
            let next = try #require(try client.readResponse())
            #expect(next.text == "item after")
        }
    }

    @Test func unknownPathsAndMethodsGetProblemResponses() async throws {
        try await withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n")
            let notFound = try #require(try client.readResponse())
            #expect(notFound.status == 404)
            #expect(notFound.header("Content-Type") == "application/problem+json")
            #expect(notFound.text.contains(#""type":"about:blank","title":"Not Found","status":404"#))
            for method in ["DELETE", "TRACE", "PUT", "BREW", "OPTIONS"] {
                try client.send("\(method) /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try #require(try client.readResponse())
                #expect(response.status == 405, "\(method)")
                #expect(response.header("Allow") == "GET, HEAD")
                #expect(response.text.contains(#""status":405"#))
            }
        }
    }

    @Test func curlExpectContinueOnLargeBodies() async throws {
        try await withServer { _, port in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-expect-\(port)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // curl sends `Expect: 100-continue` for uploads over 1 KiB and POSTs over 1 MiB.
            for (name, size, arguments) in [("upload", 4096, ["-X", "POST", "-T"]), ("post", 2_000_000, ["--data-binary"])] {
                let file = directory.appendingPathComponent(name)
                let body = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) })
                try body.write(to: file)
                let argument = arguments.last == "-T" ? file.path : "@" + file.path
                let result = try curl(["--verbose", "-o", directory.appendingPathComponent("\(name).out").path]
                    + arguments + [argument, "http://127.0.0.1:\(port)/echo"])
                #expect(result.status == 0)
                #expect(result.errors.contains("Expect: 100-continue"), "\(name)")
                #expect(result.errors.contains("HTTP/1.1 100 Continue"), "\(name)")
                #expect(result.errors.contains("X-Body-Length: \(size)"), "\(name)")
                #expect(try Data(contentsOf: directory.appendingPathComponent("\(name).out")) == body)
            }
        }
    }

    @Test func expectContinueOverRawSocket() async throws {
        try await withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
            let interim = try #require(try client.readResponse(bodyExpected: false))
            #expect(interim.status == 100)
            try client.send("ping")
            let final = try #require(try client.readResponse())
            #expect(final.status == 200)
            #expect(final.text == "ping")
        }
    }

    @Test func chunkedUploads() async throws {
        try await withServer { _, port in
            let body = String(repeating: "chunked-body ", count: 500)
            let result = try curl([
                "-H", "Transfer-Encoding: chunked", "--data-binary", body, "http://127.0.0.1:\(port)/echo",
            ])
            #expect(result.output == body)

            let client = try TestClient(port: port)
            try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            try client.send("3;ext=1\r\nabc\r\n")
            try client.send("2\r\nde\r\n0\r\nX-Trailer: yes\r\n\r\n")
            let response = try #require(try client.readResponse())
            #expect(response.text == "abcde")
        }
    }

    @Test func http10ClosesUnlessKeepAlive() async throws {
        try await withServer { _, port in
            let closing = try TestClient(port: port)
            try closing.send("GET /hello HTTP/1.0\r\n\r\n")
            let first = try #require(try closing.readResponse())
            #expect(first.header("Connection") == "close")
            #expect(try closing.readsEndOfStream())

            let persistent = try TestClient(port: port)
            try persistent.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let kept = try #require(try persistent.readResponse())
            #expect(kept.header("Connection") == "keep-alive")
            try persistent.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let last = try #require(try persistent.readResponse())
            #expect(last.header("Connection") == "close")
            #expect(try persistent.readsEndOfStream())
        }
    }

    @Test func halfClosedClientStillGetsItsAnswer() async throws {
        try await withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /later/bye HTTP/1.1\r\nHost: t\r\n\r\n")
            client.shutdownWrite()
            let response = try #require(try client.readResponse())
            #expect(response.text == "bye")
            #expect(try client.readsEndOfStream())
        }
    }

    @Test func observerSeesRoutesStatusesAndIDs() async throws {
        let observer = RecordingObserver()
        try await withServer(observer: observer) { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /items/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /missing HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try client.readResponse()
            _ = try client.readResponse()
            try client.send("GET /\u{1} HTTP/1.1\r\n\r\n")
            _ = try client.readResponse()
        }
        let summaries = observer.summaries.withLock { $0 }
        #expect(summaries.map(\.route) == ["/items/{id}", Router.unmatchedRoute, HTTPExchangeSummary.serverRoute])
        #expect(summaries.map(\.status) == [200, 404, 400])
        #expect(summaries.map(\.method) == [.get, .get, nil])
        #expect(Set(summaries.map(\.requestID)).count == 3)
    }
}
