import Foundation

/// A real SMTP server on loopback for tests: `smtp_peer.py` (beside this file, where
/// its configuration keys are described), aiosmtpd with scripted replies per phase and
/// per recipient, STARTTLS, implicit TLS and AUTH.
///
/// Start one per test with the script it needs, connect to `host`:`port`, and read
/// `messages()` and `commands()` to see what arrived. The server exits when this
/// object is released, or with the test process, because it watches its standard input.
public final class SMTPTestPeer: @unchecked Sendable {
    /// One message the peer took in at the end of DATA (before its scripted reply).
    public struct Message: Hashable, Sendable {
        public let session: Int
        public let sender: String
        public let mailOptions: [String]
        /// The recipients the peer accepted.
        public let recipients: [String]
        /// The content as received, dot-unstuffed, without the final ".".
        public let content: [UInt8]
        public let tls: Bool
        /// The user name that authenticated, if any.
        public let authenticatedUser: String?
    }

    /// One command line the peer read, in arrival order.
    public struct Command: Hashable, Sendable {
        public let session: Int
        /// Upper-cased: `EHLO`, `MAIL`, `RCPT`, `DATA`, `RSET`, `AUTH`, ...
        public let verb: String
        public let argument: String?
        public let tls: Bool
        /// Bytes of later commands that had already arrived when this one was read:
        /// more than 0 means the client pipelined.
        public let unreadBytes: Int
    }

    public let host: String
    public let port: Int
    private let peer: PeerProcess

    /// Starts the peer on `host` (127.0.0.1 or ::1) and a free port.
    /// - Parameter script: the configuration as JSON text, e.g.
    ///   `{"pipelining": true, "rcpt": {"b@x.test": "550 5.1.1 unknown"}}`.
    public init(script: String = "{}", host: String = "127.0.0.1") throws {
        self.host = host
        peer = try PeerProcess(script: "smtp_peer.py", requirement: "python3 with aiosmtpd") { directory in
            let configFile = directory.appendingPathComponent("config.json")
            try Data(script.utf8).write(to: configFile, options: .atomic)
            return [configFile.path, "--host", host, "--log", directory.appendingPathComponent("received.jsonl").path]
        }
        port = peer.port
    }

    /// The messages received so far.
    public func messages() -> [Message] {
        records(of: "message").map { record in
            Message(
                session: record["session"] as? Int ?? 0,
                sender: record["mail_from"] as? String ?? "",
                mailOptions: record["mail_options"] as? [String] ?? [],
                recipients: record["rcpt_tos"] as? [String] ?? [],
                content: Array(Data(base64Encoded: record["data"] as? String ?? "") ?? Data()),
                tls: record["tls"] as? Bool ?? false,
                authenticatedUser: record["auth"] as? String
            )
        }
    }

    /// The command lines received so far.
    public func commands() -> [Command] {
        records(of: "command").map { record in
            Command(
                session: record["session"] as? Int ?? 0,
                verb: record["verb"] as? String ?? "",
                argument: record["arg"] as? String,
                tls: record["tls"] as? Bool ?? false,
                unreadBytes: record["unread"] as? Int ?? 0
            )
        }
    }

    /// How many connections the peer accepted.
    public func connectionCount() -> Int {
        records(of: "connect").count
    }

    private func records(of event: String) -> [[String: Any]] {
        peer.records(in: peer.file("received.jsonl")).filter { $0["event"] as? String == event }
    }
}
