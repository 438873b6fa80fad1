import Foundation

/// A throwaway self-signed certificate and key, made with the `openssl` command in a
/// temporary folder that is removed with this object: TLS peers in tests use it, and
/// a client that is told to trust `certificatePath` can verify it.
public final class SelfSignedCertificate: @unchecked Sendable {
    public struct CreationError: Error, CustomStringConvertible {
        public let description: String
    }

    public let certificatePath: String
    public let privateKeyPath: String
    private let directory: URL

    /// - Parameters:
    ///   - commonName: the subject CN, also a DNS subject alternative name.
    ///   - alternativeNames: more SAN entries in OpenSSL's syntax (`DNS:x`, `IP:127.0.0.1`).
    public init(commonName: String = "localhost", alternativeNames: [String] = ["IP:127.0.0.1", "IP:::1"]) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mailgate-cert-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        certificatePath = directory.appendingPathComponent("cert.pem").path
        privateKeyPath = directory.appendingPathComponent("key.pem").path
        let names = (["DNS:\(commonName)"] + alternativeNames).joined(separator: ",")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-keyout", privateKeyPath, "-out", certificatePath,
            "-subj", "/CN=\(commonName)", "-addext", "subjectAltName=\(names)",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            try? FileManager.default.removeItem(at: directory)
            throw CreationError(description: "openssl req failed with status \(process.terminationStatus)")
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }
}
