import Foundation
import Testing
@testable import HTTPServer

extension LiveServerTests {
    @Test func drainingRefusesNewWorkAndFinishesWhatIsInFlight() async throws {
        let gate = Gate()
        try await withServer({ $0.retryAfterSecondsWhenDraining = 7 }, router: makeTestRouter(gate: gate)) { server, port in
            let inFlight = try TestClient(port: port)
            try inFlight.send("GET /gate HTTP/1.1\r\nHost: t\r\n\r\n")
            let idle = try TestClient(port: port)
            try idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try idle.readResponse()?.status == 200)
            #expect(await eventually { gate.arrived == 1 })

            server.beginDraining()
            #expect(server.isDraining)
            #expect(throws: TestClientError.self) { try TestClient(port: port) }

            try idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let refused = try #require(try idle.readResponse())
            #expect(refused.status == 503)
            #expect(refused.header("Retry-After") == "7")
            #expect(refused.header("Connection") == "close")
            #expect(refused.header("Content-Type") == "application/problem+json")
            #expect(try idle.readsEndOfStream())

            #expect(!server.waitUntilIdle(timeout: .milliseconds(50)))
            gate.open()
            let finished = try #require(try inFlight.readResponse())
            #expect(finished.status == 200)
            #expect(finished.text == "released")
            #expect(finished.header("Connection") == "close")
            #expect(try inFlight.readsEndOfStream())
            #expect(await server.waitUntilIdle(timeout: .seconds(10)))
        }
    }

    @Test func aRequestWhoseBodyIsArrivingWhenDrainingBeginsIsServed() async throws {
        try await withServer { server, port in
            let uploading = try TestClient(port: port)
            try uploading.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n012")
            #expect(await eventually { server.unfinishedRequestCount == 1 })

            server.beginDraining()
            #expect(!server.waitUntilIdle(timeout: .milliseconds(50)), "the upload is in flight")
            try uploading.send("3456789")
            let served = try #require(try uploading.readResponse())
            #expect(served.status == 200)
            #expect(served.text == "0123456789")
            #expect(served.header("Connection") == "close")
            #expect(try uploading.readsEndOfStream())
            #expect(await server.waitUntilIdle(timeout: .seconds(10)))
            #expect(await server.waitUntilConnectionsClose(timeout: .seconds(10)))
        }
    }

    @Test func listensOnIPv6Loopback() async throws {
        try await withServer({ $0.listenAddress = "[::1]:0" }) { server, port in
            #expect(server.localAddress == "[::1]:\(port)")
            let client = try TestClient(port: port, host: "::1")
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse()?.text == "hello")
            let result = try curl(["-g", "http://[::1]:\(port)/items/v6"])
            #expect(result.output == "item v6")
        }
    }

    @Test func unspecifiedIPv6AddressAlsoServesIPv4() async throws {
        try await withServer({ $0.listenAddress = "[::]:0" }) { _, port in
            let client = try TestClient(port: port, host: "127.0.0.1")
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse()?.status == 200)
        }
    }

    @Test func startFailuresAreTyped() async throws {
        for bad in ["nonsense", "127.0.0.1", "127.0.0.1:99999", "[::1]8080", "example.com:80", "1.2.3:80"] {
            let server = HTTPServer(configuration: HTTPServerConfiguration(listenAddress: bad), handler: Router())
            #expect(throws: HTTPServerError.invalidListenAddress(bad)) { try server.start() }
        }
        try await withServer { first, port in
            let second = HTTPServer(configuration: HTTPServerConfiguration(listenAddress: "127.0.0.1:\(port)"), handler: Router())
            #expect(throws: HTTPServerError.addressInUse("127.0.0.1:\(port)")) { try second.start() }
            #expect(throws: HTTPServerError.self) { try first.start() }
        }
    }

    @Test func shutdownClosesOpenConnections() async throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(listenAddress: "127.0.0.1:0", loopCount: 1), handler: makeTestRouter())
        try server.start()
        let port = try #require(server.port)
        let client = try TestClient(port: port)
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try client.readResponse()?.status == 200)
        server.shutdown()
        #expect(try client.readsEndOfStream())
        #expect(throws: TestClientError.self) { try TestClient(port: port) }
    }
}
