import Foundation
import JSON
import MailComposer
import Webhooks

/// Reads a send request's JSON object into a `SendRequest`, collecting every bad
/// field (SPEC §6 `errors[].field` paths) rather than stopping at the first.
/// `null` counts as absent for optional members.
struct SendRequestReader {
    let limits: SendRequestLimits
    let now: Date
    private(set) var errors: [FieldError] = []

    init(limits: SendRequestLimits, now: Date) {
        self.limits = limits
        self.now = now
    }

    static let knownFields: Set<String> = [
        "from", "to", "cc", "bcc", "reply_to", "subject", "text", "html", "raw", "attachments", "headers", "tags",
        "metadata", "webhook_url", "send_at",
    ]

    /// The validated request, or the errors that refuse it.
    static func read(_ object: JSONObject, limits: SendRequestLimits, now: Date) -> Result<SendRequest, APIProblem> {
        var reader = SendRequestReader(limits: limits, now: now)
        let request = reader.read(object)
        if let request, reader.errors.isEmpty { return .success(request) }
        return .failure(.invalid(reader.errors))
    }

    private mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    private mutating func read(_ object: JSONObject) -> SendRequest? {
        var seen = Set<String>()
        for key in object.keys {
            if !SendRequestReader.knownFields.contains(key) {
                fail(key, "is not a field of a send request")
            } else if !seen.insert(key).inserted {
                fail(key, "appears more than once")
            }
        }
        let from = readSender(object["from"])
        let to = readRecipients(object["to"], field: "to")
        let cc = readRecipients(object["cc"], field: "cc")
        let bcc = readRecipients(object["bcc"], field: "bcc")
        let replyTo = readRecipients(object["reply_to"], field: "reply_to")
        let recipientCount = to.count + cc.count + bcc.count
        if recipientCount == 0, !errors.contains(where: { ["to", "cc", "bcc"].contains(rootField($0.field)) }) {
            fail("to", "at least one recipient is required (to, cc or bcc)")
        } else if recipientCount > limits.maxRecipients {
            fail("to", "\(recipientCount) recipients is more than the limit of \(limits.maxRecipients) (to, cc and bcc together)")
        }
        let subject = readSubject(object["subject"])
        let content = readContent(object)
        let tags = readTags(object["tags"])
        let metadata = readMetadata(object["metadata"])
        let webhookURL = readWebhookURL(object["webhook_url"])
        let sendAt = readSendAt(object["send_at"])
        guard errors.isEmpty, let from, let content else { return nil }
        return SendRequest(
            from: from, to: to, cc: cc, bcc: bcc, replyTo: replyTo, subject: subject, content: content, tags: tags,
            metadata: metadata, webhookURL: webhookURL, sendAt: sendAt)
    }

    private func rootField(_ path: String) -> String {
        String(path.prefix { $0 != "[" && $0 != "." })
    }

    // MARK: Addresses

    private mutating func readSender(_ value: JSONValue?) -> Mailbox? {
        switch value {
        case nil, .null?:
            fail("from", "is required")
            return nil
        case .array?:
            fail("from", "must be one address, not a list")
            return nil
        case let value?:
            return readMailbox(value, field: "from")
        }
    }

    /// One address or a list of them; a lone string or object reports on `field` itself.
    private mutating func readRecipients(_ value: JSONValue?, field: String) -> [Mailbox] {
        switch value {
        case nil, .null?:
            return []
        case .array(let items)?:
            return items.enumerated().compactMap { index, item in readMailbox(item, field: "\(field)[\(index)]") }
        case let value?:
            return readMailbox(value, field: field).map { [$0] } ?? []
        }
    }

    /// `"a@b.c"`, `"Name <a@b.c>"` or `{"email", "name"}`.
    private mutating func readMailbox(_ value: JSONValue, field: String) -> Mailbox? {
        switch value {
        case .string(let text):
            do throws(AddressError) {
                return try Mailbox.parse(text)
            } catch {
                fail(field, error.message)
                return nil
            }
        case .object(let object):
            for key in object.keys where key != "email" && key != "name" {
                fail("\(field).\(key)", "is not a field of an address (email, name)")
            }
            guard case .string(let email)? = object["email"] else {
                fail("\(field).email", object["email"] == nil ? "is required" : "must be a string")
                return nil
            }
            var name: String?
            switch object["name"] {
            case nil, .null?: name = nil
            case .string(let text)?: name = text
            case let other?:
                fail("\(field).name", "must be a string, not \(other.typeName)")
                return nil
            }
            do throws(AddressError) {
                return try Mailbox(email: email, name: name)
            } catch {
                fail(error.concernsDisplayName ? "\(field).name" : "\(field).email", error.message)
                return nil
            }
        default:
            fail(field, "must be an address string or an {\"email\", \"name\"} object, not \(value.typeName)")
            return nil
        }
    }

