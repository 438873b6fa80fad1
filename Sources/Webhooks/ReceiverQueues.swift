import MailQueue

/// Claimed events, queued per receiver, and which of them may be posted now
/// (STYLE: scheduling does no I/O; the service does the claiming and posting).
///
/// The store hands out due events oldest first, whoever receives them, so a dead
/// or slow receiver with a backlog would fill every slot and stall the others.
/// Two rules keep receivers apart:
/// - at most `maxInFlightPerReceiver` POSTs to one receiver at a time;
/// - a congested receiver (a POST to it has run longer than `slowAfter`) keeps at
///   most that many events claimed; further ones are let go unposted. Their lease
///   runs out and the store offers them again later, with no attempt counted, while
///   the claims go on to other receivers' events.
/// Events held longer than `holdLimit` are let go the same way, so that none is
/// posted after its lease could have run out.
struct ReceiverQueues {
    struct Limits: Sendable {
        var maxInFlight: Int
        var maxInFlightPerReceiver: Int
        /// Claimed events (held and in flight) at most.
        var maxOutstanding: Int
        var slowAfter: Duration
        var holdLimit: Duration
    }

    private struct Held {
        let event: PendingWebhook
        let claimedAt: ContinuousClock.Instant
    }

    private struct Receiver {
        var held: [Held] = []
        /// Start times of the POSTs in flight, by event id.
        var inFlight: [String: ContinuousClock.Instant] = [:]

        var outstanding: Int { held.count + inFlight.count }

        func isCongested(now: ContinuousClock.Instant, slowAfter: Duration) -> Bool {
            inFlight.values.contains { now - $0 > slowAfter }
        }
    }

    let limits: Limits
    private var receivers: [String: Receiver] = [:]
    /// Every event held or in flight, with its receiver key.
    private var outstandingEvents: [String: (receiver: String, event: PendingWebhook)] = [:]
    private(set) var inFlightCount = 0

    init(limits: Limits) { self.limits = limits }

    var outstandingCount: Int { outstandingEvents.count }
    var heldCount: Int { outstandingEvents.count - inFlightCount }

    /// How many events a claim may ask for now.
    var claimLimit: Int { max(0, limits.maxOutstanding - outstandingEvents.count) }

    /// Queues claimed events; returns those let go because their receiver is congested.
    /// An event already held or in flight (offered again after its lease ran out) is skipped.
    mutating func admit(_ events: [PendingWebhook], now: ContinuousClock.Instant) -> [PendingWebhook] {
        var letGo: [PendingWebhook] = []
        var congested: [String: Bool] = [:]
        for event in events where outstandingEvents[event.eventID] == nil {
            let key = Self.receiverKey(event.webhookURL)
            if let receiver = receivers[key], receiver.outstanding >= limits.maxInFlightPerReceiver {
                let isCongested = congested[key] ?? receiver.isCongested(now: now, slowAfter: limits.slowAfter)
                congested[key] = isCongested
                if isCongested {
                    letGo.append(event)
                    continue
                }
            }
            // Mutated in place through the subscript: copying a receiver out would copy its queue.
            receivers[key, default: Receiver()].held.append(Held(event: event, claimedAt: now))
            outstandingEvents[event.eventID] = (key, event)
        }
        return letGo
    }

    /// Moves the events that may go out now into flight, a receiver at a time.
    mutating func takeReady(now: ContinuousClock.Instant) -> [PendingWebhook] {
        var ready: [PendingWebhook] = []
        for key in Array(receivers.keys) where inFlightCount < limits.maxInFlight {
            let free = limits.maxInFlight - inFlightCount
            inFlightCount += Self.start(upTo: free, of: &receivers[key, default: Receiver()], limits: limits, now: now, into: &ready)
        }
        return ready
    }

    /// Moves up to `free` of one receiver's held events into flight; returns how many.
    private static func start(
        upTo free: Int, of receiver: inout Receiver, limits: Limits, now: ContinuousClock.Instant, into ready: inout [PendingWebhook]
    ) -> Int {
        let room = min(limits.maxInFlightPerReceiver - receiver.inFlight.count, free, receiver.held.count)
        guard room > 0 else { return 0 }
        for held in receiver.held.prefix(room) {
            receiver.inFlight[held.event.eventID] = now
            ready.append(held.event)
        }
        receiver.held.removeFirst(room)
        return room
    }

    /// Ends a POST; returns its event (nil for an id not in flight).
    mutating func finish(eventID: String) -> PendingWebhook? {
        guard let (key, event) = outstandingEvents[eventID],
              receivers[key]?.inFlight.removeValue(forKey: eventID) != nil else { return nil }
        outstandingEvents[eventID] = nil
        inFlightCount -= 1
        removeIfIdle(key)
        return event
    }

    /// Lets go of held events that waited past `holdLimit`, and of those beyond a
    /// congested receiver's share.
    mutating func shed(now: ContinuousClock.Instant) -> [PendingWebhook] {
        var letGo: [PendingWebhook] = []
        for key in Array(receivers.keys) {
            guard let receiver = receivers[key], !receiver.held.isEmpty else { continue }
            // Held events are in claim order: those past the hold limit are a prefix.
            let firstFresh = receiver.held.firstIndex { now - $0.claimedAt <= limits.holdLimit } ?? receiver.held.count
            var keep = receiver.held.count - firstFresh
            if receiver.isCongested(now: now, slowAfter: limits.slowAfter) {
                keep = min(keep, max(0, limits.maxInFlightPerReceiver - receiver.inFlight.count))
            }
            let kept = firstFresh..<(firstFresh + keep)
            guard kept.count < receiver.held.count else { continue }
            for (index, held) in receiver.held.enumerated() where !kept.contains(index) {
                letGo.append(held.event)
                outstandingEvents[held.event.eventID] = nil
            }
            receivers[key]?.held = Array(receiver.held[kept])
            removeIfIdle(key)
        }
        return letGo
    }

    /// Lets go of every held event (stopping: nothing new is posted).
    mutating func releaseHeld() -> [PendingWebhook] {
        var letGo: [PendingWebhook] = []
        for key in Array(receivers.keys) {
            for held in receivers[key]?.held ?? [] {
                letGo.append(held.event)
                outstandingEvents[held.event.eventID] = nil
            }
            receivers[key]?.held = []
            removeIfIdle(key)
        }
        return letGo
    }

    private mutating func removeIfIdle(_ key: String) {
        if receivers[key]?.outstanding == 0 { receivers[key] = nil }
    }

    /// `scheme://host:port`, lower-cased: what connections are shared by, and what
    /// logs may show (a path or query can carry the caller's token).
    static func receiverKey(_ url: String) -> String {
        guard let separator = url.range(of: "://") else { return url.lowercased() }
        var authority = url[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        return (url[..<separator.lowerBound] + "://" + authority).lowercased()
    }
}
