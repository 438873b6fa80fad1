import Foundation

/// Why a draft could not be composed: the API checks the same rules first (to
/// name the JSON field), so these are its second line of defence.
public enum CompositionError: Error, Sendable, Equatable, CustomStringConvertible {
    case subject(HeaderError)
    case header(name: String, HeaderError)
    case attachment(index: Int, AttachmentError)

    public var message: String {
        switch self {
        case .subject(let error): "subject: \(error.message)"
        case .header(let name, let error): "header \(name): \(error.message)"
        case .attachment(let index, let error): "attachment \(index): \(error.message)"
        }
    }

    public var description: String { message }
}

/// Turns a `MessageDraft` into RFC 5322 / MIME bytes: pure, no I/O.
///
/// Nothing a caller sends can inject a header or split the message: addresses,
/// display names and the Message-ID are checked when their values are made
/// (`EmailAddress`, `Mailbox`, `MessageID` have no unchecked initialisers), and
/// the subject, caller headers and attachment fields are checked here before
/// anything is written; a bad one is thrown as `CompositionError`, never
/// stripped. The output is 7-bit with CRLF line ends, lines folded under 78
/// columns where possible and never over 998 octets; the one exception to
/// 7-bit is a UTF-8 local part in an address field (RFC 6532), reported by
/// `requiresSMTPUTF8`.
public enum MessageComposer {
    public static func compose(_ draft: MessageDraft) throws(CompositionError) -> ComposedMessage {
        var generator = SystemRandomNumberGenerator()
        return try compose(draft, using: &generator)
    }

    /// `generator` supplies the multipart boundaries' randomness; tests pass a
    /// seeded one to get the same bytes every run.
    public static func compose(
        _ draft: MessageDraft, using generator: inout some RandomNumberGenerator
    ) throws(CompositionError) -> ComposedMessage {
        try checkHeaderText(of: draft)
        var attachments: [PreparedAttachment] = []
        attachments.reserveCapacity(draft.attachments.count)
        for (index, attachment) in draft.attachments.enumerated() {
            do {
                attachments.append(try PreparedAttachment(attachment))
            } catch {
                throw .attachment(index: index, error)
            }
        }
        let entity = MIMEEntity(text: draft.text, html: draft.html, attachments: attachments)
        var writer = MessageWriter(capacity: estimatedSize(of: draft))
        let headerMailboxes = writeHeaderFields(of: draft, to: &writer)
        var boundaries: MIMEBoundary
        if case .multipart = entity {
            boundaries = MIMEBoundary(using: &generator)
        } else {
            boundaries = MIMEBoundary.unused
        }
        writer.writeEntity(entity, boundaries: &boundaries)
        if writer.bytes.last != ASCII.lf { writer.appendCRLF() }
        let requiresSMTPUTF8 = draft.from.address.requiresSMTPUTF8
            || [draft.to, draft.cc, draft.replyTo, headerMailboxes].contains { $0.contains { $0.address.requiresSMTPUTF8 } }
        // Every encoder writes ASCII and display names are encoded words, so
        // the only 8-bit octets are those of UTF-8 local parts (RFC 6532).
        return ComposedMessage(bytes: writer.bytes, requiresSMTPUTF8: requiresSMTPUTF8, has8BitContent: requiresSMTPUTF8)
    }

    private static func checkHeaderText(of draft: MessageDraft) throws(CompositionError) {
        if let subject = draft.subject {
            do { try HeaderSafety.checkText(subject) } catch { throw .subject(error) }
        }
        if !draft.headers.isEmpty,
           let first = HeaderSafety.problems(in: draft.headers, hasSubject: draft.subject != nil, hasReplyTo: !draft.replyTo.isEmpty).first {
            throw .header(name: first.name, first.error)
        }
    }

    /// Date, From, To, Cc, Reply-To, Subject, Message-ID, MIME-Version, then
    /// the caller's headers. Bcc is never written. Returns the mailboxes of the
    /// caller's address fields, which count for SMTPUTF8 too.
    private static func writeHeaderFields(of draft: MessageDraft, to writer: inout MessageWriter) -> [Mailbox] {
        writer.beginField("Date")
        writer.append(ASCII.space)
        writer.withBytes { MessageDate.append(draft.date, to: &$0) }
        writer.endField()
        writeListField("From", CollectionOfOne(draft.from), to: &writer)
        if !draft.to.isEmpty {
            writeListField("To", draft.to, to: &writer)
        } else if draft.cc.isEmpty {
            // RFC 5322 §3.6.3 group syntax: the usual To of Bcc-only mail.
            writer.beginField("To")
            writer.appendWord("undisclosed-recipients:;")
            writer.endField()
        }
        writeListField("Cc", draft.cc, to: &writer)
        writeListField("Reply-To", draft.replyTo, to: &writer)
        if let subject = draft.subject {
            writer.beginField("Subject")
            if !subject.isEmpty { writer.appendText(subject, form: .forSubject(subject)) }
            writer.endField()
        }
        writer.beginField("Message-ID")
        writer.appendMessageID(draft.messageID)
        writer.endField()
        writer.writeField("MIME-Version", value: "1.0")
        var headerMailboxes: [Mailbox] = []
        for field in draft.headers {
            writer.beginField(field.name)
            if HeaderSafety.isAddressFieldName(field.name) {
                let mailboxes = addressFieldMailboxes(field)
                writer.appendMailboxList(mailboxes)
                headerMailboxes += mailboxes
            } else if !field.value.isEmpty {
                writer.appendText(field.value, form: .forHeaderValue(field.value))
            }
            writer.endField()
        }
        return headerMailboxes
    }

    /// The mailboxes of a caller's address field (`Reply-To`, `Sender`, …),
    /// none for other fields; checked before anything is written.
    private static func addressFieldMailboxes(_ field: HeaderField) -> [Mailbox] {
        guard HeaderSafety.isAddressFieldName(field.name) else { return [] }
        return (try? HeaderSafety.mailboxes(inAddressField: field.value)) ?? []
    }

    private static func writeListField(
        _ name: StaticString, _ mailboxes: some Collection<Mailbox>, to writer: inout MessageWriter
    ) {
        guard !mailboxes.isEmpty else { return }
        writer.beginField(name)
        writer.appendMailboxList(mailboxes)
        writer.endField()
    }

    /// Enough for the usual message in one allocation: headers, bodies with
    /// some quoted-printable growth, attachments at base64's 4/3 plus CRLFs.
    private static func estimatedSize(of draft: MessageDraft) -> Int {
        var size = 1024 + (draft.subject?.utf8.count ?? 0) * 3
        size += (draft.to.count + draft.cc.count + draft.replyTo.count) * 96
        size += draft.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count * 3 + 4 }
        for body in [draft.text, draft.html] {
            if let count = body?.utf8.count { size += count + count / 8 + 160 }
        }
        for attachment in draft.attachments {
            size += attachment.content.count / 3 * 4 + attachment.content.count / 28 + 512
        }
        return size
    }
}
