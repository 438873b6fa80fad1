/// The MIME tree of a composed message (RFC 2046 §5.1):
///
/// - text only → text/plain; html only → text/html; both → multipart/alternative
/// - inline attachments (with a content id) and html → multipart/related
///   around the html (RFC 2387)
/// - other attachments → multipart/mixed around all that
indirect enum MIMEEntity {
    case text(String, subtype: TextSubtype)
    case attachment(PreparedAttachment, inline: Bool)
    case multipart(MultipartSubtype, [MIMEEntity])

    enum TextSubtype {
        case plain, html
    }

    enum MultipartSubtype {
        case mixed, alternative, related
    }

    init(text: String?, html: String?, attachments: [PreparedAttachment]) {
        var htmlEntity = html.map { MIMEEntity.text($0, subtype: .html) }
        let inline = html == nil ? [] : attachments.filter { $0.contentID != nil }
        let regular = html == nil ? attachments : attachments.filter { $0.contentID == nil }
        if let html = htmlEntity, !inline.isEmpty {
            htmlEntity = .multipart(.related, [html] + inline.map { .attachment($0, inline: true) })
        }
        let textEntity = text.map { MIMEEntity.text($0, subtype: .plain) }
        let body: MIMEEntity?
        switch (textEntity, htmlEntity) {
        case (let text?, let html?): body = .multipart(.alternative, [text, html])
        case (let text?, nil): body = text
        case (nil, let html?): body = html
        case (nil, nil): body = nil
        }
        if regular.isEmpty {
            self = body ?? .text("", subtype: .plain)
        } else {
            self = .multipart(.mixed, (body.map { [$0] } ?? []) + regular.map { .attachment($0, inline: false) })
        }
    }
}

extension MessageWriter {
    /// Writes an entity's Content-* fields, the empty line, and its body,
    /// leaving no CRLF after the body (the next delimiter brings one).
    mutating func writeEntity(_ entity: MIMEEntity, boundaries: inout MIMEBoundary) {
        switch entity {
        case .text(var text, let subtype):
            text.withUTF8 { utf8 in writeTextPart(utf8, subtype: subtype) }
        case .attachment(let attachment, let inline):
            writeAttachmentPart(attachment, inline: inline)
        case .multipart(let subtype, let children):
            let boundary = boundaries.next()
            beginField("Content-Type")
            switch subtype {
            case .mixed: appendWord("multipart/mixed;")
            case .alternative: appendWord("multipart/alternative;")
            case .related:
                // RFC 2387 §3.1: `type` names the root part's type.
                appendWord("multipart/related;")
                appendWord("type=\"text/html\";")
            }
            appendWord(Array("boundary=\"".utf8) + boundary + [ASCII.quote])
            endField()
            endHeaderSection()
            for (index, child) in children.enumerated() {
                if index > 0 { appendCRLF() }
                append("--")
                append(contentsOf: boundary)
                appendCRLF()
                writeEntity(child, boundaries: &boundaries)
            }
            appendCRLF()
            append("--")
            append(contentsOf: boundary)
            append("--")
        }
    }

    private mutating func writeTextPart(_ text: UnsafeBufferPointer<UInt8>, subtype: MIMEEntity.TextSubtype) {
        let encoding = TextTransferEncoding.choose(for: text)
        beginField("Content-Type")
        switch subtype {
        case .plain: appendWord("text/plain;")
        case .html: appendWord("text/html;")
        }
        appendWord("charset=utf-8")
        endField()
        beginField("Content-Transfer-Encoding")
        appendWord(encoding.headerValue)
        endField()
        endHeaderSection()
        withBytes { TextBodyEncoder.append(text, encoding: encoding, to: &$0) }
    }

    private mutating func writeAttachmentPart(_ attachment: PreparedAttachment, inline: Bool) {
        let nameWords = attachment.filename.isEmpty
            ? [] : PreparedAttachment.filenameWords(attribute: "name", filename: attachment.filename)
        let writesName = !attachment.hasNameParameter && !nameWords.isEmpty
        beginField("Content-Type")
        appendWord(attachment.mediaType.utf8)
        let parameterWords = attachment.parameters + (writesName ? nameWords : [])
        for word in parameterWords {
            appendAttached(";")
            appendWord(word)
        }
        endField()
        writeField("Content-Transfer-Encoding", value: "base64")
        beginField("Content-Disposition")
        appendWord(inline ? "inline" : "attachment")
        if !attachment.filename.isEmpty {
            for word in PreparedAttachment.filenameWords(attribute: "filename", filename: attachment.filename) {
                appendAttached(";")
                appendWord(word)
            }
        }
        endField()
        if let contentID = attachment.contentID {
            beginField("Content-ID")
            appendWord(Array("<\(contentID)>".utf8))
            endField()
        }
        endHeaderSection()
        withBytes { Base64.appendLines(attachment.content, to: &$0) }
    }
}
