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
        for event in events where outstandingEvents[event.eventID] == nil {
            let key = Self.receiverKey(event.webhookURL)
            var receiver = receivers[key, default: Receiver()]
            if receiver.outstanding >= limits.maxInFlightPerReceiver,
               receiver.isCongested(now: now, slowAfter: limits.slowAfter) {
                letGo.append(event)
                continue
            }
            receiver.held.append(Held(event: event, claimedAt: now))
            receivers[key] = receiver
            outstandingEvents[event.eventID] = (key, event)
        }
        return letGo
    }

    /// Moves the events that may go out now into flight, a receiver at a time.
    mutating func takeReady(now: ContinuousClock.Instant) -> [PendingWebhook] {
        var ready: [PendingWebhook] = []
        for key in Array(receivers.keys) where inFlightCount < limits.maxInFlight {
            guard var receiver = receivers[key], !receiver.held.isEmpty else { continue }
            let room = min(limits.maxInFlightPerReceiver - receiver.inFlight.count, limits.maxInFlight - inFlightCount)
            guard room > 0 else { continue }
            let taken = receiver.held.prefix(room)
            receiver.held.removeFirst(taken.count)
            for held in taken {
                receiver.inFlight[held.event.eventID] = now
                ready.append(held.event)
            }
            inFlightCount += taken.count
            receivers[key] = receiver
        }
        return ready
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
            guard var receiver = receivers[key], !receiver.held.isEmpty else { continue }
            var kept = receiver.held.filter { now - $0.claimedAt <= limits.holdLimit }
            if receiver.isCongested(now: now, slowAfter: limits.slowAfter) {
                kept = Array(kept.prefix(max(0, limits.maxInFlightPerReceiver - receiver.inFlight.count)))
            }
            guard kept.count < receiver.held.count else { continue }
            let keptIDs = Set(kept.map(\.event.eventID))
            for held in receiver.held where !keptIDs.contains(held.event.eventID) {
                letGo.append(held.event)
                outstandingEvents[held.event.eventID] = nil
            }
            receiver.held = kept
            receivers[key] = receiver
            removeIfIdle(key)
        }
        return letGo
    }

    /// Lets go of every held event (stopping: nothing new is posted).
    mutating func releaseHeld() -> [PendingWebhook] {
        var letGo: [PendingWebhook] = []
        for key in Array(receivers.keys) {
            guard var receiver = receivers[key] else { continue }
            for held in receiver.held {
                letGo.append(held.event)
                outstandingEvents[held.event.eventID] = nil
            }
            receiver.held = []
            receivers[key] = receiver
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
