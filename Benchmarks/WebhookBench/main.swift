// Webhook throughput on the Webhooks and MailQueue modules alone (Benchmarks/webhooks.sh
// drives it): seeds a fresh SQLite queue with N delivered recipients (N pending
// events, not timed), then runs the webhook service until every event is settled
// and prints events/s, POSTs/s and the process's peak RSS.
//
// Usage: webhook-bench --url http://127.0.0.1:8090/ok [--events 50000]
//        [--max-in-flight 256] [--per-receiver 64] [--retry-schedule 10ms,10ms,...]
//        [--data-dir DIR] (a new temporary directory by default, removed at the end)
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import MailQueue
import MetricsTestKit
import Webhooks

func option(_ flag: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

/// `250ms` or `2s`.
func duration(_ text: Substring) -> Duration? {
    if text.hasSuffix("ms"), let value = Int(text.dropLast(2)) { return .milliseconds(value) }
    if text.hasSuffix("s"), let value = Int(text.dropLast()) { return .seconds(value) }
    return nil
}

/// CPU seconds (user + system) the whole process has used so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The `VmHWM` (peak resident set) line of /proc/self/status, in KiB.
func peakResidentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

guard let url = option("--url") else {
    FileHandle.standardError.write(Data("usage: webhook-bench --url URL [--events N] [--max-in-flight N] [--per-receiver N] [--retry-schedule 10ms,...] [--data-dir DIR]\n".utf8))
    exit(2)
}
let eventCount = option("--events").flatMap { Int($0) } ?? 50_000
let maxInFlight = option("--max-in-flight").flatMap { Int($0) } ?? 256
let perReceiver = option("--per-receiver").flatMap { Int($0) } ?? 64
let schedule = option("--retry-schedule").map { $0.split(separator: ",").compactMap(duration) }
    ?? Array(repeating: .milliseconds(10), count: 7)
let ownDirectory = option("--data-dir") == nil
let directory = option("--data-dir") ?? FileManager.default.temporaryDirectory.appendingPathComponent("webhook-bench-\(UUID().uuidString)").path
defer { if ownDirectory { try? FileManager.default.removeItem(atPath: directory) } }

let store = try SQLiteQueueStore(directory: directory)

/// Stores messages of 100 recipients each and records every recipient delivered.
func seed(_ count: Int) async throws {
    let perMessage = 100
    var made = 0
    while made < count {
        let size = min(perMessage, count - made)
        let message = NewMessage(
            id: "msg_bench\(made)", createdAt: Date(), sendAt: nil, envelopeFrom: "bench@example.com",
            recipients: (0..<size).map { NewRecipient(email: "r\(made + $0)@example.org", domain: "example.org") },
            fromDisplay: "bench@example.com", subject: "bench", tags: ["bench"], metadataJSON: #"{"run":"1"}"#,
            webhookURL: url, content: Array("Subject: bench\r\n\r\nhello\r\n".utf8), requiresSMTPUTF8: false, requires8BitMIME: false
        )
        _ = try await store.accept([message], idempotency: nil)
        made += size
    }
    let response = SMTPResponseRecord(code: 250, enhancedCode: "2.0.0", message: "OK", host: "mx.example.org")
    while true {
        let claimed = try await store.claimDueRecipients(owner: "seed", now: Date(), limit: 1000, lease: .seconds(600))
        if claimed.isEmpty { break }
        try await store.recordOutcomes(claimed.map {
            RecipientOutcome(recipientID: $0.recipientID, kind: .delivered, response: response, attempted: true, decidedAt: Date())
        }, owner: "seed")
    }
}

let seedStart = ContinuousClock.now
try await seed(eventCount)
print("webhook-bench: \(eventCount) events to \(url) (seeded in \(seedStart.duration(to: .now)))")

var logger = Logger(label: "webhook-bench")
logger.logLevel = .error
let metrics = TestMetrics()
let service = WebhookService(
    store: store,
    configuration: .init(
        owner: "bench", version: "bench", signingKey: Array(repeating: 7, count: 32), retrySchedule: schedule,
        timeout: .seconds(10), allowPrivate: true, maxInFlight: maxInFlight, maxInFlightPerReceiver: perReceiver,
        pollInterval: .milliseconds(100)
    ),
    logger: logger, metricsFactory: metrics
)
func posts(_ result: String) -> Int64 {
    (try? metrics.expectCounter("mailgate_webhook_posts_total", [("result", result)]).totalValue) ?? 0
}

let cpuAtStart = processCPUSeconds()
let start = ContinuousClock.now
let running = Task { try await service.run() }
// Settled when the store has no pending event left (bounded: at most ten minutes).
let limit = start + .seconds(600)
while ContinuousClock.now < limit {
    try await Task.sleep(for: .milliseconds(20))
    if try await store.nextWebhookDue() == nil { break }
}
let elapsed = start.duration(to: .now)
let cpuSeconds = processCPUSeconds() - cpuAtStart
service.stop(gracePeriod: .seconds(5))
try await running.value
await store.close()

let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let (success, failure, dropped) = (posts("success"), posts("failure"), posts("dropped"))
let postsMade = success + failure + dropped
print(String(
    format: "  %lld delivered, %lld dropped, %lld failed POSTs retried; %lld POSTs in %.2f s",
    success, dropped, failure, postsMade, seconds
))
print(String(format: "  %.0f events/s settled, %.0f POSTs/s", Double(success + dropped) / seconds, Double(postsMade) / seconds))
print(String(format: "  CPU %.2f s (user+sys, all threads) = %.0f µs per POST", cpuSeconds, cpuSeconds * 1e6 / Double(max(1, postsMade))))
print("  peak RSS \(peakResidentKiB() / 1024) MiB (max in flight \(maxInFlight), per receiver \(perReceiver))")
