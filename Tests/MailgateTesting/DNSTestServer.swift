import Foundation

/// A real DNS server on loopback for tests: `dns_server.py` (beside this file, where
/// its zone format is described) answering over UDP and TCP from a JSON zone.
///
/// Start one per test with the zone it needs, point the resolver (or
/// `MAILGATE_DNS_SERVER`) at `address`, and read `queries()` to see what was asked.
/// The server exits when this object is released, or with the test process, because
/// it watches its standard input.
public final class DNSTestServer: @unchecked Sendable {
    /// One query the server received, in arrival order.
    public struct Query: Hashable, Sendable {
        public let name: String
        public let type: String
        /// `udp` or `tcp`.
        public let transport: String
    }

    public let host: String
    public let port: UInt16
    private let peer: PeerProcess

    /// Starts the server on `host` (127.0.0.1 or ::1) and a free port.
    /// - Parameters:
    ///   - zone: the zone as JSON text, e.g. `{"example.test": {"MX": [[10, "mx.example.test"]]}}`.
    ///   - silent: never answer anything (for timeout tests).
    public init(zone: String, host: String = "127.0.0.1", silent: Bool = false) throws {
        self.host = host
        peer = try PeerProcess(script: "dns_server.py", requirement: "python3 with dnslib") { directory in
            let zoneFile = directory.appendingPathComponent("zone.json")
            try Data(zone.utf8).write(to: zoneFile, options: .atomic)
            return [zoneFile.path, "--host", host, "--log", directory.appendingPathComponent("queries.log").path]
                + (silent ? ["--silent"] : [])
        }
        port = UInt16(peer.port)
    }

    /// `127.0.0.1:PORT` or `[::1]:PORT`, the form of `MAILGATE_DNS_SERVER`.
    public var address: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Replaces the zone; the server answers from the new one from its next query on.
    public func updateZone(_ zone: String) throws {
        try Data(zone.utf8).write(to: peer.file("zone.json"), options: .atomic)
    }

    /// The queries received so far.
    public func queries() -> [Query] {
        peer.records(in: peer.file("queries.log")).compactMap { object in
            guard let name = object["name"] as? String, let type = object["type"] as? String,
                  let transport = object["transport"] as? String
            else { return nil }
            return Query(name: name, type: type, transport: transport)
        }
    }
}
