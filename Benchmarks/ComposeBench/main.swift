// A hand-run timing harness for MailComposer (not a test: speed belongs here).
// Build and run with Benchmarks/run-compose.sh; it compiles this file together
// with Sources/MailComposer into one optimised executable.
import Foundation

/// A deterministic generator, so every run composes the same bytes.
struct BenchGenerator: RandomNumberGenerator {
    var state: UInt64 = 0x1234_5678

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// About 2 KiB of plain text in 70-column lines, like a receipt.
func receiptText(nonASCII: Bool) -> String {
    let line = nonASCII
        ? "Grüße! Ihre Bestellung Nr. 1234 (3 Artikel, 59,90 €) ist unterwegs ✓"
        : "Thank you for your order 1234: 3 items, total 59.90 EUR, shipped today."
    return (0..<29).map { "\($0 % 10) " + line }.joined(separator: "\n") + "\n"
}

/// The second argument, if any, runs only the cases whose label contains it.
let only = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : nil

/// CPU time of this thread: other processes on the machine (builds, tests)
/// stretch wall-clock time but not this.
func threadCPUNanoseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

func measure(_ label: String, iterations: Int, _ body: () throws -> Int) rethrows {
    if let only, !label.contains(only) { return }
    var sink = 0
    for _ in 0..<(iterations / 10) { sink &+= try body() }
    let start = threadCPUNanoseconds()
    for _ in 0..<iterations { sink &+= try body() }
    let perOperation = (threadCPUNanoseconds() - start) / Double(iterations)
    let padded = label.padding(toLength: 46, withPad: " ", startingAt: 0)
    print(padded + String(format: "%8.0f ns/op (CPU)  %9.0f ops/s a core", perOperation, 1e9 / perOperation) + (sink == 42 ? "" : " "))
}

let iterations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000
let messageID = MessageID(id: "msg_01jdq3z7x8k9m2n4p6r8t0v2w4", host: "mx.gateway.test")!
let date = Date(timeIntervalSince1970: 1_796_040_000)
let plain = receiptText(nonASCII: false)
let umlauts = receiptText(nonASCII: true)

func draft(text: String, html: String? = nil) throws -> MessageDraft {
    MessageDraft(
        from: try Mailbox.parse("Alice Example <alice@example.com>"),
        to: [try Mailbox.parse("bob@example.org"), try Mailbox(email: "carol@example.net", name: "Carol Ä")],
        subject: "Your order ✓ has shipped", text: text, html: html,
        headers: [HeaderField(name: "X-Campaign", value: "fall")],
        messageID: messageID, date: date
    )
}

var generator = BenchGenerator()
let plainDraft = try draft(text: plain)
let size = try MessageComposer.compose(plainDraft, using: &generator).bytes.count
print("2 KiB text message: \(plain.utf8.count) octets of text, \(size) octets composed; \(iterations) iterations")

try measure("compose: 2 KiB ASCII text, 2 recipients", iterations: iterations) {
    try MessageComposer.compose(plainDraft, using: &generator).bytes.count
}
try measure("compose: same, system random generator", iterations: iterations) {
    try MessageComposer.compose(plainDraft).bytes.count
}
try measure("parse 3 mailboxes + compose (HTTP path)", iterations: iterations) {
    try MessageComposer.compose(try draft(text: plain), using: &generator).bytes.count
}
let umlautDraft = try draft(text: umlauts)
try measure("compose: 2 KiB non-ASCII text (QP)", iterations: iterations) {
    try MessageComposer.compose(umlautDraft, using: &generator).bytes.count
}
let alternativeDraft = try draft(text: plain, html: "<html><body><p>" + plain + "</p></body></html>")
try measure("compose: text + html (multipart/alternative)", iterations: iterations) {
    try MessageComposer.compose(alternativeDraft, using: &generator).bytes.count
}
let raw = try MessageComposer.compose(plainDraft, using: &generator).bytes
try measure("RawMessage.normalize (same message)", iterations: iterations) {
    try RawMessage.normalize(raw).bytes.count
}
