import Foundation
import MailQueue

// The SQLite queue store alone, release build (Benchmarks/run-queue.sh):
//   1. accept: N messages of 2 KiB with 2 recipients from C concurrent tasks,
//      each accept durable (synced) before it returns;
//   2. delivery: W workers claim 100 recipients at a time and record them delivered
//      (each outcome with its event, synced).
// Prints rates, latency percentiles and commits/fsyncs per message from the
// store's own counters.

struct Options {
    var messages = 100_000
    var tasks = 64
    var workers = 4
    var directory: String?

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            let value = iterator.next() ?? ""
            switch flag {
            case "--messages": messages = Int(value) ?? messages
            case "--tasks": tasks = Int(value) ?? tasks
            case "--workers": workers = Int(value) ?? workers
            case "--dir": directory = value
            default: FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8)); exit(2)
            }
        }
    }
}

/// A composed 2 KiB message, as the API would store it.
func sampleMessage(index: Int, createdAt: Date) -> NewMessage {
    var content = Array("From: Alice <alice@example.com>\r\nTo: bob@example.org, carol@example.net\r\nSubject: Order \(index)\r\n\r\n".utf8)
    while content.count < 2048 { content += Array("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n".utf8) }
    return NewMessage(
        id: SortableID.generate(.message, at: createdAt), createdAt: createdAt, sendAt: nil,
        envelopeFrom: "alice@example.com",
        recipients: [NewRecipient(email: "bob@example.org", domain: "example.org"), NewRecipient(email: "carol@example.net", domain: "example.net")],
        fromDisplay: "Alice <alice@example.com>", subject: "Order \(index)", tags: ["receipt"],
        metadataJSON: #"{"order":"\#(index)"}"#, webhookURL: "https://app.example.com/hooks/mail",
        content: Array(content.prefix(2048)), requiresSMTPUTF8: false, requires8BitMIME: false
    )
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func format(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }

/// CPU seconds (user + system) this process has used, all threads.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func acceptPhase(_ store: SQLiteQueueStore, options: Options) async throws {
    let before = store.writeStatistics
    let perTask = options.messages / options.tasks
    let cpuBefore = processCPUSeconds()
    let start = ContinuousClock.now
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        for task in 0..<options.tasks {
            group.addTask {
                var latencies: [Double] = []
                latencies.reserveCapacity(perTask)
                for index in 0..<perTask {
                    let message = sampleMessage(index: task * perTask + index, createdAt: Date())
                    let began = ContinuousClock.now
                    _ = try await store.accept([message], idempotency: nil)
                    let elapsed = ContinuousClock.now - began
                    latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                }
                return latencies
            }
        }
        return try await group.reduce(into: []) { $0 += $1 }.sorted()
    }
    let seconds = (ContinuousClock.now - start).seconds
    let cpu = processCPUSeconds() - cpuBefore
    let after = store.writeStatistics
    let accepted = Double(latencies.count)
    let commits = after.commits - before.commits
    let synced = after.durableCommits - before.durableCommits
    print("accept: \(latencies.count) messages (2 KiB, 2 recipients) from \(options.tasks) tasks in \(format(seconds, 2)) s")
    print("  \(format(accepted / seconds)) accepted messages/s")
    print("  latency p50 \(format(percentile(latencies, 0.5), 2)) ms, p99 \(format(percentile(latencies, 0.99), 2)) ms")
    print("  \(format(cpu / accepted * 1e6, 1)) µs of CPU per message (whole process, building the messages included)")
    print("  \(commits) commits (\(synced) synced), \(format(accepted / Double(max(commits, 1)), 1)) messages per commit, \(format(Double(synced) / accepted, 4)) WAL fsyncs per message")
}

/// Lease bookkeeping alone: workers claim 100 recipients and release them again,
/// `rounds` times each. These commits are not synced (see `GroupCommitWriter`).
func leasePhase(_ store: SQLiteQueueStore, options: Options, rounds: Int = 200) async throws {
    let before = store.writeStatistics
    let start = ContinuousClock.now
    let claimed = try await withThrowingTaskGroup(of: Int.self) { group in
        for worker in 0..<options.workers {
            group.addTask {
                var count = 0
                for _ in 0..<rounds {
                    let claimed = try await store.claimDueRecipients(owner: "lease-\(worker)", now: Date(), limit: 100, lease: .seconds(60))
                    try await store.releaseRecipients(owner: "lease-\(worker)", recipientIDs: claimed.map(\.recipientID))
                    count += claimed.count
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    let seconds = (ContinuousClock.now - start).seconds
    let after = store.writeStatistics
    let calls = Double(options.workers * rounds * 2)
    print("leases: \(Int(calls)) claim/release calls (\(claimed) recipients) by \(options.workers) workers in \(format(seconds, 2)) s")
    print("  \(format(calls / seconds)) calls/s, \(after.commits - before.commits) commits (\(after.durableCommits - before.durableCommits) synced)")
}

func deliveryPhase(_ store: SQLiteQueueStore, options: Options) async throws {
    let before = store.writeStatistics
    let cpuBefore = processCPUSeconds()
    let start = ContinuousClock.now
    let delivered = try await withThrowingTaskGroup(of: Int.self) { group in
        for worker in 0..<options.workers {
            group.addTask {
                var count = 0
                while true {
                    let claimed = try await store.claimDueRecipients(owner: "bench-\(worker)", now: Date(), limit: 100, lease: .seconds(60))
                    if claimed.isEmpty { return count }
                    let response = SMTPResponseRecord(code: 250, enhancedCode: "2.0.0", message: "OK", host: "mx.example.org")
                    try await store.recordOutcomes(
                        claimed.map { RecipientOutcome(recipientID: $0.recipientID, kind: .delivered, response: response, attempted: true, decidedAt: Date()) },
                        owner: "bench-\(worker)")
                    count += claimed.count
                }
            }
        }
        return try await group.reduce(0, +)
    }
    let seconds = (ContinuousClock.now - start).seconds
    let after = store.writeStatistics
    print("delivery: \(delivered) recipients claimed and recorded delivered (with events) by \(options.workers) workers in \(format(seconds, 2)) s")
    print("  \(format(Double(delivered) / seconds)) outcomes/s, \(after.commits - before.commits) commits (\(after.durableCommits - before.durableCommits) synced)")
    print("  \(format((processCPUSeconds() - cpuBefore) / Double(max(delivered, 1)) * 1e6, 1)) µs of CPU per recipient")
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

let options = Options(CommandLine.arguments)
let directory = options.directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("queue-bench-\(getpid())").path
let store = try SQLiteQueueStore(directory: directory, queueLimit: .max)
try await acceptPhase(store, options: options)
let statistics = try await store.statistics(now: Date())
print("  queue now holds \(statistics.recipientsByStatus[.queued] ?? 0) queued recipients")
try await leasePhase(store, options: options)
try await deliveryPhase(store, options: options)
await store.close()
if options.directory == nil { try? FileManager.default.removeItem(atPath: directory) }
