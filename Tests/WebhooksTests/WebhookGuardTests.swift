import Foundation
import MailQueue
import MailgateTesting
import Testing
import Webhooks

/// The address guard end to end: where libcurl connects, with a real receiver on
/// loopback that must see nothing while private addresses are not allowed.
@Suite struct WebhookGuardTests {
    @Test func refusesLoopbackReachedByNameOrLiteral() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver()
        let receiver6 = try WebhookReceiver(host: "::1")
        let urls = [
            receiver.url(host: "localhost"), receiver.url(), receiver.url(host: "[::ffff:127.0.0.1]"),
            receiver.url(host: "127.1.2.3"), receiver6.url(), receiver6.url(host: "localhost"),
        ]
        var messages: [String] = []
        for url in urls { messages.append(try await fixture.deliveredMessage(webhookURL: url)) }
        let running = RunningService(fixture.service(ServiceFixture.configuration(allowPrivate: false)))
        var events: [EventRecord] = []
        for message in messages {
            events += try await fixture.waitForEvents(of: message) { $0.webhookStatus != .pending }
        }
        try await running.stop()
        await fixture.tearDown()

        #expect(receiver.requests().isEmpty)
        #expect(receiver6.requests().isEmpty)
        #expect(events.count == urls.count)
        #expect(events.allSatisfy { $0.webhookStatus == .dropped && $0.webhookAttempts == 0 })
        #expect(fixture.postCount("dropped") == Int64(urls.count))
        let warnings = fixture.logs.entries.filter { $0.level == .warning }
        for event in events {
            let logged = warnings.first { $0.metadata["event_id"]?.description == event.id }
            #expect(logged?.metadata["reason"]?.description.contains("refused by the address guard") == true)
            #expect(logged?.metadata["reason"]?.description.contains("loopback") == true)
        }
    }

    @Test func deliversToLoopbackWhenPrivateAddressesAreAllowed() async throws {
        let fixture = try ServiceFixture()
        let receiver = try WebhookReceiver()
        let byName = try await fixture.deliveredMessage(webhookURL: receiver.url(host: "localhost"))
        let byLiteral = try await fixture.deliveredMessage(webhookURL: receiver.url(host: "[::ffff:127.0.0.1]"))
        let running = RunningService(fixture.service(ServiceFixture.configuration(allowPrivate: true)))
        let first = try await fixture.waitForEvents(of: byName) { $0.webhookStatus == .delivered }
        let second = try await fixture.waitForEvents(of: byLiteral) { $0.webhookStatus == .delivered }
        try await running.stop()
        await fixture.tearDown()

        #expect((first + second).map(\.webhookStatus) == [.delivered, .delivered])
        #expect(receiver.requests().count == 2)
    }
}
