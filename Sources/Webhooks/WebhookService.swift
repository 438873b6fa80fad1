import Foundation
import Logging
import MailQueue
import Metrics

/// Drains the event outbox (Postfix's bounce/defer daemon, here over HTTP): claims
/// due events from the queue store under a lease, POSTs each one signed the
/// Standard Webhooks way, and records every result, so that every recipient outcome
/// reaches its webhook at least once, across restarts and receiver outages.
///
/// Many POSTs are in flight at once on the client's own thread, a bounded number
/// per receiver, so a dead or slow receiver slows neither the others nor SMTP
/// delivery, with which the service shares nothing but the store. The loop itself
/// only awaits the store and its mailbox: it never blocks a thread.
///
/// Lifecycle: `run()` once; `stop(gracePeriod:)` (or cancelling the task) ends it
/// after the POSTs in flight have ended or the grace period has passed.
public final class WebhookService: Sendable {
    public struct Configuration: Sendable {
        /// Names this instance's claims (unique per process, e.g. host name + pid + random).
        public var owner: String
        /// `mailgate/<version>` is sent as User-Agent.
        public var version: String
        /// The decoded `MAILGATE_WEBHOOK_SECRET` key; nil sends unsigned events.
        public var signingKey: [UInt8]?
        /// `MAILGATE_WEBHOOK_RETRY_SCHEDULE`.
        public var retrySchedule: [Duration]
        /// `MAILGATE_WEBHOOK_TIMEOUT`.
        public var timeout: Duration
        /// `MAILGATE_WEBHOOK_ALLOW_PRIVATE`.
        public var allowPrivate: Bool
        /// POSTs in flight at most, over all receivers.
        public var maxInFlight: Int
        /// POSTs in flight to one receiver (`scheme://host:port`) at most.
        public var maxInFlightPerReceiver: Int
        /// How often the store is asked for due events when nothing else wakes the service.
        public var pollInterval: Duration

        public init(
            owner: String, version: String, signingKey: [UInt8]?,
            retrySchedule: [Duration] = Self.standardRetrySchedule, timeout: Duration = .seconds(10),
            allowPrivate: Bool = false, maxInFlight: Int = 256, maxInFlightPerReceiver: Int = 64,
            pollInterval: Duration = .seconds(1)
        ) {
            self.owner = owner
            self.version = version
            self.signingKey = signingKey
            self.retrySchedule = retrySchedule
            self.timeout = timeout
            self.allowPrivate = allowPrivate
            self.maxInFlight = max(1, maxInFlight)
            self.maxInFlightPerReceiver = max(1, min(maxInFlightPerReceiver, maxInFlight))
            self.pollInterval = pollInterval
        }

        /// Standard Webhooks' schedule, the default of `MAILGATE_WEBHOOK_RETRY_SCHEDULE`.
        public static let standardRetrySchedule: [Duration] = [
            .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18000), .seconds(36000), .seconds(36000),
        ]

        /// How long a claim lasts: a held event waits at most a timeout for a slot,
        /// then its POST takes at most another, so three timeouts and a margin leave
        /// room to record the result before the lease could run out (no renewal needed).
        public var lease: Duration { timeout * 3 + .seconds(5) }
    }

    private enum Phase { case ready, running, finished }

    private let store: any QueueStore
    private let configuration: Configuration
    private let logger: Logger
    private let postCounters: WebhookPostCounters
    private let mailbox = WebhookMailbox()
    private let phaseLock = NSLock()
    nonisolated(unsafe) private var phase = Phase.ready

    public init(
        store: any QueueStore, configuration: Configuration, logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.postCounters = WebhookPostCounters(factory: metricsFactory)
    }

    /// Drains the outbox until `stop` is called or the task is cancelled. Returns
    /// at once if the service ran before. Throws only if libcurl cannot start.
    public func run() async throws {
        guard enter(.running, from: .ready) else { return }
        defer { _ = enter(.finished, from: .running) }
        let client = try WebhookClient(configuration: .init(
            timeout: configuration.timeout, userAgent: "mailgate/\(configuration.version)",
            signer: configuration.signingKey.map(WebhookSigner.init(key:)),
            addressGuard: AddressGuard(allowPrivate: configuration.allowPrivate),
            completionRoundEnded: { [mailbox] in mailbox.outcomesDelivered() }
        ))
        let drain = WebhookDrain(
            store: store, client: client, mailbox: mailbox, configuration: configuration,
            logger: logger, counters: postCounters
        )
        await withTaskCancellationHandler {
            await drain.run()
        } onCancel: { [mailbox] in
            mailbox.requestStop(deadline: .now)
        }
        await client.shutdown()
        await drain.finish()
    }

    /// New events exist (the delivery side just recorded some): look now rather
    /// than at the next poll.
    public func wake() {
        mailbox.wake()
    }

    /// Stops claiming and posting; POSTs in flight get until `gracePeriod` passes to
    /// end, then are cut off (and become due again at once). `run()` returns when
    /// their results are recorded.
    public func stop(gracePeriod: Duration = .seconds(20)) {
        mailbox.requestStop(deadline: .now + gracePeriod)
    }

    private func enter(_ next: Phase, from expected: Phase) -> Bool {
        phaseLock.lock()
        defer { phaseLock.unlock() }
        guard phase == expected else { return false }
        phase = next
        return true
    }
}

/// `mailgate_webhook_posts_total{result}`: success, failure (will retry), dropped.
struct WebhookPostCounters: Sendable {
    private let counters: [String: Counter]

    init(factory: any MetricsFactory) {
        counters = Dictionary(uniqueKeysWithValues: ["success", "failure", "dropped"].map { result in
            (result, Counter(label: "mailgate_webhook_posts_total", dimensions: [("result", result)], factory: factory))
        })
    }

    func count(_ verdict: WebhookVerdict) {
        counters[verdict.metricResult]?.increment()
    }
}
