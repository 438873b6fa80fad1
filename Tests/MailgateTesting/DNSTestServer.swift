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

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    public let host: String
    public let port: UInt16
    private let process: Process
    private let stdinPipe: Pipe
    private let directory: URL
    private let zoneFile: URL
    private let logFile: URL

    /// Starts the server on `host` (127.0.0.1 or ::1) and a free port.
    /// - Parameters:
    ///   - zone: the zone as JSON text, e.g. `{"example.test": {"MX": [[10, "mx.example.test"]]}}`.
    ///   - silent: never answer anything (for timeout tests).
    public init(zone: String, host: String = "127.0.0.1", silent: Bool = false) throws {
        self.host = host
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mailgate-dns-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        zoneFile = directory.appendingPathComponent("zone.json")
        logFile = directory.appendingPathComponent("queries.log")
        try Data(zone.utf8).write(to: zoneFile, options: .atomic)

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("dns_server.py")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, zoneFile.path, "--host", host, "--log", logFile.path, "--exit-with-stdin"]
            + (silent ? ["--silent"] : [])
        stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        try process.run()
        do {
            port = try Self.readPort(from: stdoutPipe.fileHandleForReading)
        } catch {
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    deinit {
        try? stdinPipe.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// `127.0.0.1:PORT` or `[::1]:PORT`, the form of `MAILGATE_DNS_SERVER`.
    public var address: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Replaces the zone; the server answers from the new one from its next query on.
    public func updateZone(_ zone: String) throws {
        try Data(zone.utf8).write(to: zoneFile, options: .atomic)
    }

    /// The queries received so far.
    public func queries() -> [Query] {
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
                  let name = object["name"], let type = object["type"], let transport = object["transport"]
            else { return nil }
            return Query(name: name, type: type, transport: transport)
        }
    }

    /// Reads the `PORT <n>` line the script prints once it listens.
    private static func readPort(from handle: FileHandle) throws -> UInt16 {
        var output = Data()
        while !output.contains(UInt8(ascii: "\n")), output.count < 256 {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { break }
            output.append(chunk)
        }
        let line = String(decoding: output, as: UTF8.self).split(separator: "\n").first ?? ""
        guard line.hasPrefix("PORT "), let port = UInt16(line.dropFirst(5)) else {
            throw StartError(description: "dns_server.py did not start (printed '\(line)'); is python3 with dnslib installed?")
        }
        return port
    }
}
