import HTTPServer
import Logging
import MailQueue
import Metrics
import Prometheus
import Synchronization

/// The gateway's Prometheus metrics (SPEC §6 names). Every module records through
/// swift-metrics; the gateway bootstraps it with swift-prometheus's factory once
/// per process, and `/metrics` renders that registry.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let accepted: Metrics.Counter
    private let requestCounters = Mutex<[String: Metrics.Counter]>([:])
    private let requestDuration: Metrics.Timer
    private let queueGauges: [RecipientStatus: Metrics.Gauge]
    private let oldestDeferred: Metrics.Gauge
    private let storeCommits: Metrics.Gauge
    private let storeSyncedCommits: Metrics.Gauge
    private let storeWrites: Metrics.Gauge

    private static let shared = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Bootstraps swift-metrics with a Prometheus registry the first time; later
    /// calls (tests that start several gateways) reuse it.
    public static func bootstrap() -> GatewayMetrics {
        let registry = shared.withLock { shared in
            if let registry = shared { return registry }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            shared = registry
            return registry
        }
        return GatewayMetrics(registry: registry)
    }

    private init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        accepted = Metrics.Counter(label: "mailgate_messages_accepted_total")
        requestDuration = Metrics.Timer(label: "mailgate_http_request_duration_seconds")
        queueGauges = Dictionary(uniqueKeysWithValues: RecipientStatus.allCases.map {
            ($0, Metrics.Gauge(label: "mailgate_queue_recipients", dimensions: [("status", $0.rawValue)]))
        })
        oldestDeferred = Metrics.Gauge(label: "mailgate_queue_oldest_deferred_seconds")
        storeCommits = Metrics.Gauge(label: "mailgate_store_commits")
        storeSyncedCommits = Metrics.Gauge(label: "mailgate_store_synced_commits")
        storeWrites = Metrics.Gauge(label: "mailgate_store_writes")
        // Make every outcome series visible at zero before the first delivery.
        for outcome in ["delivered", "deferred", "bounced", "failed", "canceled"] {
            Metrics.Counter(label: "mailgate_recipients_total", dimensions: [("outcome", outcome)]).increment(by: 0)
        }
        for result in ["success", "failure", "dropped"] {
            Metrics.Counter(label: "mailgate_webhook_posts_total", dimensions: [("result", result)]).increment(by: 0)
        }
        accepted.increment(by: 0)
    }

    func messagesAccepted(_ count: Int) { accepted.increment(by: count) }

    func recipientsCanceled(_ count: Int) {
        Metrics.Counter(label: "mailgate_recipients_total", dimensions: [("outcome", "canceled")]).increment(by: count)
    }

    /// Sets the queue gauges from the store's counts (done just before each scrape).
    func updateQueue(_ statistics: QueueStatistics) {
        for (status, gauge) in queueGauges {
            gauge.record(statistics.recipientsByStatus[status] ?? 0)
        }
        oldestDeferred.record(statistics.oldestDeferredSeconds)
    }

    /// Sets the store's write counters: writes, the transactions they shared, and
    /// the transactions synced to disk (group commit makes the last far fewer than
    /// the first).
    func updateStore(_ statistics: WriteStatistics) {
        storeCommits.record(statistics.commits)
        storeSyncedCommits.record(statistics.durableCommits)
        storeWrites.record(statistics.operations)
    }

    /// The Prometheus text exposition of every metric.
    func render() -> [UInt8] { registry.emitToBuffer() }

    fileprivate func requestFinished(route: String, status: Int, duration: Duration) {
        let key = "\(route) \(status)"
        let counter = requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Metrics.Counter(label: "mailgate_http_requests_total", dimensions: [("route", route), ("status", "\(status)")])
            counters[key] = counter
            return counter
        }
        counter.increment()
        requestDuration.record(duration: duration)
    }
}

/// Feeds every finished HTTP exchange into the request metrics and the access log
/// (one line a request, with its request id; never a header or a body). Probes and
/// scrapes are logged at debug only: they come every few seconds and say nothing.
struct HTTPExchangeObserver: HTTPServerObserver {
    let metrics: GatewayMetrics
    let logger: Logger

    static let quietRoutes: Set<String> = ["/healthz", "/readyz", "/metrics"]

    func requestFinished(_ summary: HTTPExchangeSummary) {
        metrics.requestFinished(route: summary.route, status: summary.status, duration: summary.duration)
        let level: Logger.Level = Self.quietRoutes.contains(summary.route) && summary.status < 500 ? .debug : .info
        logger.log(level: level, "request", metadata: [
            "request_id": "\(summary.requestID)",
            "method": "\(summary.method?.rawValue ?? "-")",
            "route": "\(summary.route)",
            "status": "\(summary.status)",
            "duration_ms": "\(Double(summary.duration.components.attoseconds / 1_000_000_000_000) / 1000 + Double(summary.duration.components.seconds) * 1000)",
            "remote": "\(summary.remoteAddress)",
        ])
    }
}
