import DNSClient
import Delivery
import Dispatch
import Foundation
import HTTPServer
import Logging
import MailQueue
import SMTPClient
import ServiceLifecycle
import Synchronization
import Webhooks

/// The wiring module's one job: build every part from the configuration, run them
/// as services in one group, and turn SIGTERM/SIGINT into a graceful drain (a
/// second signal exits at once).
public enum Gateway {
    /// The version printed by `mailgate version` and sent as `User-Agent`.
    public static let version = "0.1.0"

    /// Runs the gateway until a signal stops it; returns the process exit status.
    public static func serve(_ configuration: GatewayConfiguration) async -> Int32 {
        LogLineHandler.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        let logger = Logger(label: "mailgate")
        // Signals are caught before anything starts: a SIGTERM that arrives while the
        // gateway is still starting (already answering HTTP) drains instead of killing it.
        let stop = StopRequest()
        let signals = SignalHandling(logger: logger) { stop.request() }
        defer { signals.cancel() }
        do {
            let parts = try GatewayParts(configuration: configuration, logger: logger)
            return await parts.run(stop: stop)
        } catch {
            logger.critical("mailgate cannot start: \(error)")
            return 1
        }
    }

    /// A bad configuration's one line, as a critical log entry when the log is
    /// JSON (every stderr line is then a JSON object), else as plain text.
    public static func reportConfigurationError(_ error: ConfigurationError, logFormat: GatewayConfiguration.LogFormat) {
        switch logFormat {
        case .json:
            LogLineHandler.bootstrap(level: .critical, format: .json)
            Logger(label: "mailgate").critical("mailgate cannot start: \(error)")
        case .text:
            FileHandle.standardError.write(Data("mailgate: \(error)\n".utf8))
        }
    }

