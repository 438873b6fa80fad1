import Foundation
import Logging
import Webhooks

/// Reads the configuration from the environment and `serve` flags: a flag beats
/// its variable, a variable beats the default. The first bad value stops loading
/// with an error that names the variable.
public struct ConfigurationLoader: Sendable {
    /// The effective text of every variable (nil: unset), after overrides and defaults.
    public let values: [ConfigurationKey: String]

    public init(environment: [String: String], overrides: [ConfigurationKey: String] = [:]) {
        var values: [ConfigurationKey: String] = [:]
        for key in ConfigurationKey.allCases {
            if let value = overrides[key] ?? environment[key.rawValue], !value.isEmpty {
                values[key] = value
            } else if let fallback = key.defaultValue {
                values[key] = fallback
            }
        }
        if values[.heloName] == nil { values[.heloName] = ConfigurationLoader.hostName() }
        self.values = values
    }

    /// `NAME=value` for every variable, defaults included, secrets masked (`check-config`).
    public var maskedListing: [String] {
        ConfigurationKey.allCases.map { key in "\(key.rawValue)=\(values[key].map(key.masked) ?? "")" }
    }

    /// The log format asked for, even when another value is bad: a start-up
    /// refusal is then written the way the log would have been.
    public var requestedLogFormat: GatewayConfiguration.LogFormat {
        values[.logFormat].flatMap { GatewayConfiguration.LogFormat(rawValue: $0.lowercased()) } ?? .text
    }

