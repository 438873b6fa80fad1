import Foundation
import MailQueue
import Synchronization
import Testing

@testable import Delivery

/// A connector whose sessions answer from a script, recording what it was asked.
final class ScriptedConnector: DestinationConnector, @unchecked Sendable {
    let log = Mutex<[String]>([])
    let failing: Set<Destination>
    let concurrent = Atomic<Int>(0)
    let peakConcurrent = Atomic<Int>(0)
    let holdTime: TimeInterval
    /// Destinations whose "DNS lookup" takes this long before connecting.
    let lookupTimes: [Destination: TimeInterval]

    init(failing: Set<Destination> = [], holdTime: TimeInterval = 0, lookupTimes: [Destination: TimeInterval] = [:]) {
        self.failing = failing
        self.holdTime = holdTime
        self.lookupTimes = lookupTimes
    }

    func openSession(to destination: Destination, for job: DeliveryJob, beforeConnecting: () -> Void) -> SessionOpening {
        if let lookup = lookupTimes[destination] { Thread.sleep(forTimeInterval: lookup) }
        beforeConnecting()
        log.withLock { $0.append("open \(destination)") }
        if failing.contains(destination) {
            return .failed(.transient, SMTPResponseRecord(code: 421, enhancedCode: "4.4.1", message: "connect failed", host: "\(destination)"), attempted: true)
        }
        return .opened(ScriptedSession(connector: self, destination: destination))
    }
}

final class ScriptedSession: DeliverySession {
    let connector: ScriptedConnector
    let destination: Destination

    init(connector: ScriptedConnector, destination: Destination) {
        self.connector = connector
        self.destination = destination
        let now = connector.concurrent.add(1, ordering: .relaxed).newValue
        connector.peakConcurrent.max(now, ordering: .relaxed)
    }

    var isUsable: Bool { true }

    func deliver(_ job: DeliveryJob) -> [RecipientAttempt]? {
        connector.log.withLock { $0.append("send \(destination) \(job.recipients.map(\.recipientID))") }
        if connector.holdTime > 0 { Thread.sleep(forTimeInterval: connector.holdTime) }
        return job.recipients.map {
            RecipientAttempt(recipientID: $0.recipientID, verdict: .accepted, response: SMTPResponseRecord(code: 250, enhancedCode: "2.0.0", message: "OK", host: "\(destination)"), attempted: true)
        }
    }

    func close() {
        connector.concurrent.subtract(1, ordering: .relaxed)
        connector.log.withLock { $0.append("close \(destination)") }
    }
}

/// Collects attempts from sender threads until the expected number arrived.
final class AttemptCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var attempts: [RecipientAttempt] = []

    func add(_ new: [RecipientAttempt]) {
        condition.lock()
        attempts += new
        condition.broadcast()
        condition.unlock()
    }

    func waitFor(_ count: Int, timeout: TimeInterval = 10) -> [RecipientAttempt] {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while attempts.count < count && condition.wait(until: deadline) {}
        return attempts
    }
}

@Suite struct SenderPoolTests {
    @Test func reusesOneConnectionForADestinationsJobs() {
        let connector = ScriptedConnector()
        let collector = AttemptCollector()
        let pool = SenderPool(connections: 1, connectionsPerDestination: 1, connector: connector, idleKeepAlive: 0.2) { _, attempts in collector.add(attempts) }
        pool.enqueue((1...5).map { job(.relay, ids: [Int64($0)]) })
        pool.start()
        #expect(collector.waitFor(5).count == 5)
        _ = pool.stop(deadline: Date().addingTimeInterval(5))
        let log = connector.log.withLock { $0 }
        #expect(log.filter { $0.hasPrefix("open") }.count == 1)
        #expect(log.filter { $0.hasPrefix("send") }.count == 5)
    }

