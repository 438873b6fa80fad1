import Foundation

/// Makes a message's bodies 7-bit for a peer that did not offer 8BITMIME, as
/// Postfix's smtp client does (RFC 6152 §3: 8-bit data only to a peer that
/// said it takes it; SPEC §2: 7-bit unless the peer offers 8BITMIME).
///
/// Composed messages are 7-bit already; this is for `raw` ones. Each MIME leaf
/// whose body has 8-bit octets and is sent as it is (`7bit`, `8bit`, `binary`
/// or no Content-Transfer-Encoding) is re-encoded, quoted-printable for text
/// and base64 for the rest, and its Content-Transfer-Encoding set to match;
/// multipart bodies are walked part by part (preamble, delimiters and
/// epilogue kept byte for byte), `message/rfc822` bodies as messages.
/// Header fields are left to `HeaderDowngrade`, everything else untouched.
///
/// Pure: bytes in, bytes out; the input has CRLF line ends.
public enum SevenBitConversion {
    /// Deeper nesting is sent as it is: no caller gets to recurse without bound.
    static let maximumDepth = 32

    public static func converted(_ message: [UInt8]) -> [UInt8] {
        let headerEnd = HeaderSection.end(of: message[...])
        guard message[headerEnd...].contains(where: { $0 >= 0x80 }) else { return message }
        var output: [UInt8] = []
        output.reserveCapacity(message.count + message.count / 3)
        convert(message[...], depth: 0, into: &output)
        return output
    }

    private static func convert(_ entity: ArraySlice<UInt8>, depth: Int, into output: inout [UInt8]) {
        let headerEnd = HeaderSection.end(of: entity)
        let bodyStart = headerEnd + 2
        guard depth < maximumDepth, bodyStart <= entity.endIndex, entity[bodyStart...].contains(where: { $0 >= 0x80 }) else {
            output.append(contentsOf: entity)
            return
        }
        let fields = HeaderSection.fields(of: entity)
        let contentType = fields.last { $0.name == "content-type" }.map { ContentType(HeaderSection.value(of: entity[$0.range])) }
            ?? ContentType.default
        let body = entity[bodyStart...]
        if contentType.isMultipart {
            // Without a boundary its parts cannot be found: sent as it is.
            output.append(contentsOf: entity[..<bodyStart])
            guard let boundary = contentType.boundary else {
                output.append(contentsOf: body)
                return
            }
            convertParts(of: body, boundary: Array(boundary.utf8), depth: depth, into: &output)
        } else if contentType.mediaType == "message/rfc822" {
            output.append(contentsOf: entity[..<bodyStart])
            convert(body, depth: depth + 1, into: &output)
        } else {
            let encoding = fields.last { $0.name == "content-transfer-encoding" }
                .map { String(decoding: HeaderSection.value(of: entity[$0.range]), as: UTF8.self).lowercased() } ?? "7bit"
            guard ["7bit", "8bit", "binary"].contains(encoding) else {
                output.append(contentsOf: entity)
                return
            }
            reencode(body, fields: fields, of: entity, asText: contentType.mediaType.hasPrefix("text/"), into: &output)
        }
    }

    /// The leaf's fields but its Content-Transfer-Encoding, the new one, and the
    /// body encoded; a final CRLF stays outside the encoding.
    private static func reencode(
        _ body: ArraySlice<UInt8>, fields: [HeaderSection.Field], of entity: ArraySlice<UInt8>, asText: Bool,
        into output: inout [UInt8]
    ) {
        for field in fields where field.name != "content-transfer-encoding" {
            output.append(contentsOf: entity[field.range])
        }
        output.appendASCII(asText ? "Content-Transfer-Encoding: quoted-printable\r\n\r\n" : "Content-Transfer-Encoding: base64\r\n\r\n")
        let endsWithCRLF = body.count >= 2 && body[body.endIndex - 2] == ASCII.cr && body.last == ASCII.lf
        let content = Array(endsWithCRLF ? body.dropLast(2) : body)
        if asText {
            content.withUnsafeBufferPointer { TextBodyEncoder.append($0, encoding: .quotedPrintable, to: &output) }
        } else {
            Base64.appendLines(content, to: &output)
        }
        if endsWithCRLF { output.appendCRLF() }
    }