    /// What `check-config` checks beyond the values: that the SQLite data
    /// directory (when it is the store) exists writable, or can be created.
    public static func checkDataDirectory(of configuration: GatewayConfiguration) throws(ConfigurationError) {
        guard configuration.databaseURL == nil else { return }
        var path = URL(fileURLWithPath: configuration.dataDirectory).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            let parent = (path as NSString).deletingLastPathComponent
            guard parent != path, !parent.isEmpty else { break }
            path = parent
        }
        guard isDirectory.boolValue, access(path, W_OK | X_OK) == 0 else {
            throw ConfigurationError(.dataDirectory, "\(configuration.dataDirectory) cannot be created or written (\(path) is not a writable directory)")
        }
    }

    public func load() throws(ConfigurationError) -> GatewayConfiguration {
        func parse<T>(_ key: ConfigurationKey, _ parser: (String) throws(ConfigurationProblem) -> T) throws(ConfigurationError) -> T {
            do { return try parser(values[key] ?? "") } catch { throw ConfigurationError(key, error.reason) }
        }
        func optional<T>(_ key: ConfigurationKey, _ parser: (String) throws(ConfigurationProblem) -> T) throws(ConfigurationError) -> T? {
            guard values[key] != nil else { return nil }
            return try parse(key, parser)
        }
        func positive(_ key: ConfigurationKey) throws(ConfigurationError) -> Duration {
            let value = try parse(key, ConfigurationValues.duration)
            guard value > .zero else { throw ConfigurationError(key, "must be longer than zero") }
            return value
        }

        let listen = try parse(.listen, ListenAddress.parse)
        let apiKeys = ConfigurationValues.list(values[.apiKeys] ?? "")
        if apiKeys.isEmpty, !listen.isLoopback {
            throw ConfigurationError(.apiKeys, "must be set when listening on a non-loopback address (\(listen))")
        }
        if apiKeys.contains(where: { key in key.utf8.contains { $0 <= 0x20 || $0 >= 0x7F } }) {
            throw ConfigurationError(.apiKeys, "keys must be printable ASCII without spaces")
        }
        let allowPrivate = try parse(.webhookAllowPrivate, ConfigurationValues.boolean)
        let addressGuard = AddressGuard(allowPrivate: allowPrivate)
        let webhookURL = try optional(.webhookURL) { (text) throws(ConfigurationProblem) -> WebhookURL in
            do throws(WebhookURLError) {
                return try WebhookURL(text, guard: addressGuard)
            } catch {
                throw ConfigurationProblem(error.reason)
            }
        }
        let maxMessageSize = try parse(.maxMessageSize, ConfigurationValues.size)
        guard maxMessageSize >= 1024 else { throw ConfigurationError(.maxMessageSize, "must be at least 1KiB") }

        return GatewayConfiguration(
            listen: listen,
            dataDirectory: try parse(.dataDirectory) { $0 },
            databaseURL: try optional(.databaseURL, DatabaseURL.parse),
            apiKeys: apiKeys,
            relay: try optional(.relay, RelayConfiguration.parse),
            heloName: try parse(.heloName, ConfigurationLoader.validHostName),
            dnsServer: try optional(.dnsServer, ConfigurationLoader.validDNSServer),
            mxPort: try parse(.mxPort) { (text) throws(ConfigurationProblem) in try ConfigurationValues.integer(text, in: 1...65535) },
            retrySchedule: try parse(.retrySchedule, ConfigurationValues.schedule),
            maxQueueLifetime: try positive(.maxQueueLifetime),
            smtpTimeout: try positive(.smtpTimeout),
            smtpConnections: try parse(.smtpConnections) { (text) throws(ConfigurationProblem) in try ConfigurationValues.integer(text, in: 1...10_000) },
            destinationConnections: try parse(.destinationConnections) { (text) throws(ConfigurationProblem) in
                try ConfigurationValues.integer(text, in: 1...10_000)
            },
            maxMessageSize: maxMessageSize,
            maxRecipients: try parse(.maxRecipients) { (text) throws(ConfigurationProblem) in try ConfigurationValues.integer(text, in: 1...1_000_000) },
            queueLimit: try parse(.queueLimit) { (text) throws(ConfigurationProblem) in try ConfigurationValues.integer(text, in: 1...1_000_000_000) },
            webhookURL: webhookURL,
            webhookSigningKey: try optional(.webhookSecret, ConfigurationLoader.signingKey),
            webhookRetrySchedule: try parse(.webhookRetrySchedule, ConfigurationValues.schedule),
            webhookTimeout: try positive(.webhookTimeout),
            webhookAllowPrivate: allowPrivate,
            logLevel: try parse(.logLevel) { (text) throws(ConfigurationProblem) in
                guard let level = Logger.Level(rawValue: text.lowercased()) else {
                    throw ConfigurationProblem("\"\(text)\" is not one of trace, debug, info, notice, warning, error, critical")
                }
                return level
            },
            logFormat: try parse(.logFormat) { (text) throws(ConfigurationProblem) in
                guard let format = GatewayConfiguration.LogFormat(rawValue: text.lowercased()) else {
                    throw ConfigurationProblem("\"\(text)\" is not text or json")
                }
                return format
            }
        )
    }

    /// `whsec_` + base64 of at least 24 bytes (Standard Webhooks). The reason never repeats the secret.
    static func signingKey(_ text: String) throws(ConfigurationProblem) -> [UInt8] {
        guard text.hasPrefix("whsec_") else { throw ConfigurationProblem("must start with whsec_") }
        guard let key = Data(base64Encoded: String(text.dropFirst(6))) else {
            throw ConfigurationProblem("the part after whsec_ is not valid base64")
        }
        guard key.count >= 24 else { throw ConfigurationProblem("must encode at least 24 bytes (it encodes \(key.count))") }
        return Array(key)
    }

    /// A host name for EHLO and Message-IDs: LDH labels, at most 253 characters.
    static func validHostName(_ text: String) throws(ConfigurationProblem) -> String {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let valid = text.count <= 253 && labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        guard valid else { throw ConfigurationProblem("\"\(text)\" is not a valid host name") }
        return text
    }

    /// `host[:port]` or `[v6]:port` of a DNS server.
    static func validDNSServer(_ text: String) throws(ConfigurationProblem) -> String {
        _ = try RelayConfiguration.hostAndPort(Substring(text), defaultPort: 53)
        return text
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (try? validHostName(name)) ?? "localhost"
    }
}
