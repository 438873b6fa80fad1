import Foundation
import Logging
import MailQueue

/// The webhook service's loop, owned by the task that runs it: claim due events,
/// post them, turn outcomes into results, write the results in batches. It sleeps
/// on its mailbox between rounds, until an outcome arrives, a results write ends,
/// `wake()` is called, the next event is due, or the poll interval passes. It
/// awaits the store only to claim; results are written in the background.
final class WebhookDrain {
    private enum Phase {
        case running
        /// Nothing new is posted; POSTs in flight have until the deadline.
        case draining(deadline: ContinuousClock.Instant)
    }

    /// The shortest sleep after a claim found nothing, however due the store says events are.
    private static let idleFloor = Duration.milliseconds(50)
    /// Writes of the last results at stop, at most (the store may be failing), and
    /// how long to wait for a write that was under way.
    private static let finalWriteAttempts = 3
    private static let finalWriteLimit = Duration.seconds(5)

    private let store: any QueueStore
    private let client: WebhookClient
    private let mailbox: WebhookMailbox
    private let configuration: WebhookService.Configuration
    private let logger: Logger
    private let counters: WebhookPostCounters
    private let policy: WebhookRetryPolicy
    /// Below this much room, claiming waits for POSTs to end (fewer, larger claims).
    private let minimumClaim: Int
    private var queues: ReceiverQueues
    private var results = PendingResults()
    /// Events claimed but never posted when the service began stopping: `finish()`
    /// gives them back so that they are due at once, here after a restart or on another gateway.
    private var unpostedAtStop: [PendingWebhook] = []
    private var phase = Phase.running
    private var nextClaimAt = ContinuousClock.now

    init(
        store: any QueueStore, client: WebhookClient, mailbox: WebhookMailbox,
        configuration: WebhookService.Configuration, logger: Logger, counters: WebhookPostCounters
    ) {
        self.store = store
        self.client = client
        self.mailbox = mailbox
        self.configuration = configuration
        self.logger = logger
        self.counters = counters
        self.policy = WebhookRetryPolicy(schedule: configuration.retrySchedule)
        let timeout = configuration.timeout
        self.queues = ReceiverQueues(limits: .init(
            maxInFlight: configuration.maxInFlight,
            maxInFlightPerReceiver: configuration.maxInFlightPerReceiver,
            maxOutstanding: configuration.maxInFlight * 2,
            slowAfter: min(.seconds(1), timeout / 2),
            holdLimit: configuration.lease - timeout - .seconds(5)
        ))
        self.minimumClaim = max(1, min(32, configuration.maxInFlight / 2))
    }

    /// Runs rounds until stopped and the POSTs in flight have ended (or their time is up).
    func run() async {
        while true {
            take(await mailbox.next(until: wakeUpTime()))
            writeResults()
            if case .draining(let deadline) = phase {
                if queues.inFlightCount == 0 || ContinuousClock.now >= deadline { return }
                continue
            }
            letGo(queues.shed(now: .now), why: "held too long, or their receiver is congested")
            await claimIfDue()
            post(queues.takeReady(now: .now))
        }
    }

    /// After the client has shut down (every outcome is in the mailbox): writes the
    /// results still pending, the cut-off POSTs' among them.
    func finish() async {
        take(mailbox.takeAll())
        let deadline = ContinuousClock.now + Self.finalWriteLimit
        while results.isWriting, ContinuousClock.now < deadline {
            take(await mailbox.next(until: deadline))
        }
        for _ in 0..<Self.finalWriteAttempts where !results.isWriting {
            guard let batch = results.startBatch(now: .now, ignoringPause: true) else { break }
            let stored = await write(batch)
            results.batchFinished(stored: stored, now: .now)
        }
        if !results.isEmpty {
            logger.error("webhook results left unwritten at stop; their events will be posted again", metadata: [
                "count": "\(results.count)",
            ])
        }
        await releaseUnposted()
    }

    private func releaseUnposted() async {
        guard !unpostedAtStop.isEmpty else { return }
        do {
            try await store.releaseWebhooks(owner: configuration.owner, eventIDs: unpostedAtStop.map(\.eventID))
            logger.debug("webhook events given back unposted at stop", metadata: ["count": "\(unpostedAtStop.count)"])
        } catch {
            logger.warning("could not give back unposted webhook events; they are due again when their lease ends", metadata: [
                "count": "\(unpostedAtStop.count)", "error": "\(error)",
            ])
        }
        unpostedAtStop = []
    }

