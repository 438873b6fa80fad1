// A benchmark server on the HTTPServer module alone (Benchmarks/http.sh drives it):
// `POST /v1/messages` reads the ~1 KiB body and answers 202 with a small JSON
// body, `GET /healthz` answers 200.
//
// Usage: http-bench [--listen 127.0.0.1:8089] [--loops N] [--max-connections N]
// (or HTTP_BENCH_LISTEN, HTTP_BENCH_LOOPS, HTTP_BENCH_MAX_CONNECTIONS). Runs until SIGTERM/SIGINT.
#if canImport(Glibc)
import Glibc
#endif
import HTTPServer

func option(_ flag: String, environment: String) -> String? {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: flag), index + 1 < arguments.count { return arguments[index + 1] }
    return getenv(environment).map { String(cString: $0) }
}

let accepted = Array(#"{"id":"00000000-0000-0000-0000-000000000000","status":"queued"}"#.utf8) + [0x0A]
let healthy = Array(#"{"status":"ok"}"#.utf8)
let jsonHeaders: HTTPHeaders = ["Content-Type": "application/json"]

var router = Router()
router.add(.post, "/v1/messages") { request, responder in
    let status: HTTPStatus = request.body.isEmpty ? .badRequest : .accepted
    responder.respond(HTTPResponse(status: status, headers: jsonHeaders, body: accepted))
}
router.add(.get, "/healthz") { _, responder in
    responder.respond(HTTPResponse(status: .ok, headers: jsonHeaders, body: healthy))
}

var configuration = HTTPServerConfiguration(listenAddress: option("--listen", environment: "HTTP_BENCH_LISTEN") ?? "127.0.0.1:8089")
configuration.loopCount = option("--loops", environment: "HTTP_BENCH_LOOPS").flatMap { Int($0) }
configuration.idleTimeout = .seconds(300)
configuration.headerReadTimeout = .seconds(300)
if let limit = option("--max-connections", environment: "HTTP_BENCH_MAX_CONNECTIONS").flatMap({ Int($0) }) {
    configuration.maxConnections = limit
}

// Blocked before the loop threads start, so that they inherit the mask and
// the signals reach `sigwait` below.
var signals = sigset_t()
sigemptyset(&signals)
sigaddset(&signals, SIGTERM)
sigaddset(&signals, SIGINT)
pthread_sigmask(SIG_BLOCK, &signals, nil)

let server = HTTPServer(configuration: configuration, handler: router)
do {
    try server.start()
} catch {
    let message = Array("http-bench: \(error)\n".utf8)
    _ = write(2, message, message.count)
    exit(1)
}
print("http-bench listening on \(server.localAddress ?? "?")")

var received: Int32 = 0
sigwait(&signals, &received)
server.beginDraining()
server.waitUntilIdle(timeout: .seconds(5))
server.shutdown()
