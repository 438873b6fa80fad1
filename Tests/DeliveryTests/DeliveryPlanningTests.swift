import Foundation
import MailQueue
import Testing

@testable import Delivery

func claimed(_ id: Int64, message: String, email: String) -> ClaimedRecipient {
    let domain = String(email.split(separator: "@").last ?? "")
    return ClaimedRecipient(recipientID: id, messageID: message, email: email, domain: domain, attempts: 0, hasDeferred: false, queuedSince: Date())
}

func job(_ destination: Destination, ids: [Int64] = [1]) -> DeliveryJob {
    DeliveryJob(
        destination: destination,
        content: MessageContent(messageID: "msg_a", envelopeFrom: "a@example.com", content: [], requiresSMTPUTF8: false, requires8BitMIME: false),
        recipients: ids.map { claimed($0, message: "msg_a", email: "r\($0)@\(destination)") })
}

@Suite struct DeliveryPlanningTests {
    @Test func groupsByMessageAndDomainInMXMode() {
        let plan = DeliveryJob.plan([
            claimed(1, message: "msg_a", email: "x@one.test"),
            claimed(2, message: "msg_a", email: "y@two.test"),
            claimed(3, message: "msg_a", email: "z@one.test"),
            claimed(4, message: "msg_b", email: "w@one.test"),
        ], relayMode: false)
        #expect(plan.map(\.messageID) == ["msg_a", "msg_a", "msg_b"])
        #expect(plan.map(\.destination) == [.domain("one.test"), .domain("two.test"), .domain("one.test")])
        #expect(plan[0].recipients.map(\.recipientID) == [1, 3])
    }

    @Test func sendsEveryRecipientOfAMessageToTheRelayTogether() {
        let plan = DeliveryJob.plan([
            claimed(1, message: "msg_a", email: "x@one.test"),
            claimed(2, message: "msg_a", email: "y@two.test"),
        ], relayMode: true)
        #expect(plan.count == 1)
        #expect(plan[0].destination == .relay)
        #expect(plan[0].recipients.count == 2)
    }

    @Test func splitsTransactionsAtOneHundredRecipients() {
        let many = (1...250).map { claimed(Int64($0), message: "msg_a", email: "r\($0)@one.test") }
        let plan = DeliveryJob.plan(many, relayMode: true)
        #expect(plan.map(\.recipients.count) == [100, 100, 50])
    }
}

@Suite struct DestinationQueuesTests {
    @Test func limitsConnectionsPerDestination() {
        var queues = DestinationQueues(connectionsPerDestination: 2)
        for id in 1...5 { queues.enqueue(job(.domain("slow.test"), ids: [Int64(id)])) }
        queues.enqueue(job(.domain("fast.test")))
        var opened: [Destination] = []
        while let destination = queues.openConnectionForWaitingWork() {
            opened.append(destination)
            _ = queues.nextJob(for: destination)
        }
        #expect(opened.filter { $0 == .domain("slow.test") }.count == 2)
        #expect(opened.contains(.domain("fast.test")))
        #expect(queues.waitingJobCount == 3)
    }

    @Test func prefersTheDestinationWithFewerConnections() {
        var queues = DestinationQueues(connectionsPerDestination: 8)
        for _ in 0..<3 { queues.enqueue(job(.domain("a.test"))) }
        for _ in 0..<3 { queues.enqueue(job(.domain("b.test"))) }
        let first = queues.openConnectionForWaitingWork()
        let second = queues.openConnectionForWaitingWork()
        #expect(Set([first, second]) == Set([.domain("a.test"), .domain("b.test")]))
    }

    @Test func aDeadDestinationGivesUpAllItsJobs() {
        var queues = DestinationQueues(connectionsPerDestination: 1)
        for _ in 0..<4 { queues.enqueue(job(.domain("dead.test"))) }
        queues.enqueue(job(.domain("ok.test")))
        #expect(queues.takeAllJobs(for: .domain("dead.test")).count == 4)
        #expect(queues.waitingJobCount == 1)
        #expect(queues.openConnectionForWaitingWork() == .domain("ok.test"))
    }

    @Test func aStaleJobGoesFirst() {
        var queues = DestinationQueues(connectionsPerDestination: 1)
        queues.enqueue(job(.relay, ids: [1]))
        queues.enqueueFirst(job(.relay, ids: [2]))
        #expect(queues.nextJob(for: .relay)?.recipients.first?.recipientID == 2)
    }
}
