import Foundation
import Logging
import Webhooks

/// The gateway's whole configuration as plain values with SPEC §1's defaults.
/// Reading the environment is `ConfigurationLoader`'s job.
public struct GatewayConfiguration: Sendable {
    public enum LogFormat: String, Sendable { case text, json }

    public var listen: ListenAddress
    public var dataDirectory: String
    public var databaseURL: DatabaseURL?
    public var apiKeys: [String]
    public var relay: RelayConfiguration?
    public var heloName: String
    /// `host[:port]` of the DNS server; nil uses /etc/resolv.conf.
    public var dnsServer: String?
    public var mxPort: Int
    public var retrySchedule: [Duration]
    public var maxQueueLifetime: Duration
    public var smtpTimeout: Duration
    public var smtpConnections: Int
    public var destinationConnections: Int
    public var maxMessageSize: Int
    public var maxRecipients: Int
    public var queueLimit: Int
    public var webhookURL: WebhookURL?
    /// The signing key: the base64-decoded part of the secret after `whsec_`.
    public var webhookSigningKey: [UInt8]?
    public var webhookRetrySchedule: [Duration]
    public var webhookTimeout: Duration
    public var webhookAllowPrivate: Bool
    public var logLevel: Logger.Level
    public var logFormat: LogFormat

    /// The address guard that webhook URLs are checked with.
    public var addressGuard: AddressGuard { AddressGuard(allowPrivate: webhookAllowPrivate) }
}

/// A bad value, naming its variable: the one line the gateway prints before it refuses to start.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let key: ConfigurationKey
    public let reason: String

    public init(_ key: ConfigurationKey, _ reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(key.rawValue): \(reason)" }
}

/// `MAILGATE_DATABASE_URL`: a PostgreSQL URL handed to libpq as written.
public struct DatabaseURL: Sendable, Equatable {
    public let text: String
    public let masked: String

    public static func parse(_ text: String) throws(ConfigurationProblem) -> DatabaseURL {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw ConfigurationProblem("must be a postgres:// URL (postgres://user:pass@host:5432/mailgate)")
        }
        guard let host = components.host, !host.isEmpty else { throw ConfigurationProblem("has no host") }
        var masked = components
        if masked.password != nil { masked.password = "****" }
        // libpq also takes the password as a query parameter.
        masked.queryItems = masked.queryItems?.map { item in
            Self.secretParameters.contains(item.name.lowercased()) ? URLQueryItem(name: item.name, value: "****") : item
        }
        return DatabaseURL(text: text, masked: masked.string ?? "****")
    }

    /// Query parameters of a libpq URL that hold secrets.
    static let secretParameters: Set<String> = ["password", "sslpassword"]
}
