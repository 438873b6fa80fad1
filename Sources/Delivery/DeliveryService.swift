import Foundation
import Logging
import MailQueue
import Metrics
import Synchronization

/// Settings of the delivery engine, from the gateway's configuration.
public struct DeliveryServiceConfiguration: Sendable {
    /// True when every message goes to the relay; false routes by recipient domain.
    public var relayMode: Bool
    public var retryPolicy: RetryPolicy
    public var totalConnections: Int
    public var connectionsPerDestination: Int
    /// Who holds the leases this instance takes (unique per process).
    public var owner: String
    /// How long a claim lasts unless renewed; SPEC §6: a dead instance's claims
    /// are claimable again within 60 s.
    public var lease: Duration = .seconds(45)
    /// How many recipients one claim takes at most.
    public var claimBatchSize: Int = 500
    /// How many claimed recipients may wait or be on the wire at once.
    public var maximumInFlight: Int = 4000
    /// The longest sleep between looks at the queue (other instances and the
    /// command line change it too).
    public var pollInterval: Duration = .seconds(1)
    /// The shortest time between two claims that found less than a full batch:
    /// thousands of accepts a second wake the service, and one claim for each
    /// would cost more than the messages it finds.
    public var minimumClaimInterval: Duration = .milliseconds(20)

    public init(relayMode: Bool, retryPolicy: RetryPolicy, totalConnections: Int, connectionsPerDestination: Int, owner: String) {
        self.relayMode = relayMode
        self.retryPolicy = retryPolicy
        self.totalConnections = totalConnections
        self.connectionsPerDestination = connectionsPerDestination
        self.owner = owner
    }
}

/// Postfix's qmgr and smtp in one service: claims due recipients from the store,
/// groups them into transactions by message and destination, hands them to the
/// sender pool, and records each recipient's outcome (with its event) as replies
/// come back. Leases on recipients in flight are renewed while they are worked on.
public final class DeliveryService: Sendable {
    private let store: any QueueStore
    private let configuration: DeliveryServiceConfiguration
    private let logger: Logger
    private let decider: OutcomeDecider
    private let pool: SenderPool
    private let wakeClaims = WakeSignal()
    private let inbox = AttemptInbox()
    private let onOutcomesRecorded: @Sendable () -> Void
    private let state = Mutex(State())

    private struct State {
        var running = true
        /// Set once the sender threads have ended: no more attempts will come.
        var sendersStopped = false
        /// How long transactions in flight may take to end once shutdown began.
        var drainTimeout: Duration = .seconds(30)
        /// Claimed recipients not yet recorded, by id.
        var inFlight: [Int64: ClaimedRecipient] = [:]
    }

    /// `onOutcomesRecorded` runs after outcomes (and so events) are stored: the
    /// gateway wakes the webhook service with it.
    public init(
        store: any QueueStore, connector: any DestinationConnector, configuration: DeliveryServiceConfiguration,
        logger: Logger, onOutcomesRecorded: @escaping @Sendable () -> Void = {}
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.decider = OutcomeDecider(retryPolicy: configuration.retryPolicy)
        self.onOutcomesRecorded = onOutcomesRecorded
        let inbox = self.inbox
        self.pool = SenderPool(
            connections: configuration.totalConnections, lookupThreads: max(16, configuration.totalConnections),
            connectionsPerDestination: configuration.connectionsPerDestination, connector: connector
        ) { _, attempts in inbox.add(attempts) }
    }

    /// New messages were accepted: look at the queue now rather than at the next poll.
    public func wake() { wakeClaims.signal() }

    /// Runs until `beginShutdown(drainTimeout:)`; then lets transactions in flight
    /// end (within the drain timeout), records their outcomes, and gives unsent
    /// claims back.
    public func run() async {
        pool.start()
        logger.info("delivery started", metadata: [
            "mode": "\(configuration.relayMode ? "relay" : "mx")", "connections": "\(configuration.totalConnections)",
        ])
        let recording = Task { await recordLoop() }
        let renewing = Task { await renewLoop() }
        await claimLoop()

        let drainTimeout = state.withLock { $0.drainTimeout }
        let unsent = await Task.detached { [pool] in
            pool.stop(deadline: Date().addingTimeInterval(drainTimeout.seconds))
        }.value
        let unsentIDs = unsent.flatMap { $0.recipients.map(\.recipientID) }
        if !unsentIDs.isEmpty {
            try? await store.releaseRecipients(owner: configuration.owner, recipientIDs: unsentIDs)
            state.withLock { state in unsentIDs.forEach { state.inFlight[$0] = nil } }
        }
        state.withLock { $0.sendersStopped = true }
        inbox.wake.signal()
        await recording.value
        renewing.cancel()
        await renewing.value
        logger.info("delivery stopped", metadata: ["released": "\(unsentIDs.count)"])
    }

    public func beginShutdown(drainTimeout: Duration = .seconds(30)) {
        state.withLock { state in
            state.running = false
            state.drainTimeout = drainTimeout
        }
        wakeClaims.signal()
        inbox.wake.signal()
    }

    private var isRunning: Bool { state.withLock { $0.running } }

    // MARK: Claiming

