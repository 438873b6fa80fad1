import Foundation
import JSON
import MailComposer
import MailQueue

/// Turns a validated request into the message the store keeps: a new id, the
/// composed RFC 5322 bytes (or the caller's raw message), and the envelope.
struct MessageFactory: Sendable {
    let heloName: String
    let defaultWebhookURL: String?
    let maxMessageSize: Int

    func make(_ request: SendRequest, now: Date) -> Result<NewMessage, APIProblem> {
        let id = SortableID.generate(.message, at: now)
        guard let messageID = MessageID(id: id, host: heloName) else {
            return .failure(APIProblem(status: 500, detail: "the HELO name cannot form a Message-ID"))
        }
        let composed: ComposedMessage
        switch request.content {
        case .structured(let text, let html, let attachments, let headers):
            let draft = MessageDraft(
                from: request.from, to: request.to, cc: request.cc, bcc: request.bcc, replyTo: request.replyTo,
                subject: request.subject, text: text, html: html, attachments: attachments, headers: headers,
                messageID: messageID, date: now)
            do throws(CompositionError) {
                composed = try MessageComposer.compose(draft)
            } catch {
                return .failure(.invalid([MessageFactory.fieldError(error)]))
            }
        case .raw(let bytes):
            do {
                composed = RawMessage.completingHeaders(try RawMessage.normalize(bytes), messageID: messageID, date: now)
            } catch {
                return .failure(.invalid([FieldError("raw", "\(error)")]))
            }
        }
        guard composed.bytes.count <= maxMessageSize else {
            return .failure(APIProblem(
                status: 413,
                detail: "the composed message is \(composed.bytes.count) bytes, more than the limit of \(maxMessageSize)"))
        }
        let recipients = request.envelopeRecipients
        let message = NewMessage(
            id: id,
            createdAt: now,
            sendAt: request.sendAt,
            envelopeFrom: request.from.address.string,
            recipients: recipients.map { NewRecipient(email: $0.string, domain: $0.domain) },
            fromDisplay: request.from.description,
            subject: request.subject,
            tags: request.tags,
            metadataJSON: String(decoding: JSONWriter.bytes(.object(request.metadata)), as: UTF8.self),
            webhookURL: request.webhookURL ?? defaultWebhookURL,
            content: composed.bytes,
            requiresSMTPUTF8: composed.requiresSMTPUTF8 || request.from.address.requiresSMTPUTF8
                || recipients.contains { $0.requiresSMTPUTF8 },
            requires8BitMIME: composed.has8BitContent)
        return .success(message)
    }

    /// A composer refusal reported on the request member at fault (SPEC §6).
    static func fieldError(_ error: CompositionError) -> FieldError {
        switch error {
        case .subject(let reason): FieldError("subject", reason.message)
        case .header(let name, let reason): FieldError("headers.\(name)", reason.message)
        case .attachment(let index, let reason): FieldError("attachments[\(index)].\(reason.fieldName)", reason.message)
        }
    }
}
