/// The jobs waiting for each destination and the connections open to each: the
/// sender pool's bookkeeping, without threads or I/O so that it is tested alone.
///
/// A free sender takes the destination with waiting work and the fewest open
/// connections, below both the per-destination and the total limit; so a slow or
/// dead destination holds at most its own share of connections and never starves
/// the others.
struct DestinationQueues {
    let connectionsPerDestination: Int
    private(set) var waiting: [Destination: [DeliveryJob]] = [:]
    private(set) var openConnections: [Destination: Int] = [:]
    /// Destinations in the order their work arrived, for fairness among equals.
    private var arrivalOrder: [Destination] = []

    init(connectionsPerDestination: Int) {
        self.connectionsPerDestination = connectionsPerDestination
    }

    var waitingJobCount: Int { waiting.values.reduce(0) { $0 + $1.count } }

    mutating func enqueue(_ job: DeliveryJob) {
        if waiting[job.destination] == nil {
            arrivalOrder.append(job.destination)
        }
        waiting[job.destination, default: []].append(job)
    }

    /// Puts a job back at the head of its destination's queue (its connection went stale).
    mutating func enqueueFirst(_ job: DeliveryJob) {
        if waiting[job.destination] == nil {
            arrivalOrder.insert(job.destination, at: 0)
        }
        waiting[job.destination, default: []].insert(job, at: 0)
    }

    /// Picks a destination for a new connection and reserves the connection, or
    /// returns nil when no waiting destination is below its limit.
    mutating func openConnectionForWaitingWork() -> Destination? {
        var best: Destination?
        var bestOpen = Int.max
        for destination in arrivalOrder {
            let open = openConnections[destination, default: 0]
            guard open < connectionsPerDestination, open < bestOpen else { continue }
            // A destination whose open connections outnumber its jobs needs no new one.
            guard waiting[destination, default: []].count > 0 else { continue }
            best = destination
            bestOpen = open
        }
        if let best { openConnections[best, default: 0] += 1 }
        return best
    }

    /// The next job for a connection already open to `destination`.
    mutating func nextJob(for destination: Destination) -> DeliveryJob? {
        guard var jobs = waiting[destination], !jobs.isEmpty else { return nil }
        let job = jobs.removeFirst()
        if jobs.isEmpty {
            waiting[destination] = nil
            arrivalOrder.removeAll { $0 == destination }
        } else {
            waiting[destination] = jobs
        }
        return job
    }

    /// Takes every job waiting for `destination` (it is unreachable: they share its fate).
    mutating func takeAllJobs(for destination: Destination) -> [DeliveryJob] {
        let jobs = waiting.removeValue(forKey: destination) ?? []
        arrivalOrder.removeAll { $0 == destination }
        return jobs
    }

    /// Takes every waiting job (shutting down: they are released unsent).
    mutating func takeAllJobs() -> [DeliveryJob] {
        let jobs = arrivalOrder.flatMap { waiting[$0] ?? [] }
        waiting = [:]
        arrivalOrder = []
        return jobs
    }

    mutating func connectionClosed(to destination: Destination) {
        let open = openConnections[destination, default: 0] - 1
        precondition(open >= 0, "closed a connection that was not open")
        openConnections[destination] = open == 0 ? nil : open
    }
}
