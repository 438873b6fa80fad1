import Foundation
import Testing
@testable import HTTPServer

extension LiveServerTests {
    @Test func slowlorisIsCutAfterTheHeaderTimeout() async throws {
        try await withServer({ $0.headerReadTimeout = .milliseconds(300) }) { server, port in
            let client = try TestClient(port: port)
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n")
            try client.send("X-Slow: 1\r\n")
            let response = try #require(try client.readResponse())
            #expect(response.status == 408)
            #expect(response.header("Connection") == "close")
            #expect(try client.readsEndOfStream())
            // Others are still served.
            #expect(try curl(["http://127.0.0.1:\(port)/hello"]).output == "hello")
            #expect(await eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func stalledBodyIsCutAfterTheIdleTimeout() async throws {
        try await withServer({ $0.idleTimeout = .milliseconds(300) }) { _, port in
            let client = try TestClient(port: port)
            try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            let response = try #require(try client.readResponse())
            #expect(response.status == 408)
            #expect(try client.readsEndOfStream())
        }
    }

    @Test func silentAndIdleConnectionsAreClosed() async throws {
        try await withServer({
            $0.headerReadTimeout = .milliseconds(300)
            $0.idleTimeout = .milliseconds(300)
        }) { _, port in
            let silent = try TestClient(port: port)
            #expect(try silent.readsEndOfStream())

            let idle = try TestClient(port: port)
            try idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try idle.readResponse()?.status == 200)
            #expect(try idle.readsEndOfStream())
        }
    }

    @Test func garbageGets400AndClose() async throws {
        try await withServer { _, port in
            for garbage in ["\u{16}\u{3}\u{1}\u{2}\u{0}binary", "GET / HTTP/1.1\nHost: t\n\n", "HELLO\r\n\r\n",
                            "GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n"] {
                let client = try TestClient(port: port)
                try client.send(garbage)
                let response = try #require(try client.readResponse())
                #expect(response.status == 400, "\(garbage.debugDescription)")
                #expect(response.header("Content-Type") == "application/problem+json")
                #expect(response.header("Connection") == "close")
                #expect(try client.readsEndOfStream())
            }
        }
    }

    @Test func oversizedHeadGets431() async throws {
        try await withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "b", count: 17_000) + "\r\n\r\n")
            let response = try #require(try client.readResponse())
            #expect(response.status == 431)
            #expect(try client.readsEndOfStream())
        }
    }

    @Test func oversizedBodyGets413WithoutBeingRead() async throws {
        try await withServer({ $0.maxBodyBytes = 1000 }) { _, port in
            // The body is never sent: the answer cannot depend on reading it.
            let declared = try TestClient(port: port)
            try declared.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 50000000\r\n\r\n")
            let response = try #require(try declared.readResponse())
            #expect(response.status == 413)
            #expect(response.header("Connection") == "close")
            #expect(try declared.readsEndOfStream())

            let expecting = try TestClient(port: port)
            try expecting.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
            #expect(try expecting.readResponse()?.status == 413)

            let chunked = try TestClient(port: port)
            try chunked.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n")
            #expect(try chunked.readResponse()?.status == 413)

            let big = String(repeating: "x", count: 5000)
            let result = try curl(["--data-binary", big, "-w", "%{http_code}", "-o", "/dev/null", "http://127.0.0.1:\(port)/echo"])
            #expect(result.output == "413")
        }
    }

    @Test func pipelinedInputIsNotReadWhileAResponseIsPending() async throws {
        let gate = Gate()
        try await withServer(router: makeTestRouter(gate: gate)) { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /gate HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await eventually { gate.arrived == 1 })
            // The server holds at most one read of what follows; the kernel buffers
            // fill and the client is blocked long before the limit.
            let flood = Array(String(repeating: "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", count: 1000).utf8)
            let limit = 256 << 20
            let sent = client.sendUntilBlocked(flood, limit: limit)
            #expect(sent < limit)
            gate.open()
            #expect(try client.readResponse()?.text == "released")
            #expect(try client.readResponse()?.text == "hello")
        }
    }

    @Test func twoHundredConcurrentConnectionsAreAllAnswered() async throws {
        try await withServer { server, port in
            let clients = try (0..<200).map { _ in try TestClient(port: port) }
            for (index, client) in clients.enumerated() {
                try client.send("GET /items/\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
            }
            for (index, client) in clients.enumerated() {
                #expect(try client.readResponse()?.text == "item \(index)")
            }
            #expect(server.openConnectionCount == 200)
        }
    }

    @Test func connectionsBeyondTheCapAreRefused() async throws {
        try await withServer({ $0.maxConnections = 3 }) { server, port in
            var clients = try (0..<3).map { _ in try TestClient(port: port) }
            for client in clients {
                try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse()?.status == 200)
            }
            let refused = try TestClient(port: port)
            let answer = try refused.readResponse()
            #expect(answer?.status == 503)
            #expect(try refused.readsEndOfStream())

            clients.removeLast()
            #expect(await eventually { server.openConnectionCount == 2 })
            let admitted = try TestClient(port: port)
            try admitted.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try admitted.readResponse()?.status == 200)
        }
    }

    @Test func manyConnectionsLeakNoDescriptors() async throws {
        let before = openFileDescriptorCount()
        try await withServer({ $0.headerReadTimeout = .milliseconds(200) }) { server, port in
            for round in 0..<300 {
                let client = try TestClient(port: port)
                switch round % 5 {
                case 0:
                    try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                    _ = try client.readResponse()
                case 1:
                    try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nshort")
                case 2:
                    try client.send("garbage\r\n\r\n")
                case 3:
                    try client.send("GET /later/x HTTP/1.1\r\nHost: t\r\n\r\n")
                default:
                    break
                }
            }
            #expect(await eventually { server.openConnectionCount == 0 && server.unfinishedRequestCount == 0 })
        }
        // Responders still held by finishing handler threads keep their loop's
        // eventfd open a moment longer; a leak would never converge.
        #expect(await eventually { openFileDescriptorCount() == before }, "\(openFileDescriptorCount()) open, \(before) before")
    }
}
