import ArgumentParser
import Foundation
import MailgateCore

/// A `--flag` for every `MAILGATE_*` variable; a flag given beats its variable.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .customLong("listen"), help: help(.listen))
    var listen: String?

    @Option(name: .customLong("data-dir"), help: help(.dataDirectory))
    var dataDirectory: String?

    @Option(name: .customLong("database-url"), help: help(.databaseURL))
    var databaseURL: String?

    @Option(name: .customLong("api-keys"), help: help(.apiKeys))
    var apiKeys: String?

    @Option(name: .customLong("relay"), help: help(.relay))
    var relay: String?

    @Option(name: .customLong("helo-name"), help: help(.heloName))
    var heloName: String?

    @Option(name: .customLong("dns-server"), help: help(.dnsServer))
    var dnsServer: String?

    @Option(name: .customLong("mx-port"), help: help(.mxPort))
    var mxPort: String?

    @Option(name: .customLong("retry-schedule"), help: help(.retrySchedule))
    var retrySchedule: String?

    @Option(name: .customLong("max-queue-lifetime"), help: help(.maxQueueLifetime))
    var maxQueueLifetime: String?

    @Option(name: .customLong("smtp-timeout"), help: help(.smtpTimeout))
    var smtpTimeout: String?

    @Option(name: .customLong("smtp-connections"), help: help(.smtpConnections))
    var smtpConnections: String?

    @Option(name: .customLong("destination-connections"), help: help(.destinationConnections))
    var destinationConnections: String?

    @Option(name: .customLong("max-message-size"), help: help(.maxMessageSize))
    var maxMessageSize: String?

    @Option(name: .customLong("max-recipients"), help: help(.maxRecipients))
    var maxRecipients: String?

    @Option(name: .customLong("queue-limit"), help: help(.queueLimit))
    var queueLimit: String?

    @Option(name: .customLong("webhook-url"), help: help(.webhookURL))
    var webhookURL: String?

    @Option(name: .customLong("webhook-secret"), help: help(.webhookSecret))
    var webhookSecret: String?

    @Option(name: .customLong("webhook-retry-schedule"), help: help(.webhookRetrySchedule))
    var webhookRetrySchedule: String?

    @Option(name: .customLong("webhook-timeout"), help: help(.webhookTimeout))
    var webhookTimeout: String?

    @Option(name: .customLong("webhook-allow-private"), help: help(.webhookAllowPrivate))
    var webhookAllowPrivate: String?

    @Option(name: .customLong("log-level"), help: help(.logLevel))
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: help(.logFormat))
    var logFormat: String?

    /// The flags that were given, by variable.
    var overrides: [ConfigurationKey: String] {
        var values: [ConfigurationKey: String?] = [
            .listen: listen,
            .dataDirectory: dataDirectory,
            .databaseURL: databaseURL,
            .apiKeys: apiKeys,
            .relay: relay,
            .heloName: heloName,
            .dnsServer: dnsServer,
            .mxPort: mxPort,
            .retrySchedule: retrySchedule,
            .maxQueueLifetime: maxQueueLifetime,
            .smtpTimeout: smtpTimeout,
            .smtpConnections: smtpConnections,
            .destinationConnections: destinationConnections,
            .maxMessageSize: maxMessageSize,
            .maxRecipients: maxRecipients,
            .queueLimit: queueLimit,
            .webhookURL: webhookURL,
            .webhookSecret: webhookSecret,
            .webhookRetrySchedule: webhookRetrySchedule,
            .webhookTimeout: webhookTimeout,
            .webhookAllowPrivate: webhookAllowPrivate,
            .logLevel: logLevel,
            .logFormat: logFormat,
        ]
        return values.compactMapValues { $0 }
    }

    /// The loader for the process environment plus these flags.
    var loader: ConfigurationLoader {
        ConfigurationLoader(environment: ProcessInfo.processInfo.environment, overrides: overrides)
    }
}

private func help(_ key: ConfigurationKey) -> ArgumentHelp {
    let fallback = key.defaultValue.map { " (default \($0))" } ?? ""
    return ArgumentHelp("\(key.help)\(fallback); env \(key.rawValue)", valueName: "value")
}
