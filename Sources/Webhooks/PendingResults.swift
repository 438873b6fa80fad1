import MailQueue

/// POST results on their way to the store, written one batch at a time while the
/// service goes on posting (group commit: results that come in while a batch is
/// being written and synced form the next batch). A failed batch is written again
/// after a pause, ahead of newer results.
struct PendingResults {
    /// How long to wait before writing again after the store failed.
    static let retryPause = Duration.milliseconds(500)

    private var waiting: [WebhookPostResult] = []
    /// The batch being written, if one is.
    private var writing: [WebhookPostResult]?
    /// Set after a failed write: no batch starts before it.
    private(set) var pausedUntil: ContinuousClock.Instant?

    /// True when nothing is waiting or being written.
    var isEmpty: Bool { waiting.isEmpty && writing == nil }
    var isWriting: Bool { writing != nil }
    /// True while the store fails: claiming more would only pile up results.
    var isFailing: Bool { pausedUntil != nil }
    var count: Int { waiting.count + (writing?.count ?? 0) }

    mutating func add(_ result: WebhookPostResult) {
        waiting.append(result)
    }

    /// The next batch to write, unless one is being written, none is waiting, or
    /// the store failed less than `retryPause` ago (unless `ignoringPause`: stopping).
    mutating func startBatch(now: ContinuousClock.Instant, ignoringPause: Bool = false) -> [WebhookPostResult]? {
        guard writing == nil, !waiting.isEmpty, ignoringPause || pausedUntil.map({ now >= $0 }) ?? true else { return nil }
        let batch = waiting
        waiting.removeAll(keepingCapacity: true)
        writing = batch
        return batch
    }

    /// The batch being written was stored, or was not (then it waits again, first in line).
    mutating func batchFinished(stored: Bool, now: ContinuousClock.Instant) {
        guard let batch = writing else { return }
        writing = nil
        if stored {
            pausedUntil = nil
        } else {
            waiting = batch + waiting
            pausedUntil = now + Self.retryPause
        }
    }
}
