/// How a text body (text/plain or text/html) crosses the wire.
enum TextTransferEncoding {
    /// Short ASCII lines, sent as they are.
    case sevenBit
    /// Everything else (RFC 2045 §6.7).
    case quotedPrintable

    var headerValue: StaticString {
        switch self {
        case .sevenBit: "7bit"
        case .quotedPrintable: "quoted-printable"
        }
    }

    /// 7bit only when every line is printable ASCII (HTAB allowed) of at most
    /// 78 octets, without white space at its end (which some relays strip),
    /// and no line could be taken for a MIME delimiter (`--=_`, see
    /// `MIMEBoundary`). Anything else is quoted-printable, which keeps it all.
    static func choose(for text: UnsafeBufferPointer<UInt8>) -> TextTransferEncoding {
        var lineStart = 0
        var index = 0
        while true {
            index = ByteScanning.printableRunEnd(in: text, from: index)
            if index < text.count && text[index] == ASCII.tab {
                index += 1
                continue
            }
            guard isSevenBitLine(text[lineStart..<index]) else { return .quotedPrintable }
            guard index < text.count else { return .sevenBit }
            guard text[index] == ASCII.lf || text[index] == ASCII.cr else { return .quotedPrintable }
            index += 1
            lineStart = index
        }
    }

    private static func isSevenBitLine(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard let last = line.last else { return true }
        let start = line.startIndex
        let looksLikeDelimiter = line.count >= 4 && line[start] == 0x2D && line[start + 1] == 0x2D
            && line[start + 2] == ASCII.equals && line[start + 3] == 0x5F
        return line.count <= LineLimits.preferredOctets && !ASCII.isWhitespace(last) && !looksLikeDelimiter
    }
}

/// Writes text bodies with CRLF line ends (CRLF, bare LF and bare CR in the
/// text all count as one line end) and no CRLF after the last line: a MIME
/// delimiter, or the end of the message, supplies it.
enum TextBodyEncoder {
    static func append(_ text: UnsafeBufferPointer<UInt8>, encoding: TextTransferEncoding, to output: inout [UInt8]) {
        switch encoding {
        case .sevenBit:
            // Each byte becomes at most two (a bare CR or LF becomes CRLF).
            output.appendUnsafe(maximumCount: text.count * 2) { appendSevenBit(text, to: $0) }
        case .quotedPrintable:
            // `=XX` triples each byte; soft breaks add 3 octets a 75-octet line.
            output.appendUnsafe(maximumCount: text.count * 4 + 8) { appendQuotedPrintable(text, to: $0) }
        }
    }

    private static func appendSevenBit(_ text: UnsafeBufferPointer<UInt8>, to output: UnsafeMutablePointer<UInt8>) -> Int {
        guard let base = text.baseAddress else { return 0 }
        var written = 0
        var index = 0
        while true {
            let end = ByteScanning.lineEnd(in: text, from: index)
            (output + written).update(from: base + index, count: end - index)
            written += end - index
            guard end < text.count else { return written }
            output[written] = ASCII.cr
            output[written + 1] = ASCII.lf
            written += 2
            index = end + ((text[end] == ASCII.cr && end + 1 < text.count && text[end + 1] == ASCII.lf) ? 2 : 1)
        }
    }

    /// Quoted-printable (RFC 2045 §6.7): printable ASCII but `=` as it is,
    /// white space as it is except at the end of a line (rule 3), the rest as
    /// `=XX`; soft line breaks keep every line within 76 characters (rule 5)
    /// and never split an `=XX`. A `.` that would start a line is encoded too,
    /// so no line is a lone `.` for a careless SMTP peer.
    private static func appendQuotedPrintable(_ text: UnsafeBufferPointer<UInt8>, to output: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0
        var column = 0
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == ASCII.cr || byte == ASCII.lf {
                index += (byte == ASCII.cr && index + 1 < text.count && text[index + 1] == ASCII.lf) ? 2 : 1
                output[written] = ASCII.cr
                output[written + 1] = ASCII.lf
                written += 2
                column = 0
                continue
            }
            if byte != ASCII.equals && byte &- 0x20 < 0x5F && !(column == 0 && byte == ASCII.dot) {
                // A run of bytes written as they are, up to where a soft break is
                // due; spaces that end the line are left to the encoding below.
                var runEnd = ByteScanning.quotedPrintableRunEnd(in: text, from: index)
                if runEnd == text.count || text[runEnd] == ASCII.cr || text[runEnd] == ASCII.lf {
                    while runEnd > index && text[runEnd - 1] == ASCII.space { runEnd -= 1 }
                }
                let count = min(runEnd - index, LineLimits.encodedBodyOctets - 1 - column)
                if count > 0 {
                    (output + written).update(from: text.baseAddress! + index, count: count)
                    written += count
                    column += count
                    index += count
                    continue
                }
            }
            index += 1
            let endsLine = index == text.count || text[index] == ASCII.cr || text[index] == ASCII.lf
            var literal = (byte >= 33 && byte <= 126 && byte != ASCII.equals)
                || ((byte == ASCII.space || byte == ASCII.tab) && !endsLine)
            var width = literal ? 1 : 3
            // Room for the `=` of a soft break, unless nothing follows on this line.
            if column + width > (endsLine ? LineLimits.encodedBodyOctets : LineLimits.encodedBodyOctets - 1) {
                output[written] = ASCII.equals
                output[written + 1] = ASCII.cr
                output[written + 2] = ASCII.lf
                written += 3
                column = 0
            }
            if column == 0 && byte == ASCII.dot {
                literal = false
                width = 3
            }
            if literal {
                output[written] = byte
            } else {
                output[written] = ASCII.equals
                output[written + 1] = ASCII.upperHexDigit(byte >> 4)
                output[written + 2] = ASCII.upperHexDigit(byte & 0x0F)
            }
            written += width
            column += width
        }
        return written
    }
}