    private func claimLoop() async {
        while isRunning {
            let capacity = configuration.maximumInFlight - state.withLock { $0.inFlight.count }
            var claimedFullBatch = false
            if capacity > 0 {
                do {
                    let limit = min(capacity, configuration.claimBatchSize)
                    let claimed = try await store.claimDueRecipients(
                        owner: configuration.owner, now: Date(), limit: limit, lease: configuration.lease)
                    if !claimed.isEmpty {
                        await dispatch(claimed)
                        claimedFullBatch = claimed.count == limit
                    }
                } catch {
                    logger.warning("claiming recipients failed", metadata: ["error": "\(error)"])
                }
            }
            if claimedFullBatch { continue }
            let claimedAt = ContinuousClock.now
            await wakeClaims.wait(timeout: await sleepBeforeNextClaim())
            let since = ContinuousClock.now - claimedAt
            if since < configuration.minimumClaimInterval, isRunning {
                try? await Task.sleep(for: configuration.minimumClaimInterval - since)
            }
        }
    }

    /// Until the next recipient is due, at most the poll interval.
    private func sleepBeforeNextClaim() async -> Duration {
        guard let due = try? await store.nextRecipientDue() else { return configuration.pollInterval }
        let wait = due.timeIntervalSinceNow
        guard wait > 0 else { return .milliseconds(10) }
        return min(configuration.pollInterval, .milliseconds(Int64(wait * 1000) + 1))
    }

    /// Loads each message's content once and queues its transactions.
    private func dispatch(_ claimed: [ClaimedRecipient]) async {
        state.withLock { state in
            for recipient in claimed { state.inFlight[recipient.recipientID] = recipient }
        }
        var contents: [String: MessageContent] = [:]
        var jobs: [DeliveryJob] = []
        var orphans: [Int64] = []
        for group in DeliveryJob.plan(claimed, relayMode: configuration.relayMode) {
            if contents[group.messageID] == nil {
                contents[group.messageID] = try? await store.messageContent(id: group.messageID)
            }
            guard let content = contents[group.messageID] else {
                orphans.append(contentsOf: group.recipients.map(\.recipientID))
                continue
            }
            jobs.append(DeliveryJob(destination: group.destination, content: content, recipients: group.recipients))
        }
        if !orphans.isEmpty {
            logger.warning("claimed recipients without message content were given back", metadata: ["count": "\(orphans.count)"])
            try? await store.releaseRecipients(owner: configuration.owner, recipientIDs: orphans)
            state.withLock { state in orphans.forEach { state.inFlight[$0] = nil } }
        }
        pool.enqueue(jobs)
    }

    // MARK: Recording

    private func recordLoop() async {
        var generator = SystemRandomNumberGenerator()
        var pending: [RecipientOutcome] = []
        while true {
            let sendersStopped = state.withLock { $0.sendersStopped }
            let attempts = inbox.take()
            let now = Date()
            for attempt in attempts {
                guard let recipient = state.withLock({ $0.inFlight[attempt.recipientID] }) else { continue }
                pending.append(decider.outcome(for: attempt, recipient: recipient, now: now, random: &generator))
            }
            if !pending.isEmpty {
                do {
                    try await store.recordOutcomes(pending, owner: configuration.owner)
                    finish(pending)
                    pending = []
                } catch {
                    // Keep them and try again: an outcome is never dropped while the process lives.
                    logger.error("recording outcomes failed; retrying", metadata: ["error": "\(error)", "count": "\(pending.count)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
            }
            if sendersStopped && pending.isEmpty && inbox.isEmpty { return }
            await inbox.wake.wait(timeout: .seconds(1))
        }
    }

    private func finish(_ outcomes: [RecipientOutcome]) {
        let recipients = state.withLock { state in outcomes.compactMap { state.inFlight.removeValue(forKey: $0.recipientID) } }
        var counts: [String: Int] = [:]
        for outcome in outcomes {
            counts[outcome.kind.label, default: 0] += 1
        }
        for (label, count) in counts {
            Counter(label: "mailgate_recipients_total", dimensions: [("outcome", label)]).increment(by: count)
        }
        for (outcome, recipient) in zip(outcomes, recipients) {
            logger.info("recipient \(outcome.kind.label)", metadata: [
                "message_id": "\(recipient.messageID)", "recipient": "\(recipient.email)",
                "response": "\(outcome.response.map { "\($0.code) \($0.message)" } ?? "")",
            ])
        }
        onOutcomesRecorded()
        wakeClaims.signal()
    }

    // MARK: Leases

    private func renewLoop() async {
        let interval = configuration.lease / 3
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let ids = state.withLock { Array($0.inFlight.keys) }
            guard !ids.isEmpty, !Task.isCancelled else { continue }
            let until = Date().addingTimeInterval(configuration.lease.seconds)
            do {
                try await store.renewRecipientLeases(owner: configuration.owner, recipientIDs: ids, until: until)
            } catch {
                logger.warning("renewing leases failed", metadata: ["error": "\(error)"])
            }
        }
    }
}

extension RecipientOutcome.Kind {
    /// The `outcome` label of `mailgate_recipients_total`.
    var label: String {
        switch self {
        case .delivered: "delivered"
        case .deferred: "deferred"
        case .bounced: "bounced"
        case .failed: "failed"
        }
    }
}

/// Attempts handed over by sender threads, waiting for the recorder task.
private final class AttemptInbox: Sendable {
    private let attempts = Mutex<[RecipientAttempt]>([])
    let wake = WakeSignal()

    func add(_ new: [RecipientAttempt]) {
        attempts.withLock { $0.append(contentsOf: new) }
        wake.signal()
    }

    func take() -> [RecipientAttempt] {
        attempts.withLock { attempts in
            defer { attempts = [] }
            return attempts
        }
    }

    var isEmpty: Bool { attempts.withLock { $0.isEmpty } }
}
