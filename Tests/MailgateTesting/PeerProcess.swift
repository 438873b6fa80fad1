import Foundation

/// A Python peer from this folder (`smtp_peer.py`, `dns_server.py`,
/// `webhook_receiver.py`) running as a child process, with a temporary folder of
/// its own for its configuration and its log.
///
/// Every peer prints `PORT <n>` once it listens and exits when its standard input
/// closes, so it never outlives the test process; releasing this object (or
/// `stop()`) closes that input, terminates the peer, waits for it and removes the
/// folder.
public final class PeerProcess: @unchecked Sendable {
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The peer's own folder; `file(_:)` names files in it.
    public let directory: URL
    public let port: Int
    private let process: Process
    private let stdinPipe: Pipe

    /// Starts `script` with the arguments `arguments` makes from the peer's folder
    /// (where it may first write the files they name). `requirement` says what the
    /// peer needs, for the error when it does not start.
    public init(script: String, requirement: String, arguments: (URL) throws -> [String]) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mailgate-\((script as NSString).deletingPathExtension)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(script).path
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path] + (try arguments(directory)) + ["--exit-with-stdin"]
        stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        do {
            port = try Self.readPort(from: stdoutPipe.fileHandleForReading, script: script, requirement: requirement)
        } catch {
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A file in the peer's folder.
    public func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Stops the peer and waits until it has exited (its port is then closed).
    public func stop() {
        try? stdinPipe.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// The JSON objects of a JSON-lines log the peer writes, skipping lines that
    /// are not (yet) whole objects.
    public func records(in file: URL) -> [[String: Any]] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    /// Reads the `PORT <n>` line the peer prints once it listens.
    private static func readPort(from handle: FileHandle, script: String, requirement: String) throws -> Int {
        var output = Data()
        while !output.contains(UInt8(ascii: "\n")), output.count < 256 {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { break }
            output.append(chunk)
        }
        let line = String(decoding: output, as: UTF8.self).split(separator: "\n").first ?? ""
        guard line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            throw StartError(description: "\(script) did not start (printed '\(line)'); is \(requirement) installed?")
        }
        return port
    }
}
