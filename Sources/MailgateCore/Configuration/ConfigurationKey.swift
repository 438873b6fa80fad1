/// Every `MAILGATE_*` variable of SPEC §1, with its `serve` flag and default.
/// The table drives loading, `--flag` overrides and `check-config`'s listing.
public enum ConfigurationKey: String, CaseIterable, Sendable {
    case listen = "MAILGATE_LISTEN"
    case dataDirectory = "MAILGATE_DATA_DIR"
    case databaseURL = "MAILGATE_DATABASE_URL"
    case apiKeys = "MAILGATE_API_KEYS"
    case relay = "MAILGATE_RELAY"
    case heloName = "MAILGATE_HELO_NAME"
    case dnsServer = "MAILGATE_DNS_SERVER"
    case mxPort = "MAILGATE_MX_PORT"
    case retrySchedule = "MAILGATE_RETRY_SCHEDULE"
    case maxQueueLifetime = "MAILGATE_MAX_QUEUE_LIFETIME"
    case smtpTimeout = "MAILGATE_SMTP_TIMEOUT"
    case smtpConnections = "MAILGATE_SMTP_CONNECTIONS"
    case destinationConnections = "MAILGATE_DESTINATION_CONNECTIONS"
    case maxMessageSize = "MAILGATE_MAX_MESSAGE_SIZE"
    case maxRecipients = "MAILGATE_MAX_RECIPIENTS"
    case queueLimit = "MAILGATE_QUEUE_LIMIT"
    case webhookURL = "MAILGATE_WEBHOOK_URL"
    case webhookSecret = "MAILGATE_WEBHOOK_SECRET"
    case webhookRetrySchedule = "MAILGATE_WEBHOOK_RETRY_SCHEDULE"
    case webhookTimeout = "MAILGATE_WEBHOOK_TIMEOUT"
    case webhookAllowPrivate = "MAILGATE_WEBHOOK_ALLOW_PRIVATE"
    case logLevel = "MAILGATE_LOG_LEVEL"
    case logFormat = "MAILGATE_LOG_FORMAT"

    /// The `serve` flag: `MAILGATE_SMTP_TIMEOUT` is `--smtp-timeout`.
    public var flag: String {
        "--" + rawValue.dropFirst("MAILGATE_".count).lowercased().replacingOccurrences(of: "_", with: "-")
    }

    /// The default as written in SPEC §1; nil for variables that are unset by default.
    /// `MAILGATE_HELO_NAME` defaults to the host name, filled in by the loader.
    public var defaultValue: String? {
        switch self {
        case .listen: "127.0.0.1:8080"
        case .dataDirectory: "./mailgate-data"
        case .mxPort: "25"
        case .retrySchedule: "1m,5m,15m,30m,1h,2h,4h"
        case .maxQueueLifetime: "5d"
        case .smtpTimeout: "60s"
        case .smtpConnections: "32"
        case .destinationConnections: "8"
        case .maxMessageSize: "25MB"
        case .maxRecipients: "1000"
        case .queueLimit: "1000000"
        case .webhookRetrySchedule: "5s,5m,30m,2h,5h,10h,10h"
        case .webhookTimeout: "10s"
        case .webhookAllowPrivate: "false"
        case .logLevel: "info"
        case .logFormat: "text"
        case .databaseURL, .apiKeys, .relay, .heloName, .dnsServer, .webhookURL, .webhookSecret: nil
        }
    }

    /// One line of help for `mailgate serve --help`.
    public var help: String {
        switch self {
        case .listen: "HTTP address:port; [::]:8080 or 0.0.0.0:8080 in containers"
        case .dataDirectory: "directory of the embedded SQLite queue (created if missing)"
        case .databaseURL: "postgres://user:pass@host:port/db to share one queue between gateways"
        case .apiKeys: "comma-separated bearer tokens (required unless listening on loopback)"
        case .relay: "smarthost URL smtp://[user:pass@]host[:port] or smtps://…; unset: deliver to MX hosts"
        case .heloName: "name sent in EHLO and used in Message-IDs (default: the host name)"
        case .dnsServer: "host[:port] of the DNS server for MX lookups (default: /etc/resolv.conf)"
        case .mxPort: "port used when delivering to MX hosts"
        case .retrySchedule: "waits between delivery attempts of a deferred recipient (±10% jitter; the last repeats)"
        case .maxQueueLifetime: "how long a recipient may stay deferred before it fails"
        case .smtpTimeout: "per-command SMTP timeout; the end of DATA waits 5× this"
        case .smtpConnections: "total concurrent SMTP connections"
        case .destinationConnections: "concurrent SMTP connections to one destination"
        case .maxMessageSize: "largest request body and composed message (413 beyond)"
        case .maxRecipients: "most recipients (to+cc+bcc) in one message"
        case .queueLimit: "most pending recipients in the queue (429 beyond)"
        case .webhookURL: "default webhook for messages without their own webhook_url"
        case .webhookSecret: "Standard Webhooks signing secret, whsec_ + base64 of at least 24 bytes"
        case .webhookRetrySchedule: "waits between webhook attempts; after the last the event is dropped"
        case .webhookTimeout: "time limit of one webhook POST"
        case .webhookAllowPrivate: "allow webhooks to loopback, private, link-local and metadata addresses"
        case .logLevel: "trace, debug, info, notice, warning, error or critical"
        case .logFormat: "text, or json for one JSON object a line"
        }
    }

    /// How `check-config` shows a value without leaking it.
    func masked(_ value: String) -> String {
        switch self {
        case .apiKeys, .webhookSecret: return value.isEmpty ? value : "****"
        case .relay: return (try? RelayConfiguration.parse(value).masked) ?? "****"
        case .databaseURL: return (try? DatabaseURL.parse(value).masked) ?? "****"
        default: return value
        }
    }
}