    @Test func aDeadDestinationDefersItsJobsWithoutStarvingOthers() {
        let connector = ScriptedConnector(failing: [.domain("dead.test")])
        let collector = AttemptCollector()
        let pool = SenderPool(connections: 2, connectionsPerDestination: 2, connector: connector, idleKeepAlive: 0) { _, attempts in collector.add(attempts) }
        pool.enqueue((1...4).map { job(.domain("dead.test"), ids: [Int64($0)]) } + (5...8).map { job(.domain("ok.test"), ids: [Int64($0)]) })
        pool.start()
        let attempts = collector.waitFor(8)
        _ = pool.stop(deadline: Date().addingTimeInterval(5))
        #expect(attempts.filter { $0.verdict == .transient }.map(\.recipientID).sorted() == [1, 2, 3, 4])
        #expect(attempts.filter { $0.verdict == .accepted }.map(\.recipientID).sorted() == [5, 6, 7, 8])
        let opens = connector.log.withLock { $0 }.filter { $0 == "open dead.test" }.count
        #expect(opens <= 2, "a dead destination is tried once per connection slot, not once per job")
    }

    @Test func respectsThePerDestinationLimit() {
        let connector = ScriptedConnector(holdTime: 0.05)
        let collector = AttemptCollector()
        let pool = SenderPool(connections: 8, connectionsPerDestination: 3, connector: connector, idleKeepAlive: 0) { _, attempts in collector.add(attempts) }
        pool.enqueue((1...30).map { job(.relay, ids: [Int64($0)]) })
        pool.start()
        #expect(collector.waitFor(30).count == 30)
        _ = pool.stop(deadline: Date().addingTimeInterval(5))
        #expect(connector.peakConcurrent.load(ordering: .relaxed) <= 3)
    }

    @Test func slowLookupsHoldNoConnection() {
        let slow = (1...3).map { Destination.domain("slow\($0).test") }
        let connector = ScriptedConnector(lookupTimes: Dictionary(uniqueKeysWithValues: slow.map { ($0, 2.0) }))
        let collector = AttemptCollector()
        let pool = SenderPool(connections: 1, lookupThreads: 3, connectionsPerDestination: 1, connector: connector, idleKeepAlive: 0) {
            _, attempts in collector.add(attempts)
        }
        pool.enqueue(slow.enumerated().map { job($1, ids: [Int64($0 + 1)]) } + [job(.domain("fast.test"), ids: [9])])
        let started = Date()
        pool.start()
        let first = collector.waitFor(1)
        #expect(first.map(\.recipientID) == [9], "the fast domain goes while three lookups hang")
        #expect(Date().timeIntervalSince(started) < 1.5)
        #expect(collector.waitFor(4).count == 4)
        _ = pool.stop(deadline: Date().addingTimeInterval(5))
        #expect(connector.peakConcurrent.load(ordering: .relaxed) == 1, "never more connections than allowed")
    }

    @Test func connectionsStayWithinTheLimitWithLookupThreads() {
        let connector = ScriptedConnector(holdTime: 0.02)
        let collector = AttemptCollector()
        let pool = SenderPool(connections: 2, lookupThreads: 6, connectionsPerDestination: 8, connector: connector, idleKeepAlive: 0) {
            _, attempts in collector.add(attempts)
        }
        pool.enqueue((1...40).map { job(.domain("d\($0 % 8).test"), ids: [Int64($0)]) })
        pool.start()
        #expect(collector.waitFor(40).count == 40)
        _ = pool.stop(deadline: Date().addingTimeInterval(5))
        #expect(connector.peakConcurrent.load(ordering: .relaxed) <= 2)
    }

    @Test func stopReturnsJobsThatNeverStarted() {
        let connector = ScriptedConnector()
        let pool = SenderPool(connections: 1, connectionsPerDestination: 1, connector: connector) { _, _ in }
        pool.enqueue((1...3).map { job(.relay, ids: [Int64($0)]) })
        let unsent = pool.stop(deadline: Date().addingTimeInterval(1))
        #expect(unsent.count == 3)
    }
}
