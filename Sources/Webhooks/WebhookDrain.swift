import Foundation
import Logging
import MailQueue

/// The webhook service's loop, owned by the task that runs it: claim due events,
/// post them, turn outcomes into results, record the results in batches. It sleeps
/// on its mailbox between rounds, until an outcome arrives, `wake()` is called, the
/// next event is due, or the poll interval passes.
final class WebhookDrain {
    private enum Phase {
        case running
        /// Nothing new is posted; POSTs in flight have until the deadline.
        case draining(deadline: ContinuousClock.Instant)
    }

    /// The shortest sleep after a claim found nothing, however due the store says events are.
    private static let idleFloor = Duration.milliseconds(50)

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
    private var phase = Phase.running
    private var nextClaimAt = ContinuousClock.now
    /// Results not yet recorded (a failed write is tried again before claiming more).
    private var unrecorded: [WebhookPostResult] = []

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
            let mail = await mailbox.next(until: wakeUpTime())
            take(mail)
            await record()
            if case .draining(let deadline) = phase {
                if queues.inFlightCount == 0 || ContinuousClock.now >= deadline { return }
                continue
            }
            letGo(queues.shed(now: .now), why: "held too long, or their receiver is congested")
            await claimIfDue()
            post(queues.takeReady(now: .now))
        }
    }

    /// After the client has shut down: records the outcomes of the POSTs it cut off.
    func finish() async {
        take(mailbox.takeAll())
        await record()
        if !unrecorded.isEmpty {
            logger.error("webhook results left unrecorded at stop; their events will be posted again", metadata: [
                "count": "\(unrecorded.count)",
            ])
        }
    }

    private func wakeUpTime() -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        switch phase {
        case .draining(let deadline):
            return min(deadline, now + configuration.pollInterval)
        case .running:
            let canClaim = unrecorded.isEmpty && (queues.claimLimit >= minimumClaim || queues.outstandingCount == 0)
            return canClaim ? min(nextClaimAt, now + configuration.pollInterval) : now + configuration.pollInterval
        }
    }

    private func take(_ mail: WebhookMailbox.Mail) {
        for (eventID, outcome) in mail.outcomes {
            guard let event = queues.finish(eventID: eventID) else { continue }
            judge(outcome, of: event)
        }
        if mail.woken { nextClaimAt = .now }
        if let deadline = mail.stopDeadline {
            beginDraining(deadline: deadline)
        }
    }

    private func beginDraining(deadline: ContinuousClock.Instant) {
        if case .draining(let current) = phase, current <= deadline { return }
        if case .running = phase {
            letGo(queues.releaseHeld(), why: "the service is stopping")
            logger.info("webhook service stopping", metadata: ["in_flight": "\(queues.inFlightCount)"])
        }
        phase = .draining(deadline: deadline)
    }

    /// Turns one POST's outcome into a result to record, a metric and a log line.
    private func judge(_ outcome: WebhookPostOutcome, of event: PendingWebhook) {
        let now = Date()
        let verdict = policy.verdict(on: outcome, postAttempts: event.postAttempts, now: now)
        unrecorded.append(WebhookPostResult(eventID: event.eventID, kind: verdict.kind, postedAt: now))
        counters.count(verdict)
        var metadata: Logger.Metadata = [
            "event_id": "\(event.eventID)", "message_id": "\(event.messageID)",
            "receiver": "\(ReceiverQueues.receiverKey(event.webhookURL))", "attempt": "\(event.postAttempts + 1)",
        ]
        switch verdict {
        case .delivered(let status):
            metadata["status"] = "\(status)"
            logger.debug("webhook delivered", metadata: metadata)
        case .retry(let date, let reason):
            metadata["reason"] = "\(reason)"
            metadata["next_attempt_at"] = "\(date)"
            logger.info("webhook POST failed; will retry", metadata: metadata)
            let wait = Duration.seconds(max(0, date.timeIntervalSinceNow))
            nextClaimAt = min(nextClaimAt, .now + wait)
        case .dropped(let reason):
            metadata["reason"] = "\(reason)"
            logger.warning("webhook event dropped", metadata: metadata)
        }
    }

    private func record() async {
        guard !unrecorded.isEmpty else { return }
        do {
            try await store.recordWebhookResults(unrecorded, owner: configuration.owner)
            unrecorded.removeAll(keepingCapacity: true)
        } catch {
            logger.error("recording webhook results failed; trying again", metadata: [
                "count": "\(unrecorded.count)", "error": "\(error)",
            ])
        }
    }

    private func claimIfDue() async {
        let now = ContinuousClock.now
        let limit = queues.claimLimit
        guard unrecorded.isEmpty, now >= nextClaimAt,
              limit >= minimumClaim || (limit > 0 && queues.outstandingCount == 0) else { return }
        do {
            let events = try await store.claimDueWebhooks(
                owner: configuration.owner, now: Date(), limit: limit, lease: configuration.lease)
            letGo(queues.admit(events, now: .now), why: "their receiver is congested")
            if events.count >= limit {
                nextClaimAt = .now
            } else {
                nextClaimAt = await nextDueTime(after: now)
            }
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
        let wait = Duration.seconds(max(0, due.timeIntervalSinceNow))
        return min(latest, now + max(Self.idleFloor, wait))
    }

    private func post(_ events: [PendingWebhook]) {
        for event in events {
            let request = WebhookRequest(url: event.webhookURL, eventID: event.eventID, body: WebhookPayload.body(for: event))
            client.post(request) { [mailbox, eventID = event.eventID] outcome in
                mailbox.deliver(eventID: eventID, outcome: outcome)
            }
        }
    }

    /// Events claimed but not posted: their lease runs out and the store offers them again.
    private func letGo(_ events: [PendingWebhook], why reason: String) {
        guard !events.isEmpty else { return }
        logger.debug("webhook events left for their lease to expire", metadata: [
            "count": "\(events.count)", "reason": "\(reason)",
        ])
    }
}