    private func wakeUpTime() -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        var wakeUp = now + configuration.pollInterval
        if let paused = results.pausedUntil { wakeUp = min(wakeUp, paused) }
        switch phase {
        case .draining(let deadline):
            return min(wakeUp, deadline)
        case .running:
            return canClaim ? min(wakeUp, nextClaimAt) : wakeUp
        }
    }

    private var canClaim: Bool {
        let limit = queues.claimLimit
        return !results.isFailing && (limit >= minimumClaim || (limit > 0 && queues.outstandingCount == 0))
    }

    private func take(_ mail: WebhookMailbox.Mail) {
        for (eventID, outcome) in mail.outcomes {
            guard let event = queues.finish(eventID: eventID) else { continue }
            judge(outcome, of: event)
        }
        if let stored = mail.resultsStored { results.batchFinished(stored: stored, now: .now) }
        if mail.woken { nextClaimAt = .now }
        if let deadline = mail.stopDeadline { beginDraining(deadline: deadline) }
    }

    private func beginDraining(deadline: ContinuousClock.Instant) {
        if case .draining(let current) = phase, current <= deadline { return }
        if case .running = phase {
            unpostedAtStop = queues.releaseHeld()
            logger.info("webhook service stopping", metadata: ["in_flight": "\(queues.inFlightCount)"])
        }
        phase = .draining(deadline: deadline)
    }

    /// Turns one POST's outcome into a result to write, a metric and a log line.
    private func judge(_ outcome: WebhookPostOutcome, of event: PendingWebhook) {
        let now = Date()
        let verdict = policy.verdict(on: outcome, postAttempts: event.postAttempts, now: now)
        results.add(WebhookPostResult(eventID: event.eventID, kind: verdict.kind, postedAt: now, posted: outcome.wasSent))
        counters.count(verdict)
        if case .retry(let date, _) = verdict {
            nextClaimAt = min(nextClaimAt, .now + .seconds(max(0, date.timeIntervalSince(now))))
        }
        log(verdict, of: event)
    }

    /// One line per POST: debug when delivered, info when retried, warning when dropped.
    /// The event's URL shows only as its receiver (a path or query can hold a token).
    private func log(_ verdict: WebhookVerdict, of event: PendingWebhook) {
        let level: Logger.Level = switch verdict {
        case .delivered: .debug
        case .retry: .info
        case .dropped: .warning
        }
        guard logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "event_id": "\(event.eventID)", "message_id": "\(event.messageID)",
            "receiver": "\(ReceiverQueues.receiverKey(event.webhookURL))", "attempt": "\(event.postAttempts + 1)",
        ]
        switch verdict {
        case .delivered(let status):
            metadata["status"] = "\(status)"
            logger.log(level: level, "webhook delivered", metadata: metadata)
        case .retry(let date, let reason):
            metadata["reason"] = "\(reason)"
            metadata["next_attempt_at"] = "\(date)"
            logger.log(level: level, "webhook POST failed; will retry", metadata: metadata)
        case .dropped(let reason):
            metadata["reason"] = "\(reason)"
            logger.log(level: level, "webhook event dropped", metadata: metadata)
        }
    }

    /// Starts writing the waiting results in the background; the mailbox says when it ended.
    private func writeResults() {
        guard let batch = results.startBatch(now: .now) else { return }
        Self.startWriting(batch, to: store, owner: configuration.owner, logger: logger, mailbox: mailbox)
    }

    private static func startWriting(
        _ batch: [WebhookPostResult], to store: any QueueStore, owner: String, logger: Logger, mailbox: WebhookMailbox
    ) {
        Task {
            let stored = await WebhookDrain.write(batch, to: store, owner: owner, logger: logger)
            mailbox.resultsWritten(stored: stored)
        }
    }

    private func write(_ batch: [WebhookPostResult]) async -> Bool {
        await Self.write(batch, to: store, owner: configuration.owner, logger: logger)
    }

    private static func write(_ batch: [WebhookPostResult], to store: any QueueStore, owner: String, logger: Logger) async -> Bool {
        do {
            try await store.recordWebhookResults(batch, owner: owner)
            return true
        } catch {
            logger.error("writing webhook results failed; trying again", metadata: ["count": "\(batch.count)", "error": "\(error)"])
            return false
        }
    }

    private func claimIfDue() async {
        let now = ContinuousClock.now
        guard canClaim, now >= nextClaimAt else { return }
        let limit = queues.claimLimit
        do {
            let events = try await store.claimDueWebhooks(owner: configuration.owner, now: Date(), limit: limit, lease: configuration.lease)
            letGo(queues.admit(events, now: .now), why: "their receiver is congested")
            nextClaimAt = events.count >= limit ? .now : await nextDueTime(after: now)
        } catch {
            logger.error("claiming due webhook events failed", metadata: ["error": "\(error)"])
            nextClaimAt = now + configuration.pollInterval
        }
    }

    /// When to claim again: when the store says the next event is due, but not
    /// sooner than `idleFloor` nor later than the poll interval.
    private func nextDueTime(after now: ContinuousClock.Instant) async -> ContinuousClock.Instant {
        let latest = now + configuration.pollInterval
        guard let due = try? await store.nextWebhookDue() else { return latest }
        return min(latest, now + max(Self.idleFloor, .seconds(max(0, due.timeIntervalSinceNow))))
    }

    private func post(_ events: [PendingWebhook]) {
        for event in events {
            let request = WebhookRequest(url: event.webhookURL, eventID: event.eventID, body: WebhookPayload.body(for: event))
            client.post(request) { [mailbox, eventID = event.eventID] outcome in
                mailbox.deliver(eventID: eventID, outcome: outcome)
            }
        }
    }

    /// Events claimed but not posted because their receiver is congested or they
    /// waited too long for a slot: their lease runs out and the store offers them
    /// again. Not given back at once on purpose: the lease is their back-off, since
    /// claims take the oldest due events first and would hand a congested
    /// receiver's backlog straight back, crowding out other receivers' events.
    private func letGo(_ events: [PendingWebhook], why reason: String) {
        guard !events.isEmpty else { return }
        logger.debug("webhook events left for their lease to expire", metadata: [
            "count": "\(events.count)", "reason": "\(reason)",
        ])
    }
}
