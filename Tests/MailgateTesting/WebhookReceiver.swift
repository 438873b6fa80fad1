import Foundation

/// A real HTTP receiver on loopback for webhook tests: `webhook_receiver.py`
/// (beside this file, where its script format is described) answering from a
/// scripted sequence of responses and recording every request it gets.
///
/// Start one per test, POST to `url()`, and read `requests()`. With a `secret`
/// the receiver checks each request's signature with the `standardwebhooks`
/// package from PyPI and records the verdict. The server exits when this object
/// is released or `stop()` is called, or with the test process (it watches its
/// standard input).
public final class WebhookReceiver: @unchecked Sendable {
    /// One scripted answer.
    public struct Response: Sendable {
        public var status: Int
        /// Seconds to wait before answering.
        public var delay: Double
        public var body: String
        /// Send this many bytes of body instead of `body`.
        public var bodySize: Int?
        public var headers: [String: String]

        public init(status: Int = 200, delay: Double = 0, body: String = "", bodySize: Int? = nil, headers: [String: String] = [:]) {
            self.status = status
            self.delay = delay
            self.body = body
            self.bodySize = bodySize
            self.headers = headers
        }

        var json: [String: Any] {
            var object: [String: Any] = ["status": status, "delay": delay, "body": body, "headers": headers]
            if let bodySize { object["body_size"] = bodySize }
            return object
        }
    }

    /// One request the receiver got, in arrival order.
    public struct Request: Sendable, Equatable {
        public let method: String
        public let path: String
        /// Lower-cased names.
        public let headers: [String: String]
        public let body: String
        /// `valid` or `invalid: <reason>` when started with a secret.
        public let signature: String?
    }

    public let host: String
    public let port: UInt16
    private let peer: PeerProcess

    /// Starts the receiver on `host` and `port` (0: a free one).
    public init(
        sequence: [Response] = [], default defaultResponse: Response = Response(),
        host: String = "127.0.0.1", port: UInt16 = 0, secret: String? = nil
    ) throws {
        self.host = host
        peer = try PeerProcess(script: "webhook_receiver.py", requirement: "python3 with standardwebhooks") { directory in
            let scriptFile = directory.appendingPathComponent("script.json")
            try Self.writeScript(sequence: sequence, default: defaultResponse, to: scriptFile)
            return [scriptFile.path, "--log", directory.appendingPathComponent("requests.jsonl").path, "--host", host,
                    "--port", String(port)] + (secret.map { ["--secret", $0] } ?? [])
        }
        self.port = UInt16(peer.port)
    }

    /// `http://HOST:PORT/path`.
    public func url(path: String = "/hook", host urlHost: String? = nil) -> String {
        let name = urlHost ?? (host.contains(":") ? "[\(host)]" : host)
        return "http://\(name):\(port)\(path)"
    }

    /// Replaces the script; requests from now on are answered from the new one.
    public func setScript(sequence: [Response] = [], default defaultResponse: Response = Response()) throws {
        try Self.writeScript(sequence: sequence, default: defaultResponse, to: peer.file("script.json"))
    }

    /// Stops the server and waits until it has exited (its port is then closed).
    public func stop() { peer.stop() }

    /// The requests received so far.
    public func requests() -> [Request] {
        peer.records(in: peer.file("requests.jsonl")).compactMap { object in
            guard let method = object["method"] as? String, let path = object["path"] as? String,
                  let headers = object["headers"] as? [String: String], let body = object["body"] as? String
            else { return nil }
            return Request(method: method, path: path, headers: headers, body: body, signature: object["signature"] as? String)
        }
    }

    /// Waits until at least `count` requests arrived (checking every 20 ms, for at
    /// most `limit`), and returns what arrived.
    public func waitForRequests(count: Int, limit: Duration = .seconds(30)) async -> [Request] {
        let deadline = ContinuousClock.now + limit
        var received = requests()
        while received.count < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            received = requests()
        }
        return received
    }

    private static func writeScript(sequence: [Response], default defaultResponse: Response, to file: URL) throws {
        let script: [String: Any] = ["sequence": sequence.map(\.json), "default": defaultResponse.json]
        try JSONSerialization.data(withJSONObject: script).write(to: file, options: .atomic)
    }
}