    // MARK: Content

    private mutating func readString(_ value: JSONValue?, field: String) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?:
            fail(field, "must be a string, not \(other.typeName)")
            return nil
        }
    }

    private mutating func readSubject(_ value: JSONValue?) -> String? {
        guard let subject = readString(value, field: "subject") else { return nil }
        do throws(HeaderError) {
            try HeaderSafety.checkText(subject)
        } catch {
            fail("subject", error.message)
        }
        return subject
    }

    private mutating func readContent(_ object: JSONObject) -> SendRequest.Content? {
        let text = readString(object["text"], field: "text")
        let html = readString(object["html"], field: "html")
        let raw = readString(object["raw"], field: "raw")
        let attachments = readAttachments(object["attachments"])
        let headers = readHeaders(object["headers"], subjectGiven: object["subject"].map { !$0.isNull } ?? false, object: object)
        if let raw {
            let structured = ["subject", "text", "html", "attachments", "headers", "reply_to"].filter { object[$0].map { !$0.isNull } ?? false }
            for field in structured {
                fail(field, "cannot be combined with raw, which is the whole message")
            }
            guard let bytes = Base64.decode(raw) else {
                fail("raw", "is not valid base64")
                return nil
            }
            guard !bytes.isEmpty else {
                fail("raw", "is empty")
                return nil
            }
            return .raw(bytes)
        }
        let hasText = !(text ?? "").isEmpty
        let hasHTML = !(html ?? "").isEmpty
        if !hasText && !hasHTML && !errors.contains(where: { $0.field == "text" || $0.field == "html" }) {
            fail("text", "the message has no content: give text, html or raw")
            return nil
        }
        for (field, body) in [("text", text), ("html", html)] {
            if let body, body.utf8.contains(0) { fail(field, "contains a NUL byte") }
        }
        return .structured(text: text, html: html, attachments: attachments, headers: headers)
    }

    private mutating func readAttachments(_ value: JSONValue?) -> [MessageAttachment] {
        switch value {
        case nil, .null?: return []
        case .array(let items)?:
            return items.enumerated().compactMap { index, item in readAttachment(item, field: "attachments[\(index)]") }
        case let other?:
            fail("attachments", "must be a list, not \(other.typeName)")
            return []
        }
    }

    private mutating func readAttachment(_ value: JSONValue, field: String) -> MessageAttachment? {
        guard case .object(let object) = value else {
            fail(field, "must be an object with filename, content_type and content")
            return nil
        }
        for key in object.keys where !["filename", "content_type", "content", "content_id"].contains(key) {
            fail("\(field).\(key)", "is not a field of an attachment (filename, content_type, content, content_id)")
        }
        let filename = readString(object["filename"], field: "\(field).filename")
        let contentType = readString(object["content_type"], field: "\(field).content_type") ?? "application/octet-stream"
        let encoded = readString(object["content"], field: "\(field).content")
        let contentID = readString(object["content_id"], field: "\(field).content_id")
        var valid = true
        if let filename {
            if filename.allSatisfy(\.isWhitespace) || filename.utf8.count > 255 {
                fail("\(field).filename", "must be 1 to 255 bytes long, not only white space")
                valid = false
            } else if filename.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "/" || $0 == "\\" }) {
                fail("\(field).filename", "may not contain control characters, line breaks or path separators")
                valid = false
            }
        } else if object["filename"] == nil || object["filename"] == .null {
            fail("\(field).filename", "is required")
            valid = false
        }
        if !SendRequestReader.isMediaType(contentType) {
            fail("\(field).content_type", "must be a media type like application/pdf")
            valid = false
        }
        if let contentID, !SendRequestReader.isContentID(contentID) {
            fail("\(field).content_id", "may hold only letters, digits and !#$%&'*+-/=?^_`{|}~.@ (no angle brackets)")
            valid = false
        }
        var content: [UInt8]?
        if let encoded {
            content = Base64.decode(encoded)
            if content == nil {
                fail("\(field).content", "is not valid base64")
                valid = false
            }
        } else if object["content"] == nil || object["content"] == .null {
            fail("\(field).content", "is required")
            valid = false
        }
        guard valid, let filename, let content else { return nil }
        let attachment = MessageAttachment(filename: filename, contentType: contentType.lowercased(), content: content, contentID: contentID)
        do throws(AttachmentError) {
            try attachment.check()
        } catch {
            fail("\(field).\(error.fieldName)", error.message)
            return nil
        }
        return attachment
    }

    private mutating func readHeaders(_ value: JSONValue?, subjectGiven: Bool, object: JSONObject) -> [HeaderField] {
        switch value {
        case nil, .null?: return []
        case .object(let members)?:
            var fields: [HeaderField] = []
            var names = Set<String>()
            for (name, item) in members {
                let field = "headers.\(name)"
                guard case .string(let text) = item else {
                    fail(field, "must be a string, not \(item.typeName)")
                    continue
                }
                do throws(HeaderError) {
                    try HeaderSafety.checkExtraHeader(name: name, value: text)
                } catch {
                    fail(field, error.message)
                    continue
                }
                let lowered = name.lowercased()
                if !names.insert(lowered).inserted {
                    fail(field, "is given more than once")
                } else if lowered == "subject" && subjectGiven {
                    fail(field, "conflicts with the subject field")
                } else if lowered == "reply-to" && object["reply_to"].map({ !$0.isNull }) == true {
                    fail(field, "conflicts with the reply_to field")
                } else {
                    fields.append(HeaderField(name: name, value: text))
                }
            }
            return fields
        case let other?:
            fail("headers", "must be an object of header names to string values, not \(other.typeName)")
            return []
        }
    }

    // MARK: Everything else

    private mutating func readTags(_ value: JSONValue?) -> [String] {
        switch value {
        case nil, .null?: return []
        case .array(let items)?:
            if items.count > SendRequestLimits.maximumTags {
                fail("tags", "at most \(SendRequestLimits.maximumTags) tags are allowed")
                return []
            }
            var tags: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let tag) = item, !tag.isEmpty, tag.unicodeScalars.count <= SendRequestLimits.maximumTagLength,
                    !tag.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
                else {
                    fail("tags[\(index)]", "must be a string of 1 to \(SendRequestLimits.maximumTagLength) characters without control characters")
                    continue
                }
                tags.append(tag)
            }
            return tags
        case let other?:
            fail("tags", "must be a list of strings, not \(other.typeName)")
            return []
        }
    }

    private mutating func readMetadata(_ value: JSONValue?) -> JSONObject {
        switch value {
        case nil, .null?: return [:]
        case .object(let object)?:
            if JSONWriter.bytes(.object(object)).count > SendRequestLimits.maximumMetadataBytes {
                fail("metadata", "is larger than \(SendRequestLimits.maximumMetadataBytes / 1024) KiB as JSON")
            }
            checkNumbers(in: .object(object), path: "metadata")
            return object
        case let other?:
            fail("metadata", "must be an object, not \(other.typeName)")
            return [:]
        }
    }

    /// Metadata goes back out in responses and webhooks: a number that common
    /// JSON readers cannot hold (`1e999`, a double overflow) is refused here
    /// rather than break the receiver's parser later.
    private mutating func checkNumbers(in value: JSONValue, path: String) {
        switch value {
        case .number(let number):
            if number.double.map({ !$0.isFinite }) ?? true { fail(path, "is a number out of range (\(number.text.prefix(20)))") }
        case .object(let object):
            for (key, member) in object { checkNumbers(in: member, path: "\(path).\(key)") }
        case .array(let items):
            for (index, item) in items.enumerated() { checkNumbers(in: item, path: "\(path)[\(index)]") }
        default:
            break
        }
    }

    private mutating func readWebhookURL(_ value: JSONValue?) -> String? {
        guard let text = readString(value, field: "webhook_url") else { return nil }
        do throws(WebhookURLError) {
            return try WebhookURL(text, guard: AddressGuard(allowPrivate: limits.allowPrivateWebhooks)).text
        } catch {
            fail("webhook_url", error.reason)
            return nil
        }
    }

    /// `send_at` as RFC 3339; a time already past sends at once.
    private mutating func readSendAt(_ value: JSONValue?) -> Date? {
        guard let text = readString(value, field: "send_at") else { return nil }
        guard let seconds = RFC3339.parse(text) else {
            fail("send_at", "must be an RFC 3339 date-time such as 2026-12-01T09:00:00Z")
            return nil
        }
        let date = Date(timeIntervalSince1970: seconds)
        return date > now ? date : nil
    }

    /// `type/subtype` with RFC 2045 token characters, optionally followed by parameters.
    static func isMediaType(_ text: String) -> Bool {
        let essence = text.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        let parts = essence.trimmingBlanks().split(separator: "/", omittingEmptySubsequences: false)
        let tokenCharacters = Set("!#$%&'*+-.^_`|~".utf8)
        guard parts.count == 2, text.utf8.count <= 255 else { return false }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value >= 0x7F }) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || tokenCharacters.contains(byte)
            }
        }
    }

    /// A Content-ID without its angle brackets: dot-atom text with an optional `@`.
    static func isContentID(_ text: String) -> Bool {
        let allowed = Set("!#$%&'*+-/=?^_`{|}~.@".utf8)
        return !text.isEmpty && text.utf8.count <= 250 && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || allowed.contains(byte)
        }
    }
}
