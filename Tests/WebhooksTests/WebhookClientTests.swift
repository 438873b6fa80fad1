import Foundation
import MailgateTesting
import Testing
@testable import Webhooks

/// The libcurl client against a real HTTP receiver on loopback.
@Suite struct WebhookClientTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    static func client(
        timeout: Duration = .seconds(10), signed: Bool = true, allowPrivate: Bool = true
    ) throws -> WebhookClient {
        let key = Array(Data(base64Encoded: String(secret.dropFirst("whsec_".count)))!)
        return try WebhookClient(configuration: .init(
            timeout: timeout, userAgent: "mailgate/1.2.3", signer: signed ? WebhookSigner(key: key) : nil,
            addressGuard: AddressGuard(allowPrivate: allowPrivate)
        ))
    }

    static func request(_ url: String, id: String = "evt_test1") -> WebhookRequest {
        WebhookRequest(url: url, eventID: id, body: Array(#"{"id":"\#(id)","type":"delivered"}"#.utf8))
    }

    @Test func postsSignedEventWithTheSpecHeaders() async throws {
        let receiver = try WebhookReceiver(secret: Self.secret)
        let client = try Self.client()
        let before = Int(Date().timeIntervalSince1970)
        let outcome = await client.post(Self.request(receiver.url()))
        let after = Int(Date().timeIntervalSince1970)
        await client.shutdown()

        #expect(outcome == .answered(status: 200, body: []))
        let requests = receiver.requests()
        try #require(requests.count == 1)
        let received = requests[0]
        #expect(received.method == "POST")
        #expect(received.path == "/hook")
        #expect(received.body == #"{"id":"evt_test1","type":"delivered"}"#)
        #expect(received.signature == "valid")
        #expect(received.headers["content-type"] == "application/json")
        #expect(received.headers["user-agent"] == "mailgate/1.2.3")
        #expect(received.headers["webhook-id"] == "evt_test1")
        let timestamp = try #require(received.headers["webhook-timestamp"].flatMap { Int($0) })
        #expect((before...after).contains(timestamp))
        #expect(received.headers["webhook-signature"]?.hasPrefix("v1,") == true)
        #expect(received.headers["expect"] == nil)
        #expect(received.headers["content-length"] == String(Self.request("x").body.count))
    }

    @Test func sendsNoSignatureWithoutASecret() async throws {
        let receiver = try WebhookReceiver()
        let client = try Self.client(signed: false)
        let outcome = await client.post(Self.request(receiver.url()))
        await client.shutdown()

        #expect(outcome == .answered(status: 200, body: []))
        let received = try #require(receiver.requests().first)
        #expect(received.headers["webhook-signature"] == nil)
        #expect(received.headers["webhook-id"] == "evt_test1")
    }

    @Test func signsEveryAttemptWithItsOwnTimestamp() async throws {
        let receiver = try WebhookReceiver(secret: Self.secret)
        let client = try Self.client()
        for _ in 0..<2 { _ = await client.post(Self.request(receiver.url())) }
        await client.shutdown()

        let requests = receiver.requests()
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0.signature == "valid" })
    }

    @Test func doesNotFollowRedirects() async throws {
        let receiver = try WebhookReceiver(sequence: [.init(status: 301, headers: ["Location": "/elsewhere"])])
        let client = try Self.client()
        let outcome = await client.post(Self.request(receiver.url()))
        await client.shutdown()

        guard case .answered(let status, _) = outcome else {
            Issue.record("expected an answer, got \(outcome)")
            return
        }
        #expect(status == 301)
        #expect(receiver.requests().map(\.path) == ["/hook"])
    }

    @Test func keepsOnlyTheHeadOfALongResponseBody() async throws {
        let receiver = try WebhookReceiver(sequence: [.init(bodySize: 10_000), .init(bodySize: 20_000_000)])
        let client = try Self.client()
        let short = await client.post(Self.request(receiver.url()))
        let endless = await client.post(Self.request(receiver.url()))
        await client.shutdown()

        #expect(short == .answered(status: 200, body: Array(repeating: UInt8(ascii: "x"), count: 4096)))
        #expect(endless == .answered(status: 200, body: Array(repeating: UInt8(ascii: "x"), count: 4096)))
    }

    @Test func timesOutASlowReceiver() async throws {
        let receiver = try WebhookReceiver(sequence: [.init(delay: 3)])
        let client = try Self.client(timeout: .milliseconds(300))
        let outcome = await client.post(Self.request(receiver.url()))
        await client.shutdown()

        guard case .failed(let error) = outcome else {
            Issue.record("expected a timeout, got \(outcome)")
            return
        }
        #expect(error.isTimeout)
        #expect(receiver.requests().count == 1)
    }

    @Test func reportsARefusedConnection() async throws {
        let receiver = try WebhookReceiver()
        let url = receiver.url()
        receiver.stop()
        let client = try Self.client()
        let outcome = await client.post(Self.request(url))
        await client.shutdown()

        guard case .failed(let error) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(error.code == 7)  // CURLE_COULDNT_CONNECT
        #expect(!error.isPermanent)
    }

    @Test func refusesSchemesOtherThanHTTP() async throws {
        let client = try Self.client()
        let outcome = await client.post(Self.request("ftp://127.0.0.1:1/hook"))
        await client.shutdown()

        guard case .failed(let error) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(error.isPermanent)
    }

    @Test func keepsManyPostsInFlightAtOnce() async throws {
        let receiver = try WebhookReceiver(default: .init(delay: 0.3))
        let client = try Self.client()
        let outcomes = await withTaskGroup(of: WebhookPostOutcome.self) { group in
            for index in 0..<100 {
                group.addTask { await client.post(Self.request(receiver.url(), id: "evt_\(index)")) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        await client.shutdown()

        #expect(outcomes.count == 100)
        #expect(outcomes.allSatisfy { $0 == .answered(status: 200, body: []) })
        #expect(Set(receiver.requests().compactMap { $0.headers["webhook-id"] }).count == 100)
    }

    @Test func shutdownCancelsPostsInFlightAndLaterOnes() async throws {
        let receiver = try WebhookReceiver(default: .init(delay: 5))
        let client = try Self.client()
        let inFlight = Task { await client.post(Self.request(receiver.url())) }
        _ = await receiver.waitForRequests(count: 1)
        await client.shutdown()

        #expect(await inFlight.value == .canceled)
        #expect(await client.post(Self.request(receiver.url())) == .canceled)
    }
}
