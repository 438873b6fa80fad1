import Foundation

/// Runs a Python 3 program with bytes on its standard input and returns what
/// it printed: an independent implementation to check ours against (Python's
/// `email` package reading composed messages, its codecs, and the like).
///
/// Standard input, output and error go through temporary files rather than
/// pipes, so a large input or output can never deadlock the two processes.
public struct PythonScript: Sendable {
    /// A run that exited with a non-zero status; `standardError` says why.
    public struct Failure: Error, CustomStringConvertible {
        public let status: Int32
        public let standardError: String
        public var description: String { "python3 exited with status \(status): \(standardError)" }
    }

    public let source: String

    public init(_ source: String) {
        self.source = source
    }

    /// Runs the program (`python3 -c source arguments…`) to its end.
    public func run(input: [UInt8] = [], arguments: [String] = []) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mailgate-python-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputURL = directory.appendingPathComponent("stdin")
        let outputURL = directory.appendingPathComponent("stdout")
        let errorURL = directory.appendingPathComponent("stderr")
        try Data(input).write(to: inputURL)
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", source] + arguments
        let inputHandle = try FileHandle(forReadingFrom: inputURL)
        let outputHandle = try FileHandle(forWritingTo: outputURL)
        let errorHandle = try FileHandle(forWritingTo: errorURL)
        defer {
            try? inputHandle.close()
            try? outputHandle.close()
            try? errorHandle.close()
        }
        process.standardInput = inputHandle
        process.standardOutput = outputHandle
        process.standardError = errorHandle
        try process.run()
        process.waitUntilExit()

        let output = try Data(contentsOf: outputURL)
        guard process.terminationStatus == 0 else {
            let error = (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
            throw Failure(status: process.terminationStatus, standardError: error)
        }
        return [UInt8](output)
    }

    /// Runs the program and decodes its standard output as JSON.
    public func runJSON<Output: Decodable>(_ type: Output.Type, input: [UInt8] = [], arguments: [String] = []) throws -> Output {
        try JSONDecoder().decode(type, from: Data(try run(input: input, arguments: arguments)))
    }
}
