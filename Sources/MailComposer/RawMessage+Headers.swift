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
        let headerEnd = headerSectionEnd(bytes)
        var kept: [UInt8] = []
        kept.reserveCapacity(bytes.count + 128)
        var hasDate = false
        var hasMessageID = false
        var fieldStart = 0
        while fieldStart < headerEnd {
            let fieldEnd = endOfField(bytes, from: fieldStart, limit: headerEnd)
            let name = fieldName(bytes, from: fieldStart, to: fieldEnd)
            switch name {
            case "bcc": break
            case "date": hasDate = true; kept.append(contentsOf: bytes[fieldStart..<fieldEnd])
            case "message-id": hasMessageID = true; kept.append(contentsOf: bytes[fieldStart..<fieldEnd])
            default: kept.append(contentsOf: bytes[fieldStart..<fieldEnd])
            }
            fieldStart = fieldEnd
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

    /// The offset just past the header section's last CRLF (where the empty line
    /// starts), or the end when the message has no body.
    private static func headerSectionEnd(_ bytes: [UInt8]) -> Int {
        var index = 0
        while index + 1 < bytes.count {
            // Each line ends CRLF; an empty line starts right after one.
            if bytes[index] == ASCII.cr, bytes[index + 1] == ASCII.lf {
                if index + 3 < bytes.count, bytes[index + 2] == ASCII.cr, bytes[index + 3] == ASCII.lf { return index + 2 }
                index += 2
            } else {
                index += 1
            }
        }
        return bytes.count
    }

    /// The end of the field starting at `start`: after its last line's CRLF, taking
    /// folded continuation lines (starting with white space) with it.
    private static func endOfField(_ bytes: [UInt8], from start: Int, limit: Int) -> Int {
        var index = start
        repeat {
            while index + 1 < limit, !(bytes[index] == ASCII.cr && bytes[index + 1] == ASCII.lf) { index += 1 }
            index = min(index + 2, limit)
        } while index < limit && ASCII.isWhitespace(bytes[index])
        return index
    }

    /// The field's name, lower-cased.
    private static func fieldName(_ bytes: [UInt8], from start: Int, to end: Int) -> String {
        var name = ""
        for byte in bytes[start..<end] {
            if byte == ASCII.colon { break }
            name.unicodeScalars.append(Unicode.Scalar(byte | (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0)))
        }
        return name.trimmingCharacters(in: .whitespaces)
    }
}
