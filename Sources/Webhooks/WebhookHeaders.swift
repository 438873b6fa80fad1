/// The request headers of one POST (SPEC §4): the Standard Webhooks trio plus
/// Content-Type and User-Agent. Built at the moment the POST starts, because the
/// timestamp (and so the signature) is new for every attempt.
enum WebhookHeaders {
    /// Header lines in the form libcurl takes them (`Name: value`).
    ///
    /// `Expect:` with no value stops libcurl from sending `Expect: 100-continue`
    /// for larger bodies, which would cost a round trip, or a one-second wait on
    /// receivers that ignore it.
    static func lines(
        eventID: String, timestamp: Int, body: [UInt8], signer: WebhookSigner?, userAgent: String
    ) -> [String] {
        var lines = [
            "Content-Type: application/json",
            "User-Agent: \(userAgent)",
            "webhook-id: \(eventID)",
            "webhook-timestamp: \(timestamp)",
        ]
        if let signer {
            lines.append("webhook-signature: \(signer.signature(eventID: eventID, timestamp: timestamp, body: body))")
        }
        lines.append("Expect:")
        return lines
    }
}