    /// A multipart body: each part between delimiter lines converted, the CRLF
    /// before each delimiter belonging to the delimiter (RFC 2046 §5.1.1).
    private static func convertParts(of body: ArraySlice<UInt8>, boundary: [UInt8], depth: Int, into output: inout [UInt8]) {
        let delimiters = delimiterLines(in: body, boundary: boundary)
        guard let first = delimiters.first else {
            output.append(contentsOf: body)
            return
        }
        output.append(contentsOf: body[..<first.lines.lowerBound])
        for (index, delimiter) in delimiters.enumerated() {
            output.append(contentsOf: body[delimiter.lines])
            if delimiter.isClose {
                output.append(contentsOf: body[delimiter.lines.upperBound...])
                return
            }
            let partStart = delimiter.lines.upperBound
            let next = index + 1 < delimiters.count ? delimiters[index + 1].lines.lowerBound : body.endIndex
            if index + 1 < delimiters.count, next >= partStart + 2 {
                convert(body[partStart..<(next - 2)], depth: depth + 1, into: &output)
                output.appendCRLF()
            } else if index + 1 == delimiters.count {
                convert(body[partStart..<next], depth: depth + 1, into: &output)
            } else {
                output.append(contentsOf: body[partStart..<next])
            }
        }
    }

    /// Lines `--boundary` (optionally followed by white space) and the closing
    /// `--boundary--`, each with its CRLF.
    private static func delimiterLines(in body: ArraySlice<UInt8>, boundary: [UInt8]) -> [(lines: Range<Int>, isClose: Bool)] {
        var found: [(lines: Range<Int>, isClose: Bool)] = []
        let dashes: [UInt8] = [0x2D, 0x2D]
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            var lineEnd = lineStart
            while lineEnd < body.endIndex, body[lineEnd] != ASCII.lf { lineEnd += 1 }
            lineEnd = min(lineEnd + 1, body.endIndex)
            let line = body[lineStart..<lineEnd]
            if line.starts(with: dashes + boundary) {
                let rest = line.dropFirst(2 + boundary.count).filter { $0 != ASCII.cr && $0 != ASCII.lf }
                if rest.starts(with: dashes), rest.dropFirst(2).allSatisfy(ASCII.isWhitespace) {
                    found.append((lineStart..<lineEnd, true))
                    return found
                }
                if rest.allSatisfy(ASCII.isWhitespace) { found.append((lineStart..<lineEnd, false)) }
            }
            lineStart = lineEnd
        }
        return found
    }
}

/// What a `Content-Type` value says that the conversion needs: the media type
/// (lower case) and the `boundary` parameter.
struct ContentType {
    static let `default` = ContentType(mediaType: "text/plain", boundary: nil)

    var mediaType: String
    var boundary: String?

    var isMultipart: Bool { mediaType.hasPrefix("multipart/") }

    init(mediaType: String, boundary: String?) {
        self.mediaType = mediaType
        self.boundary = boundary
    }

    init(_ value: ArraySlice<UInt8>) {
        let text = String(decoding: value, as: UTF8.self)
        var parameters = Self.split(text)
        mediaType = parameters.isEmpty ? "text/plain" : parameters.removeFirst().trimmingCharacters(in: .whitespaces).lowercased()
        boundary = nil
        for parameter in parameters {
            let parts = parameter.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var value = parts[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            boundary = value.isEmpty ? nil : value
        }
    }

    /// `;`-separated pieces, a `;` inside quotes not counting.
    private static func split(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var inQuotes = false
        for character in text {
            if character == "\"" { inQuotes.toggle() }
            if character == ";" && !inQuotes {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        return pieces
    }
}
