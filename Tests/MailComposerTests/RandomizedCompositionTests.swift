import MailgateTesting
import Foundation
import MailComposer
import Testing

/// Seeded random drafts: every composed message keeps the line, CRLF and
/// 7-bit promises, and Python reads back the same subject, names, bodies and
/// attachments.
@Suite struct RandomizedCompositionTests {
    static let messageCount = 150

    /// Characters that stress the encoders: specials, white space, dots,
    /// `=`, `?`, `_`, multi-byte UTF-8 of every length.
    static let alphabet: [Character] = Array("aZ09 .,;:<>\"\\()[]@=?_-!~\t…äÄßéñ✓—€日本語한국🙂🎉") + [" ", " ", "e", "x", "."]

    struct Sample {
        let draft: MessageDraft
        let subject: String
        let name: String
        let text: String?
        let html: String?
    }

    static func randomText(maximumLength: Int, lineEnds: Bool, using generator: inout SeededGenerator) -> String {
        let length = Int.random(in: 0...maximumLength, using: &generator)
        var text = ""
        for _ in 0..<length {
            if lineEnds && Int.random(in: 0..<40, using: &generator) == 0 {
                text += ["\n", "\r\n", "\r", " \n", ".\n", "\t\r\n"].randomElement(using: &generator)!
            } else {
                text.append(alphabet.randomElement(using: &generator)!)
            }
        }
        return text
    }

    static func randomSample(using generator: inout SeededGenerator) throws -> Sample {
        let subject = randomText(maximumLength: 300, lineEnds: false, using: &generator)
        let name = randomText(maximumLength: 90, lineEnds: false, using: &generator)
        let text: String? = Bool.random(using: &generator) ? randomText(maximumLength: 4000, lineEnds: true, using: &generator) : nil
        let html: String? = text == nil || Bool.random(using: &generator)
            ? "<div>" + randomText(maximumLength: 3000, lineEnds: Bool.random(using: &generator), using: &generator) + "</div>"
            : nil
        var draft = Fixture.draft(subject: subject, text: text, html: html)
        draft.to = [try Mailbox(email: "carol@example.net", name: name), Fixture.mailbox("dan@example.org")]
        draft.bcc = [Fixture.mailbox("secret@example.com")]
        draft.headers = [HeaderField(name: "X-Random", value: randomText(maximumLength: 200, lineEnds: false, using: &generator))]
        let attachmentCount = Int.random(in: 0...2, using: &generator)
        draft.attachments = (0..<attachmentCount).map { index in
            let size = Int.random(in: 0...3000, using: &generator)
            return MessageAttachment(
                filename: randomText(maximumLength: 80, lineEnds: false, using: &generator).replacingOccurrences(of: "\t", with: " "),
                contentType: "application/octet-stream",
                content: (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) },
                contentID: index == 0 && Bool.random(using: &generator) ? "cid\(index)@example" : nil
            )
        }
        return Sample(draft: draft, subject: subject, name: name, text: text, html: html)
    }

    @Test func randomDraftsKeepEveryPromise() throws {
        var generator = SeededGenerator(seed: 20_261_130)
        var samples: [Sample] = []
        var messages: [[UInt8]] = []
        for _ in 0..<Self.messageCount {
            let sample = try Self.randomSample(using: &generator)
            let message = try MessageComposer.compose(sample.draft, using: &generator)
            // Raw ASCII caller headers may hold words up to 998 octets, so only
            // the hard limit is checked for every line here.
            try expectWellFormed(message, headerLinesWithin78: false)
            samples.append(sample)
            messages.append(message.bytes)
        }
        let parsed = try PythonEmailParser.parse(messages)
        #expect(parsed.count == samples.count)
        for (sample, result) in zip(samples, parsed) {
            #expect(result.subject == sample.subject)
            #expect(result.toNames?.first == sample.draft.to[0].displayName ?? "")
            #expect(result.header("Bcc").isEmpty)
            #expect(result.root.allDefects.isEmpty, "\(result.root.allDefects)")
            let leaves = result.leaves
            let bodies = leaves.filter { $0.contentType.hasPrefix("text/") }.map(\.contentBytes)
            #expect(bodies == sample.expectedBodies)
            let attachments = leaves.filter { !$0.contentType.hasPrefix("text/") }
            #expect(attachments.map(\.contentBytes) == sample.draft.attachments.map(\.content))
            // File names lose white space at their ends (the composer trims it).
            let filenames = sample.draft.attachments.map { $0.filename.trimmingCharacters(in: .whitespaces) }
            #expect(attachments.map { $0.filename ?? "" } == filenames)
        }
    }
}

extension RandomizedCompositionTests.Sample {
    /// The decoded text bodies Python should find: the texts with CRLF line
    /// ends, and in a single-part message one CRLF at the end (the composer
    /// ends every message with a line end).
    var expectedBodies: [[UInt8]] {
        let texts = [text, html].compactMap { $0 }.map { Array($0.withCRLF.utf8) }
        guard texts.count == 1, draft.attachments.isEmpty, let only = texts.first, !only.isEmpty else { return texts }
        return [only.suffix(2) == [0x0D, 0x0A] ? only : only + [0x0D, 0x0A]]
    }
}
