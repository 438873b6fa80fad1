import Foundation
import JSON
import Testing

@testable import MailgateCore

/// One row per rule of SPEC §2 and §6: a request body and the `errors[].field`
/// paths it must be refused on (empty: accepted).
@Suite struct SendRequestValidationTests {
    static let limits = SendRequestLimits(maxRecipients: 3, allowPrivateWebhooks: false)
    static let now = Date(timeIntervalSince1970: 1_796_040_000)

    static func fields(_ json: String) throws -> [String] {
        guard case .object(let object) = try JSONParser.parse(json) else { throw ValidationTestError.notAnObject }
        switch SendRequestReader.read(object, limits: limits, now: now) {
        case .success: return []
        case .failure(let problem):
            #expect(problem.status == 422)
            return problem.errors.map(\.field)
        }
    }

    enum ValidationTestError: Error { case notAnObject }

    static let valid = #""from":"Alice <alice@example.com>","to":"bob@example.org","text":"hi""#

    @Test(arguments: [
        // Accepted shapes.
        (#"{\#(valid)}"#, []),
        (#"{"from":{"email":"a@example.com","name":"Ä"},"to":[{"email":"b@example.org"}],"html":"<p>x</p>"}"#, []),
        (#"{"from":"a@example.com","bcc":"b@example.org","text":"x"}"#, []),
        (#"{"from":"a@example.com","to":["b@example.org"],"raw":"RnJvbTogYUBleGFtcGxlLmNvbQ0KDQpoaQ0K"}"#, []),
        (#"{\#(valid),"cc":null,"tags":["a"],"metadata":{"order":"1234"},"send_at":"2026-12-01T09:00:00Z"}"#, []),
        (#"{\#(valid),"headers":{"X-Campaign":"fall"},"reply_to":"support@example.com"}"#, []),
        // Required fields and content.
        (#"{"to":"b@example.org","text":"x"}"#, ["from"]),
        (#"{"from":"a@example.com","text":"x"}"#, ["to"]),
        (#"{"from":"a@example.com","to":[],"text":"x"}"#, ["to"]),
        (#"{"from":"a@example.com","to":"b@example.org"}"#, ["text"]),
        (#"{"from":"a@example.com","to":"b@example.org","text":""}"#, ["text"]),
        // Address paths.
        (#"{"from":"not an address","to":"b@example.org","text":"x"}"#, ["from"]),
        (#"{"from":{"email":"bad"},"to":"b@example.org","text":"x"}"#, ["from.email"]),
        (#"{"from":["a@example.com"],"to":"b@example.org","text":"x"}"#, ["from"]),
        (#"{"from":"a@example.com","to":"nope","text":"x"}"#, ["to"]),
        (#"{"from":"a@example.com","to":["b@example.org","nope"],"text":"x"}"#, ["to[1]"]),
        (#"{"from":"a@example.com","to":[{"email":"b@example.org","name":"x\ny"}],"text":"x"}"#, ["to[0].name"]),
        (#"{"from":"a@example.com","to":"b@example.org","cc":[{"email":"c"}],"text":"x"}"#, ["cc[0].email"]),
        (#"{"from":"a@example.com","to":"b@example.org","reply_to":"x","text":"x"}"#, ["reply_to"]),
        (#"{"from":"a@example.com","to":42,"text":"x"}"#, ["to"]),
        (#"{"from":"a@example.com","to":["a@x.org","b@x.org","c@x.org","d@x.org"],"text":"x"}"#, ["to"]),
        // Injection.
        (#"{\#(valid),"subject":"Hi\r\nBcc: victim@example.com"}"#, ["subject"]),
        (#"{\#(valid),"headers":{"X-Evil":"a\r\nBcc: v@example.com"}}"#, ["headers.X-Evil"]),
        (#"{\#(valid),"headers":{"Bcc":"v@example.com"}}"#, ["headers.Bcc"]),
        (#"{\#(valid),"headers":{"Content-Type":"text/evil"}}"#, ["headers.Content-Type"]),
        (#"{\#(valid),"headers":{"Bad Name":"x"}}"#, ["headers.Bad Name"]),
        (#"{\#(valid),"headers":{"Reply-To":"not an address"}}"#, ["headers.Reply-To"]),
        (#"{\#(valid),"headers":{"X-Num":3}}"#, ["headers.X-Num"]),
        // Content.
        (#"{"from":"a@example.com","to":"b@example.org","raw":"not base64!"}"#, ["raw"]),
        (#"{"from":"a@example.com","to":"b@example.org","raw":"SGk=","text":"x"}"#, ["text"]),
        (#"{"from":"a@example.com","to":"b@example.org","raw":"SGk=","reply_to":"c@example.org"}"#, ["reply_to"]),
        (#"{"from":"a@example.com","to":"b@example.org","raw":"SGk=","reply_to":null,"subject":null}"#, []),
        (#"{\#(valid),"attachments":[{"filename":"a.pdf","content":"%%%"}]}"#, ["attachments[0].content"]),
        (#"{\#(valid),"attachments":[{"content":"SGk="}]}"#, ["attachments[0].filename"]),
        (#"{\#(valid),"attachments":[{"filename":"   ","content":"SGk="}]}"#, ["attachments[0].filename"]),
        (#"{\#(valid),"attachments":[{"filename":"a","content":"SGk=","content_type":"nope"}]}"#, ["attachments[0].content_type"]),
        (#"{\#(valid),"attachments":[{"filename":"a","content":"SGk=","content_id":"<x>"}]}"#, ["attachments[0].content_id"]),
        // The composer's own attachment rules, reported on the attachment's member.
        (#"{\#(valid),"attachments":[{"filename":"a","content":"SGk=","content_type":"text/plain; x"}]}"#, ["attachments[0].content_type"]),
        (#"{\#(valid),"attachments":[{"filename":"a","content":"SGk=","content_type":"multipart/mixed"}]}"#, ["attachments[0].content_type"]),
        (#"{\#(valid),"attachments":[{"filename":"a","content":"SGk=","content_type":"text/plain; charset=\"utf-8\""}]}"#, []),
        (#"{\#(valid),"attachments":"x"}"#, ["attachments"]),
        // Everything else.
        (#"{\#(valid),"send_at":"tomorrow"}"#, ["send_at"]),
        (#"{\#(valid),"webhook_url":"ftp://example.com/x"}"#, ["webhook_url"]),
        (#"{\#(valid),"webhook_url":"http://127.0.0.1/hook"}"#, ["webhook_url"]),
        (#"{\#(valid),"webhook_url":"http://[::ffff:127.0.0.1]/hook"}"#, ["webhook_url"]),
        (#"{\#(valid),"webhook_url":"http://169.254.169.254/latest"}"#, ["webhook_url"]),
        (#"{\#(valid),"tags":"receipt"}"#, ["tags"]),
        (#"{\#(valid),"tags":[1]}"#, ["tags[0]"]),
        // 65 letters with a combining accent: 65 characters but 130 code points, over the 128 allowed.
        (#"{\#(valid),"tags":["\#(String(repeating: "e\u{301}", count: 65))"]}"#, ["tags[0]"]),
        (#"{\#(valid),"tags":["\#(String(repeating: "e\u{301}", count: 64))"]}"#, []),
        (#"{\#(valid),"metadata":[]}"#, ["metadata"]),
        (#"{\#(valid),"metadata":{"n":1e999999,"list":[1,-1e400],"ok":1.5e300}}"#, ["metadata.n", "metadata.list[1]"]),
        (#"{\#(valid),"subjekt":"typo"}"#, ["subjekt"]),
        // Every bad field at once.
        (#"{"from":"x","to":["ok@example.org","y"],"subject":"a\nb","send_at":"no"}"#, ["from", "to[1]", "subject", "text", "send_at"]),
    ] as [(String, [String])])
    func refusesOnTheRightFields(json: String, expected: [String]) throws {
        #expect(try Self.fields(json) == expected)
    }

    @Test func deduplicatesEnvelopeRecipientsWithoutCase() throws {
        let json = #"{"from":"a@example.com","to":["B@Example.org","c@example.org"],"cc":"b@example.ORG","bcc":"c@example.org","text":"x"}"#
        guard case .object(let object) = try JSONParser.parse(json) else { return }
        let request = try SendRequestReader.read(object, limits: SendRequestLimits(maxRecipients: 10, allowPrivateWebhooks: false), now: Self.now).get()
        #expect(request.envelopeRecipients.map(\.string) == ["B@example.org", "c@example.org"])
    }

    @Test func pastSendAtSendsAtOnce() throws {
        guard case .object(let object) = try JSONParser.parse(#"{\#(Self.valid),"send_at":"2020-01-01T00:00:00Z"}"#) else { return }
        #expect(try SendRequestReader.read(object, limits: Self.limits, now: Self.now).get().sendAt == nil)
    }

    @Test func privateWebhooksPassWhenAllowed() throws {
        guard case .object(let object) = try JSONParser.parse(#"{\#(Self.valid),"webhook_url":"http://127.0.0.1:9000/hook"}"#) else { return }
        let limits = SendRequestLimits(maxRecipients: 3, allowPrivateWebhooks: true)
        #expect(try SendRequestReader.read(object, limits: limits, now: Self.now).get().webhookURL == "http://127.0.0.1:9000/hook")
    }
}
