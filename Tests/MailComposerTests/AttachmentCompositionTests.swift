import Foundation
import MailComposer
import Testing

/// Attachments and the MIME tree, read back by Python's `email` package.
@Suite struct AttachmentCompositionTests {
    static let allBytes: [UInt8] = (0..<3).flatMap { _ in (0...255).map { UInt8($0) } }

    @Test func attachmentsAreByteExactWithTheirNames() throws {
        let longName = "Quarterly report — Überblick über alle Geschäftsbereiche und Tochtergesellschaften 2026 ✓.pdf"
        let attachments = [
            MessageAttachment(filename: "all-bytes.bin", contentType: "application/octet-stream", content: Self.allBytes),
            MessageAttachment(filename: "Prüfbericht ✓.pdf", contentType: "application/pdf", content: Array("%PDF-1.4\n".utf8)),
            MessageAttachment(filename: longName, contentType: "Application/PDF", content: [0]),
            MessageAttachment(filename: "say \"hi\".txt", contentType: "text/plain; charset=\"iso-8859-1\"", content: [0xE4, 0x0A]),
            MessageAttachment(filename: "empty.dat", contentType: "", content: []),
            MessageAttachment(filename: "", contentType: "image/png", content: [0x89, 0x50, 0x4E, 0x47]),
            MessageAttachment(filename: "日本語のファイル名.txt", contentType: "text/plain", content: Array("x".utf8)),
        ]
        var draft = Fixture.draft()
        draft.attachments = attachments
        let message = try Fixture.compose(draft)
        try expectWellFormed(message)
        let parsed = try PythonEmailParser.parse(message.bytes)
        #expect(parsed.root.contentType == "multipart/mixed")
        #expect(parsed.root.allDefects.isEmpty)
        let leaves = parsed.leaves
        #expect(leaves.count == 1 + attachments.count)
        #expect(leaves[0].contentType == "text/plain")
        #expect(leaves[0].contentBytes == Array("Hi Bob.\r\n".utf8))
        for (attachment, part) in zip(attachments, leaves.dropFirst()) {
            #expect(part.contentBytes == attachment.content, "\(attachment.filename)")
            #expect(part.filename == (attachment.filename.isEmpty ? nil : attachment.filename))
            #expect(part.disposition == "attachment")
            #expect(part.transferEncoding == "base64")
        }
        #expect(leaves.map(\.contentType) == [
            "text/plain", "application/octet-stream", "application/pdf", "application/pdf", "text/plain",
            "application/octet-stream", "image/png", "text/plain",
        ])
        #expect(leaves[4].parameters["charset"] == "iso-8859-1")
    }

    @Test func inlinePartsGoInMultipartRelatedWithTheHTML() throws {
        var draft = Fixture.draft(text: "See the logo.", html: "<p><img src=\"cid:logo\"> and <img src=\"cid:part1.ABC@host\"></p>")
        draft.attachments = [
            MessageAttachment(filename: "report.pdf", contentType: "application/pdf", content: Array("report".utf8)),
            MessageAttachment(filename: "logo.png", contentType: "image/png", content: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A], contentID: "logo"),
            MessageAttachment(filename: "", contentType: "image/gif", content: Array("GIF89a".utf8), contentID: "<part1.ABC@host>"),
        ]
        let message = try Fixture.compose(draft)
        try expectWellFormed(message)
        let parsed = try PythonEmailParser.parse(message.bytes)
        #expect(parsed.root.allDefects.isEmpty)
        let mixed = parsed.root
        #expect(mixed.contentType == "multipart/mixed")
        let alternative = try #require(mixed.parts?.first)
        #expect(alternative.contentType == "multipart/alternative")
        let related = try #require(alternative.parts?.last)
        #expect(related.contentType == "multipart/related")
        #expect(related.parameters["type"] == "text/html")
        let relatedParts = try #require(related.parts)
        #expect(relatedParts.map(\.contentType) == ["text/html", "image/png", "image/gif"])
        #expect(relatedParts[1].contentID == "<logo>")
        #expect(relatedParts[1].disposition == "inline")
        #expect(relatedParts[1].filename == "logo.png")
        #expect(relatedParts[1].contentBytes == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A])
        #expect(relatedParts[2].contentID == "<part1.ABC@host>")
        #expect(mixed.parts?.last?.filename == "report.pdf")
        #expect(mixed.parts?.last?.disposition == "attachment")
        let boundaries = [mixed, alternative, related].compactMap { $0.parameters["boundary"] }
        #expect(Set(boundaries).count == 3)
        #expect(boundaries.allSatisfy { $0.hasPrefix("=_") && $0.count >= 28 })
    }

    @Test func inlinePartsWithoutHTMLBecomeAttachments() throws {
        var draft = Fixture.draft(text: "text only")
        draft.attachments = [MessageAttachment(filename: "logo.png", contentType: "image/png", content: [1, 2], contentID: "logo")]
        let parsed = try PythonEmailParser.parse(try Fixture.compose(draft).bytes)
        #expect(parsed.root.contentType == "multipart/mixed")
        #expect(parsed.leaves.last?.disposition == "attachment")
        #expect(parsed.leaves.last?.contentID == "<logo>")
    }

    @Test func htmlOnlyWithInlineImage() throws {
        var draft = Fixture.draft(text: nil, html: "<img src=\"cid:x\">")
        draft.attachments = [MessageAttachment(filename: "x.png", contentType: "image/png", content: [9], contentID: "x")]
        let parsed = try PythonEmailParser.parse(try Fixture.compose(draft).bytes)
        #expect(parsed.root.contentType == "multipart/related")
        #expect(parsed.leaves.map(\.contentType) == ["text/html", "image/png"])
    }

    @Test func attachmentsWithoutBodiesStandAlone() throws {
        var draft = Fixture.draft(text: nil)
        draft.attachments = [MessageAttachment(filename: "a.bin", contentType: "application/octet-stream", content: [7])]
        let parsed = try PythonEmailParser.parse(try Fixture.compose(draft).bytes)
        #expect(parsed.root.contentType == "multipart/mixed")
        #expect(parsed.leaves.map(\.contentBytes) == [[7]])
    }

    struct BadAttachment: CustomTestStringConvertible, Sendable {
        let attachment: MessageAttachment
        let error: AttachmentError
        var testDescription: String { error.message }
    }

    static let badAttachments: [BadAttachment] = [
        BadAttachment(attachment: MessageAttachment(filename: "a", contentType: "pdf", content: []), error: .invalidContentType(reason: "it is not of the form type/subtype")),
        BadAttachment(attachment: MessageAttachment(filename: "a", contentType: "application/", content: []), error: .invalidContentType(reason: "it is not of the form type/subtype")),
        BadAttachment(attachment: MessageAttachment(filename: "a", contentType: "text/plain charset=x", content: []), error: .invalidContentType(reason: "parameters must follow a ;")),
        BadAttachment(attachment: MessageAttachment(filename: "a", contentType: "text/plain; charset", content: []), error: .invalidContentType(reason: "a parameter is not of the form attribute=value")),
        BadAttachment(attachment: MessageAttachment(filename: "a", contentType: "text/plain; a=\"x", content: []), error: .invalidContentType(reason: "a quoted parameter value is not closed")),
        BadAttachment(attachment: MessageAttachment(filename: "a", contentType: "multipart/mixed; boundary=x", content: []), error: .unsupportedContentType("multipart/mixed")),
        BadAttachment(attachment: MessageAttachment(filename: "a", contentType: "message/rfc822", content: []), error: .unsupportedContentType("message/rfc822")),
        BadAttachment(attachment: MessageAttachment(filename: "a\nb", contentType: "", content: []), error: .filenameLineBreak),
        BadAttachment(attachment: MessageAttachment(filename: "a\u{7}b", contentType: "", content: []), error: .filenameControlCharacter),
        BadAttachment(attachment: MessageAttachment(filename: "a", contentType: "", content: [], contentID: "has space"), error: .invalidContentID),
        BadAttachment(attachment: MessageAttachment(filename: "a", contentType: "", content: [], contentID: ""), error: .invalidContentID),
    ]

    @Test(arguments: badAttachments)
    func refusesBadAttachmentFields(_ row: BadAttachment) {
        #expect(throws: row.error) { try row.attachment.check() }
    }

    @Test func namesTheFieldAtFault() {
        #expect(AttachmentError.filenameLineBreak.fieldName == "filename")
        #expect(AttachmentError.invalidContentType(reason: "x").fieldName == "content_type")
        #expect(AttachmentError.invalidContentID.fieldName == "content_id")
    }
}
