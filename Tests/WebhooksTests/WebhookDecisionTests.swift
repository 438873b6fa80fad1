import Foundation
import JSON
import MailQueue
import Testing
@testable import Webhooks

/// The parts that decide without I/O: signing, headers, payload, retry verdicts.
@Suite struct WebhookDecisionTests {
    /// The example of the Standard Webhooks specification.
    @Test func signsLikeTheStandardWebhooksExample() {
        let key = Array(Data(base64Encoded: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!)
        let signature = WebhookSigner(key: key).signature(
            eventID: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func buildsTheSpecHeaders() {
        let signer = WebhookSigner(key: Array(repeating: 7, count: 24))
        let body = Array("{}".utf8)
        let lines = WebhookHeaders.lines(eventID: "evt_1", timestamp: 1_700_000_000, body: body, signer: signer, userAgent: "mailgate/1.0.0")
        #expect(lines == [
            "Content-Type: application/json", "User-Agent: mailgate/1.0.0", "webhook-id: evt_1",
            "webhook-timestamp: 1700000000",
            "webhook-signature: \(signer.signature(eventID: "evt_1", timestamp: 1_700_000_000, body: body))", "Expect:",
        ])
        let unsigned = WebhookHeaders.lines(eventID: "evt_1", timestamp: 1, body: body, signer: nil, userAgent: "mailgate/1.0.0")
        #expect(!unsigned.contains { $0.hasPrefix("webhook-signature") })
    }

    @Test func writesTheSpecPayload() throws {
        let event = PendingWebhook(
            eventID: "evt_1", type: .failed, createdAt: Date(timeIntervalSince1970: 1_800_000_000), messageID: "msg_1",
            recipient: "bob@example.org", deliveryAttempt: 0, response: SMTPResponseRecord(code: 550, enhancedCode: "5.1.2", message: "no such domain", host: nil),
            reason: "gave up", tags: ["a"], metadataJSON: #"{"order":"1234"}"#, webhookURL: "https://example.com/h", postAttempts: 2
        )
        let body = try JSONParser.parse(WebhookPayload.body(for: event))
        #expect(body["id"] == "evt_1")
        #expect(body["type"] == "failed")
        #expect(body["created_at"] == "2027-01-15T08:00:00Z")
        #expect(body["message_id"] == "msg_1")
        #expect(body["recipient"] == "bob@example.org")
        #expect(body["attempt"] == 0)
        #expect(body["smtp"] == ["code": 550, "enhanced_code": "5.1.2", "message": "no such domain", "host": nil])
        #expect(body["reason"] == "gave up")
        #expect(body["tags"] == ["a"])
        #expect(body["metadata"] == ["order": "1234"])
    }

    static let policy = WebhookRetryPolicy(schedule: [.seconds(5), .seconds(300)])
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: [200, 202, 204, 299])
    func endsOn2xx(status: Int) {
        #expect(Self.policy.verdict(on: .answered(status: status, body: []), postAttempts: 0, now: Self.now) == .delivered(status: status))
    }

    @Test func dropsOn410AndRefusalsAndUnusableURLs() {
        let gone = Self.policy.verdict(on: .answered(status: 410, body: []), postAttempts: 0, now: Self.now)
        #expect(gone.kind == .dropped)
        let refused = Self.policy.verdict(on: .refused(reason: "127.0.0.1 is a loopback address"), postAttempts: 0, now: Self.now)
        #expect(refused == .dropped(reason: "refused by the address guard: 127.0.0.1 is a loopback address"))
        let malformed = Self.policy.verdict(on: .failed(.init(code: 3, message: "URL rejected")), postAttempts: 0, now: Self.now)
        #expect(malformed.kind == .dropped)
        #expect([gone, refused, malformed].allSatisfy { $0.metricResult == "dropped" })
    }

    @Test(arguments: [
        WebhookPostOutcome.answered(status: 500, body: []), .answered(status: 301, body: []), .answered(status: 429, body: []),
        .answered(status: 404, body: []), .failed(.init(code: 28, message: "timed out")), .failed(.init(code: 7, message: "refused")),
    ])
    func retriesAnythingElseOnTheSchedule(outcome: WebhookPostOutcome) {
        let first = Self.policy.verdict(on: outcome, postAttempts: 0, now: Self.now)
        #expect(first.kind == .retry(at: Self.now.addingTimeInterval(5)))
        #expect(first.metricResult == "failure")
        let second = Self.policy.verdict(on: outcome, postAttempts: 1, now: Self.now)
        #expect(second.kind == .retry(at: Self.now.addingTimeInterval(300)))
        let last = Self.policy.verdict(on: outcome, postAttempts: 2, now: Self.now)
        #expect(last.kind == .dropped)
        guard case .dropped(let reason) = last else { return }
        #expect(reason.hasSuffix("gave up after 3 attempts"))
    }

    @Test func aCanceledPostIsDueAgainAtOnceWhateverTheCount() {
        for attempts in [0, 2, 9] {
            #expect(Self.policy.verdict(on: .canceled, postAttempts: attempts, now: Self.now).kind == .retry(at: Self.now))
        }
    }

    @Test func theDefaultScheduleIsStandardWebhooks() {
        let schedule = WebhookService.Configuration.standardRetrySchedule
        #expect(schedule == [.seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18000), .seconds(36000), .seconds(36000)])
        let configuration = WebhookService.Configuration(owner: "o", version: "1", signingKey: nil)
        #expect(configuration.lease > configuration.timeout * 2)
    }
}
