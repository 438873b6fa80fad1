/// Why an attachment was refused.
public enum AttachmentError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidContentType(reason: String)
    /// multipart/* and message/* cannot be carried base64-encoded (RFC 2046
    /// §5.1.1, §5.2.1); send such a file as application/octet-stream.
    case unsupportedContentType(String)
    case filenameLineBreak
    case filenameControlCharacter
    case invalidContentID

    /// The member of the JSON attachment object at fault, for
    /// `errors[].field` (`attachments[0].filename`).
    public var fieldName: String {
        switch self {
        case .invalidContentType, .unsupportedContentType: "content_type"
        case .filenameLineBreak, .filenameControlCharacter: "filename"
        case .invalidContentID: "content_id"
        }
    }

    public var message: String {
        switch self {
        case .invalidContentType(let reason): "the content type is invalid: \(reason)"
        case .unsupportedContentType(let type):
            "the content type \(type) cannot be sent as an attachment; use application/octet-stream"
        case .filenameLineBreak: "the file name contains a line break (CR or LF) or a NUL byte"
        case .filenameControlCharacter: "the file name contains a control character"
        case .invalidContentID:
            "the content id may hold only letters, digits, dots, @ and the characters !#$%&'*+-/=?^_`{|}~ (at most 250)"
        }
    }

    public var description: String { message }
}

extension MessageAttachment {
    /// Checks the attachment as `compose` will, so the API can report a 422
    /// on the right field before composing.
    public func check() throws(AttachmentError) {
        _ = try PreparedAttachment(self)
    }
}
