import Foundation

extension RawMessage {
    /// What the gateway adds to and removes from a caller's raw message, as Postfix's
    /// cleanup does: a `Date` and a `Message-ID` (`<id@helo-name>`) when the message has
    /// none (SPEC §3 generated headers), and no `Bcc` field, since no copy may show
    /// Bcc recipients (SPEC §2). Everything else stays byte for byte.
    ///
    /// `message` must come from `normalize` (CRLF line ends, a valid header section).
    public static func completingHeaders(_ message: ComposedMessage, messageID: MessageID, date: Date) -> ComposedMessage {
        let bytes = message.bytes
        let headerEnd = HeaderSection.end(of: bytes[...])
        var kept: [UInt8] = []
        kept.reserveCapacity(bytes.count + 128)
        var hasDate = false
        var hasMessageID = false
        for field in HeaderSection.fields(of: bytes[...]) {
            switch field.name {
            case "bcc": continue
            case "date": hasDate = true
            case "message-id": hasMessageID = true
            default: break
            }
            kept.append(contentsOf: bytes[field.range])
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 96)
        if !hasDate {
            output.append(contentsOf: "Date: ".utf8)
            MessageDate.append(date, to: &output)
            output.append(contentsOf: [ASCII.cr, ASCII.lf])
        }
        if !hasMessageID {
            output.append(contentsOf: "Message-ID: \(messageID.headerValue)\r\n".utf8)
        }
        output.append(contentsOf: kept)
        output.append(contentsOf: bytes[headerEnd...])
        return ComposedMessage(bytes: output, requiresSMTPUTF8: message.requiresSMTPUTF8, has8BitContent: message.has8BitContent)
    }
}
