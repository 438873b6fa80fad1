import Foundation
import MailQueue
import MailgateTesting
import Testing
import Webhooks

/// The service draining a real SQLite outbox to a real receiver on loopback.
@Suite struct WebhookServiceTests {
    @Test func postsEveryEventSignedWithItsPayload() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver(secret: ServiceFixture.secret)
        let messageID = try await fixture.deliveredMessage(webhookURL: receiver.url(), recipients: 3)
        let running = RunningService(fixture.service())
        let events = try await fixture.waitForEvents(of: messageID) { $0.webhookStatus == .delivered }
        try await running.stop()
        await fixture.tearDown()

        #expect(events.count == 3)
        #expect(events.allSatisfy { $0.webhookStatus == .delivered && $0.webhookAttempts == 1 })
        let requests = receiver.requests()
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.signature == "valid" })
        #expect(requests.allSatisfy { $0.headers["user-agent"] == "mailgate/9.8.7" && $0.headers["content-type"] == "application/json" })
        #expect(Set(requests.compactMap { $0.headers["webhook-id"] }) == Set(events.map(\.id)))
        for request in requests {
            let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
            #expect(body["id"] as? String == request.headers["webhook-id"])
            #expect(body["type"] as? String == "delivered")
            #expect(body["message_id"] as? String == messageID)
            #expect((body["recipient"] as? String)?.hasSuffix("@example.org") == true)
            #expect(body["attempt"] as? Int == 1)
            #expect((body["smtp"] as? [String: Any])?["code"] as? Int == 250)
            #expect(body["tags"] as? [String] == ["receipt"])
            #expect((body["metadata"] as? [String: String]) == ["order": "1234"])
        }
        #expect(fixture.postCount("success") == 3)
        #expect(!fixture.logs.allText.contains(ServiceFixture.secret.dropFirst(6)))
        #expect(!fixture.logs.allText.contains("\"recipient\""))
    }

    @Test func retriesFailuresUntilTheReceiverAccepts() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver(sequence: [.init(status: 500), .init(status: 500)], secret: ServiceFixture.secret)
        let messageID = try await fixture.deliveredMessage(webhookURL: receiver.url())
        let running = RunningService(fixture.service())
        let events = try await fixture.waitForEvents(of: messageID) { $0.webhookStatus == .delivered }
        try await running.stop()
        await fixture.tearDown()

        #expect(events.map(\.webhookAttempts) == [3])
        let requests = receiver.requests()
        #expect(requests.count == 3)
        #expect(Set(requests.compactMap { $0.headers["webhook-id"] }) == [events[0].id])
        #expect(requests.allSatisfy { $0.signature == "valid" })
        #expect(fixture.postCount("failure") == 2)
        #expect(fixture.postCount("success") == 1)
    }

    @Test func dropsAnEventOn410() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver(sequence: [.init(status: 410)])
        let messageID = try await fixture.deliveredMessage(webhookURL: receiver.url())
        let running = RunningService(fixture.service())
        let events = try await fixture.waitForEvents(of: messageID) { $0.webhookStatus != .pending }
        try await running.stop()
        await fixture.tearDown()

        #expect(events.map(\.webhookStatus) == [.dropped])
        #expect(events.map(\.webhookAttempts) == [1])
        #expect(receiver.requests().count == 1)
        #expect(fixture.postCount("dropped") == 1)
    }

    @Test func dropsAnEventWhenTheScheduleRunsOut() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver(default: .init(status: 503))
        let messageID = try await fixture.deliveredMessage(webhookURL: receiver.url())
        let running = RunningService(fixture.service(ServiceFixture.configuration(retrySchedule: [.milliseconds(50), .milliseconds(50)])))
        let events = try await fixture.waitForEvents(of: messageID) { $0.webhookStatus != .pending }
        try await running.stop()
        await fixture.tearDown()

        #expect(events.map(\.webhookStatus) == [.dropped])
        #expect(events.map(\.webhookAttempts) == [3])
        #expect(receiver.requests().count == 3)
        #expect(fixture.postCount("failure") == 2)
        #expect(fixture.postCount("dropped") == 1)
        #expect(fixture.logs.entries.contains { $0.level == .warning && $0.metadata["reason"]?.description.contains("gave up after 3 attempts") == true })
    }

    @Test func retriesAfterATimeout() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver(sequence: [.init(delay: 3)])
        let messageID = try await fixture.deliveredMessage(webhookURL: receiver.url())
        let running = RunningService(fixture.service(ServiceFixture.configuration(timeout: .milliseconds(400))))
        let events = try await fixture.waitForEvents(of: messageID) { $0.webhookStatus == .delivered }
        try await running.stop()
        await fixture.tearDown()

        #expect(events.map(\.webhookAttempts) == [2])
        #expect(receiver.requests().count == 2)
        #expect(fixture.logs.entries.contains { $0.metadata["reason"]?.description.contains("curl error 28") == true })
    }

    @Test func treatsARedirectAsAFailureWithoutFollowingIt() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver(sequence: [.init(status: 301, headers: ["Location": "/elsewhere"])])
        let messageID = try await fixture.deliveredMessage(webhookURL: receiver.url())
        let running = RunningService(fixture.service())
        let events = try await fixture.waitForEvents(of: messageID) { $0.webhookStatus == .delivered }
        try await running.stop()
        await fixture.tearDown()

        #expect(events.map(\.webhookAttempts) == [2])
        #expect(receiver.requests().map(\.path) == ["/hook", "/hook"])
    }

    @Test func deliversAfterTheReceiverComesBackAcrossARestart() async throws {
        let fixture = try ServiceFixture()
        let down = RefusingPort()
        let port = down.port
        let messageID = try await fixture.deliveredMessage(webhookURL: "http://127.0.0.1:\(port)/hook")
        let schedule = Array(repeating: Duration.milliseconds(300), count: 20)

        let before = RunningService(fixture.service(ServiceFixture.configuration(retrySchedule: schedule)))
        let failed = try await fixture.waitForEvents(of: messageID) { $0.webhookAttempts >= 1 }
        try await before.stop()
        #expect(failed.map(\.webhookStatus) == [.pending])
        try await fixture.reopenStore()

        down.release()
        let receiver = try WebhookReceiver(port: UInt16(port))
        let after = RunningService(fixture.service(ServiceFixture.configuration(retrySchedule: schedule)))
        let events = try await fixture.waitForEvents(of: messageID) { $0.webhookStatus == .delivered }
        try await after.stop()
        await fixture.tearDown()

        #expect(events.map(\.webhookStatus) == [.delivered])
        #expect(events[0].webhookAttempts >= 2)
        #expect(receiver.requests().compactMap { $0.headers["webhook-id"] } == [events[0].id])
    }

    @Test func wakeClaimsNewEventsBeforeThePollInterval() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver()
        let running = RunningService(fixture.service(ServiceFixture.configuration(pollInterval: .seconds(3600))))
        try await Task.sleep(for: .milliseconds(200))
        let messageID = try await fixture.deliveredMessage(webhookURL: receiver.url())
        running.service.wake()
        let events = try await fixture.waitForEvents(of: messageID, limit: .seconds(20)) { $0.webhookStatus == .delivered }
        try await running.stop()
        await fixture.tearDown()

        #expect(events.map(\.webhookStatus) == [.delivered])
    }

    @Test func aHangingReceiverDoesNotHoldUpOthers() async throws {
        let fixture = try ServiceFixture()
        let hanging = try WebhookReceiver(default: .init(delay: 60))
        let healthy = try WebhookReceiver()
        let stuck = try await fixture.deliveredMessage(webhookURL: hanging.url(), recipients: 100)
        let fine = try await fixture.deliveredMessage(webhookURL: healthy.url(), recipients: 10)
        let configuration = ServiceFixture.configuration(timeout: .seconds(30), maxInFlight: 16, maxInFlightPerReceiver: 4)
        let running = RunningService(fixture.service(configuration))
        let delivered = try await fixture.waitForEvents(of: fine, limit: .seconds(25)) { $0.webhookStatus == .delivered }
        let stuckEvents = try await fixture.events(of: stuck)
        try await running.stop(gracePeriod: .zero)
        await fixture.tearDown()

        #expect(delivered.count == 10)
        #expect(delivered.allSatisfy { $0.webhookStatus == .delivered })
        #expect(stuckEvents.allSatisfy { $0.webhookStatus == .pending && $0.webhookAttempts == 0 })
        // Counted by webhook-id: a port the kernel hands out again may still get
        // retries from another test's service running alongside.
        let stuckIDs = Set(stuckEvents.map(\.id))
        #expect(hanging.requests().filter { stuckIDs.contains($0.headers["webhook-id"] ?? "") }.count <= 4)
    }

    @Test func stopLetsPostsInFlightFinish() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver(default: .init(delay: 1))
        let messageID = try await fixture.deliveredMessage(webhookURL: receiver.url())
        let running = RunningService(fixture.service())
        _ = await receiver.waitForRequests(count: 1)
        try await running.stop(gracePeriod: .seconds(20))
        let events = try await fixture.events(of: messageID)
        await fixture.tearDown()

        #expect(events.map(\.webhookStatus) == [.delivered])
        #expect(receiver.requests().count == 1)
    }

    @Test func stopCutsOffPostsPastTheGracePeriodAndKeepsThemDue() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver(default: .init(delay: 30))
        let messageID = try await fixture.deliveredMessage(webhookURL: receiver.url())
        let running = RunningService(fixture.service(ServiceFixture.configuration(timeout: .seconds(60))))
        _ = await receiver.waitForRequests(count: 1)
        try await running.stop(gracePeriod: .milliseconds(100))
        let events = try await fixture.events(of: messageID)
        let due = try await fixture.store.nextWebhookDue()
        await fixture.tearDown()

        #expect(events.map(\.webhookStatus) == [.pending])
        #expect(events.map(\.webhookAttempts) == [1])
        #expect(try #require(due) <= Date())
    }

    /// Events claimed but still waiting for a slot when the service stops are given
    /// back: due at once for another gateway (or this one restarted), not after their lease.
    @Test func stopGivesBackEventsItHeldUnposted() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver(default: .init(delay: 30))
        let messageID = try await fixture.deliveredMessage(webhookURL: receiver.url(), recipients: 10)
        let configuration = ServiceFixture.configuration(timeout: .seconds(60), maxInFlight: 2, maxInFlightPerReceiver: 64)
        let running = RunningService(fixture.service(configuration))
        _ = await receiver.waitForRequests(count: 2)
        try await running.stop(gracePeriod: .zero)
        let claimable = try await fixture.store.claimDueWebhooks(owner: "another-gateway", now: Date(), limit: 100, lease: .seconds(60))
        await fixture.tearDown()

        #expect(claimable.count == 10)
        #expect(Set(claimable.map(\.messageID)) == [messageID])
        #expect(claimable.filter { $0.postAttempts == 0 }.count == 8)
        #expect(receiver.requests().count == 2)
    }

    @Test func runsOnlyOnceAndStopsBeforeRunning() async throws {
        let fixture = try ServiceFixture()
        let service = fixture.service()
        service.stop()
        try await service.run()
        try await service.run()
        await fixture.tearDown()
    }
}
