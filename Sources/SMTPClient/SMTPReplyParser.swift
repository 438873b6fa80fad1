/// What was wrong with bytes that should have been an SMTP reply.
public enum SMTPProtocolViolation: Error, Sendable, Hashable, CustomStringConvertible {
    /// A reply line longer than the parser accepts (RFC 5321 §4.5.3.1.5 allows 512).
    case lineTooLong(limit: Int)
    /// A multi-line reply with more lines than the parser accepts.
    case tooManyLines(limit: Int)
    /// A line that does not start with a three-digit code followed by ' ', '-' or the end.
    case malformedLine(String)
    /// A multi-line reply whose lines carry different codes (RFC 5321 §4.2.1).
    case inconsistentCode(first: Int, later: Int)
    /// A reply that makes no sense at this point of the session (e.g. 354 to MAIL).
    case unexpectedReply(SMTPReply, after: String)

    public var description: String {
        switch self {
        case .lineTooLong(let limit): "reply line longer than \(limit) bytes"
        case .tooManyLines(let limit): "reply with more than \(limit) lines"
        case .malformedLine(let line): "malformed reply line \"\(line.prefix(80))\""
        case .inconsistentCode(let first, let later): "multi-line reply mixes codes \(first) and \(later)"
        case .unexpectedReply(let reply, let command): "unexpected reply \"\(reply)\" to \(command)"
        }
    }
}

/// A push parser for SMTP replies: bytes go in as they arrive, complete replies come out.
///
/// It never waits and never reads, so it can be fed a reply split at any byte; every
/// length it keeps is capped, so a hostile or broken peer cannot make it grow without
/// bound.
struct SMTPReplyParser {
    /// Longest reply line accepted, CRLF included. RFC 5321 allows 512; real servers
    /// send longer text, so the cap is generous but fixed.
    static let maximumLineLength = 4096
    /// Most lines in one multi-line reply (an EHLO reply has about a dozen).
    static let maximumLinesPerReply = 128

    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var pendingCode: Int?
    private var pendingLines: [String] = []

    /// Whether bytes of an unfinished reply are waiting for more input.
    var hasPartialReply: Bool { readIndex < buffer.count || pendingCode != nil }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, or nil when more bytes are needed.
    mutating func nextReply() throws(SMTPProtocolViolation) -> SMTPReply? {
        while let line = try nextLine() {
            if let reply = try take(line) { return reply }
        }
        return nil
    }

    /// One line without its line ending (CRLF, or a bare LF from sloppy servers).
    private mutating func nextLine() throws(SMTPProtocolViolation) -> ArraySlice<UInt8>? {
        guard let newline = buffer[readIndex...].firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.count - readIndex > Self.maximumLineLength {
                throw .lineTooLong(limit: Self.maximumLineLength)
            }
            compact()
            return nil
        }
        guard newline + 1 - readIndex <= Self.maximumLineLength else {
            throw .lineTooLong(limit: Self.maximumLineLength)
        }
        var end = newline
        if end > readIndex, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = buffer[readIndex..<end]
        readIndex = newline + 1
        return line
    }

    /// Adds one line to the reply being assembled; returns the reply after its last line.
    private mutating func take(_ line: ArraySlice<UInt8>) throws(SMTPProtocolViolation) -> SMTPReply? {
        let text = String(decoding: line, as: UTF8.self)
        guard line.count >= 3, let code = Int(text.prefix(3)), (200...599).contains(code),
              text.prefix(3).allSatisfy(\.isASCIIDigit)
        else { throw .malformedLine(text) }
        let separator = line.count > 3 ? line[line.startIndex + 3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw .malformedLine(text)
        }
        if let first = pendingCode, first != code {
            throw .inconsistentCode(first: first, later: code)
        }
        guard pendingLines.count < Self.maximumLinesPerReply else {
            throw .tooManyLines(limit: Self.maximumLinesPerReply)
        }
        pendingCode = code
        pendingLines.append(String(text.dropFirst(4)))
        guard separator == UInt8(ascii: " ") else { return nil }
        defer {
            pendingCode = nil
            pendingLines = []
        }
        return SMTPReply(code: code, text: pendingLines)
    }

    /// Drops consumed bytes so the buffer holds at most one unfinished line.
    private mutating func compact() {
        guard readIndex > 0 else { return }
        buffer.removeFirst(readIndex)
        readIndex = 0
    }
}
