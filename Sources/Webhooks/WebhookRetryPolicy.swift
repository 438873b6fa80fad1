import Foundation
import MailQueue

/// What one POST's outcome means for its event (SPEC §4): a 2xx ends it, a 410 or
/// a refused address drops it at once, anything else tries again after the next
/// wait of the schedule, and a failure after the last wait drops it.
///
/// With the Standard Webhooks schedule `5s,5m,30m,2h,5h,10h,10h` an event gets
/// eight POSTs: one at once and one after each wait.
struct WebhookRetryPolicy: Sendable {
    /// `MAILGATE_WEBHOOK_RETRY_SCHEDULE`: the waits between attempts.
    var schedule: [Duration]

    /// The verdict on one POST of an event that had `postAttempts` POSTs before it.
    func verdict(on outcome: WebhookPostOutcome, postAttempts: Int, now: Date) -> WebhookVerdict {
        switch outcome {
        case .answered(let status, _) where (200...299).contains(status):
            return .delivered(status: status)
        case .answered(410, _):
            return .dropped(reason: "the receiver answered 410 Gone")
        case .refused(let reason):
            return .dropped(reason: "refused by the address guard: \(reason)")
        case .failed(let error) where error.isPermanent:
            return .dropped(reason: error.description)
        case .canceled:
            // Cut off by shutdown, not the receiver's doing: due again at once, whatever the count.
            return .retry(at: now, reason: "the POST was cut off by shutdown")
        case .answered(let status, _):
            return retryOrDrop(reason: "the receiver answered \(status)", postAttempts: postAttempts, now: now)
        case .failed(let error):
            return retryOrDrop(reason: error.description, postAttempts: postAttempts, now: now)
        }
    }

    private func retryOrDrop(reason: String, postAttempts: Int, now: Date) -> WebhookVerdict {
        guard postAttempts >= 0, postAttempts < schedule.count else {
            return .dropped(reason: "\(reason); gave up after \(postAttempts + 1) attempts")
        }
        let wait = schedule[postAttempts].components
        let seconds = Double(wait.seconds) + Double(wait.attoseconds) / 1e18
        return .retry(at: now.addingTimeInterval(seconds), reason: reason)
    }
}

/// The decision on one POST, with what the store records and what the log says.
enum WebhookVerdict: Sendable, Equatable {
    case delivered(status: Int)
    case retry(at: Date, reason: String)
    case dropped(reason: String)

    /// What `recordWebhookResults` stores.
    var kind: WebhookPostResult.Kind {
        switch self {
        case .delivered: .delivered
        case .retry(let date, _): .retry(at: date)
        case .dropped: .dropped
        }
    }

    /// The `result` label of `mailgate_webhook_posts_total`.
    var metricResult: String {
        switch self {
        case .delivered: "success"
        case .retry: "failure"
        case .dropped: "dropped"
        }
    }
}