    /// A lease owner name unique to this process.
    static func instanceName() -> String {
        "\(ConfigurationLoader.hostName())-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// Why the gateway could not start, in one line.
struct StartupError: Error, CustomStringConvertible {
    let description: String
}

/// Every long-running part, built and connected.
private struct GatewayParts {
    let configuration: GatewayConfiguration
    let logger: Logger
    let store: any QueueStore
    let server: HTTPServer
    let delivery: DeliveryService
    let webhooks: WebhookService
    let routes: DrainFlag
    let clock = ShutdownClock()

    init(configuration: GatewayConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        if configuration.apiKeys.isEmpty {
            logger.warning("MAILGATE_API_KEYS is not set: the API is open to anyone who can reach \(configuration.listen) (loopback only)")
        }
        let metrics = GatewayMetrics.bootstrap()
        let store = try Self.openStore(configuration)
        self.store = store
        let owner = Gateway.instanceName()

        let webhooks = WebhookService(
            store: store,
            configuration: WebhookService.Configuration(
                owner: owner, version: Gateway.version, signingKey: configuration.webhookSigningKey,
                retrySchedule: configuration.webhookRetrySchedule, timeout: configuration.webhookTimeout,
                allowPrivate: configuration.webhookAllowPrivate),
            logger: Logger(label: "mailgate.webhooks"))
        self.webhooks = webhooks

        let smtpClient = try SMTPClient(configuration: SMTPClientConfiguration(
            heloName: configuration.heloName, commandTimeout: configuration.smtpTimeout))
        let route: DeliveryRoute
        if let relay = configuration.relay {
            route = .relay(RelayEndpoint(
                host: relay.host, port: relay.port,
                tls: .relay(
                    implicitTLS: relay.security == .implicitTLS, startTLSRequired: relay.security == .startTLSRequired,
                    verifiesCertificate: relay.verifyCertificates),
                credentials: relay.username.map { SMTPCredentials(username: $0, password: relay.password ?? "") }))
        } else {
            let resolver = try DNSResolver.configured(dnsServer: configuration.dnsServer)
            route = .mx(resolver: resolver, port: configuration.mxPort)
        }
        delivery = DeliveryService(
            store: store, connector: SMTPDestinationConnector(client: smtpClient, route: route),
            configuration: DeliveryServiceConfiguration(
                relayMode: configuration.relay != nil,
                retryPolicy: RetryPolicy(schedule: configuration.retrySchedule, maximumLifetime: configuration.maxQueueLifetime),
                totalConnections: configuration.smtpConnections,
                connectionsPerDestination: configuration.destinationConnections, owner: owner),
            logger: Logger(label: "mailgate.delivery"),
            onOutcomesRecorded: { webhooks.wake() })

        let drain = DrainFlag()
        routes = drain
        let delivery = self.delivery
        let messages = MessagesAPI(
            store: store,
            factory: MessageFactory(
                heloName: configuration.heloName, defaultWebhookURL: configuration.webhookURL?.text,
                maxMessageSize: configuration.maxMessageSize),
            limits: SendRequestLimits(maxRecipients: configuration.maxRecipients, allowPrivateWebhooks: configuration.webhookAllowPrivate),
            metrics: metrics, logger: Logger(label: "mailgate.api"), onAccepted: { delivery.wake() })
        let router = GatewayRoutes(
            messages: messages, authenticator: Authenticator(keys: configuration.apiKeys), store: store, metrics: metrics,
            isDraining: { drain.isSet }
        ).makeRouter()
        server = HTTPServer(
            configuration: HTTPServerConfiguration(
                listenAddress: configuration.listen.description, maxBodyBytes: configuration.maxMessageSize),
            handler: router, observer: HTTPExchangeObserver(metrics: metrics, logger: Logger(label: "mailgate.http")))
        do {
            try server.start()
        } catch {
            throw StartupError(description: "MAILGATE_LISTEN \(configuration.listen): \(error)")
        }
    }

    /// PostgreSQL when `MAILGATE_DATABASE_URL` is set (a queue several gateways
    /// share), else SQLite in `MAILGATE_DATA_DIR`. Errors name the URL masked.
    private static func openStore(_ configuration: GatewayConfiguration) throws -> any QueueStore {
        if let database = configuration.databaseURL {
            do {
                return try PostgresQueueStore(configuration: .init(url: database.text, queueLimit: configuration.queueLimit))
            } catch {
                throw StartupError(description: "MAILGATE_DATABASE_URL \(database.masked): \(error)")
            }
        }
        do {
            return try SQLiteQueueStore(directory: configuration.dataDirectory, mode: .gateway, queueLimit: configuration.queueLimit)
        } catch {
            throw StartupError(description: "MAILGATE_DATA_DIR \(configuration.dataDirectory): \(error)")
        }
    }

    func run(stop: StopRequest) async -> Int32 {
        logger.info("mailgate \(Gateway.version) listening", metadata: [
            "address": "\(server.localAddress ?? configuration.listen.description)",
            "delivery": "\(configuration.relay.map { "relay \($0.masked)" } ?? "mx")",
            "queue": "\(configuration.databaseURL.map { "postgresql \($0.masked)" } ?? "sqlite \(configuration.dataDirectory)")",
        ])
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: StoreService(store: store)),
                .init(service: WebhookLifecycleService(webhooks: webhooks, clock: clock)),
                .init(service: DeliveryLifecycleService(delivery: delivery, clock: clock)),
                .init(service: HTTPServerService(server: server, clock: clock)),
            ],
            logger: logger))
        stop.attach { [clock, routes, server] in
            clock.start()
            // Here, not when the group gets round to it: from the signal on, new
            // connections are refused and a request on an open one gets 503 with
            // `Connection: close`, `/readyz` too (the server drains before the flag
            // is set, so no 503 of the flag goes out on a connection kept alive).
            server.beginDraining()
            routes.set()
            Task { await group.triggerGracefulShutdown() }
        }
        do {
            try await group.run()
        } catch {
            logger.error("a service failed: \(error)")
            server.shutdown()
            return 1
        }
        // Only now: until every service has drained, requests on open connections get 503.
        server.shutdown()
        logger.info("mailgate stopped")
        return 0
    }
}

/// Set once shutdown begins; `/readyz` answers 503 from then on.
final class DrainFlag: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}

/// The first stop signal, kept until the services exist: `attach` sets what a stop
/// does and runs it at once if the signal already came, so it runs exactly once.
final class StopRequest: Sendable {
    private let state = Mutex<(requested: Bool, action: (@Sendable () -> Void)?)>((false, nil))

    func request() {
        let action = state.withLock { state in
            state.requested = true
            return state.action
        }
        action?()
    }

    func attach(_ action: @escaping @Sendable () -> Void) {
        let requested = state.withLock { state in
            state.action = action
            return state.requested
        }
        if requested { action() }
    }
}

/// SIGTERM and SIGINT: the first starts the graceful drain, a second exits at once
/// (what was accepted is on disk either way). Unchecked: the sources are set in
/// `init` and only cancelled afterwards, which dispatch makes thread-safe.
private final class SignalHandling: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(logger: Logger, onFirstSignal: @escaping @Sendable () -> Void) {
        let received = SignalCount()
        sources = [SIGTERM, SIGINT].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                let count = received.increment()
                if count == 1 {
                    logger.info("signal \(signalNumber) received: draining (a second signal exits at once)")
                    onFirstSignal()
                } else {
                    logger.warning("second signal received: exiting now")
                    exit(128 + signalNumber)
                }
            }
            source.resume()
            return source
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}

/// How many stop signals arrived.
private final class SignalCount: Sendable {
    private let count = Mutex(0)

    func increment() -> Int {
        count.withLock { count in
            count += 1
            return count
        }
    }
}
