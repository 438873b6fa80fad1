import Foundation
import Synchronization
import Testing
@testable import HTTPServer

/// All tests against a live server run one after another: some count the
/// process's file descriptors, and the machine has two cores.
@Suite(.serialized)
struct LiveServerTests {}

/// Records every summary the server reports.
final class RecordingObserver: HTTPServerObserver {
    let summaries = Mutex<[HTTPExchangeSummary]>([])
    func requestFinished(_ summary: HTTPExchangeSummary) { summaries.withLock { $0.append(summary) } }
}

/// A door handlers wait behind until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [HTTPResponder], arrived: Int)>((false, [], 0))

    /// Parks `responder` (answered with 200 "released" when the gate opens).
    func park(_ responder: HTTPResponder) {
        let answerNow = state.withLock { state -> Bool in
            state.arrived += 1
            if !state.open { state.waiting.append(responder) }
            return state.open
        }
        if answerNow { responder.respond(HTTPResponse(body: Array("released".utf8))) }
    }

    var arrived: Int { state.withLock { $0.arrived } }

    func open() {
        let waiting = state.withLock { state -> [HTTPResponder] in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for responder in waiting {
            Thread.detachNewThread { responder.respond(HTTPResponse(body: Array("released".utf8))) }
        }
    }
}

func makeTestRouter(gate: Gate = Gate()) -> Router {
    var router = Router()
    router.add(.get, "/hello") { _, responder in
        responder.respond(HTTPResponse(headers: ["Content-Type": "text/plain"], body: Array("hello".utf8)))
    }
    router.add(.post, "/echo") { request, responder in
        responder.respond(HTTPResponse(headers: ["X-Body-Length": String(request.body.count)], body: request.body))
    }
    router.add(.get, "/items/{id}") { request, responder in
        responder.respond(HTTPResponse(body: Array("item \(request.pathParameters["id"] ?? "?")".utf8)))
    }
    router.add(.get, "/later/{word}") { request, responder in
        let word = request.pathParameters["word"] ?? ""
        Thread.detachNewThread {
            usleep(UInt32.random(in: 1_000...20_000))
            responder.respond(HTTPResponse(body: Array(word.utf8)))
        }
    }
    router.add(.get, "/gate") { _, responder in gate.park(responder) }
    return router
}

/// Runs `body` against a server on 127.0.0.1 port 0 with two loops, then shuts it down.
func withServer(
    _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    router: Router = makeTestRouter(), observer: (any HTTPServerObserver)? = nil,
    _ body: (HTTPServer, Int) async throws -> Void
) async throws {
    var configuration = HTTPServerConfiguration(listenAddress: "127.0.0.1:0", loopCount: 2)
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, handler: router, observer: observer)
    try server.start()
    defer { server.shutdown() }
    let port = try #require(server.port)
    try await body(server, port)
}

/// Runs curl with `arguments`; returns its exit status, stdout and stderr.
func curl(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["--silent", "--show-error", "--max-time", "20"] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

/// Polls `condition` every 10 ms, at most `attempts` times.
func eventually(attempts: Int = 500, _ condition: () -> Bool) async -> Bool {
    for _ in 0..<attempts {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

func openFileDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}
