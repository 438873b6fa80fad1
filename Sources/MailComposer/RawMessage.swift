/// Why a caller's `raw` message was refused.
public enum RawMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    /// The first line is not a header field, so the message has no header section.
    case missingHeaderSection
    /// A line before the first empty line is neither `Name: value` nor a
    /// folded continuation: most likely the empty line after the header is missing.
    case malformedHeaderLine(line: Int)
    /// RFC 5322 §2.1.1: at most 998 octets a line, CRLF excluded.
    case lineTooLong(line: Int, octets: Int)

    public var message: String {
        switch self {
        case .empty: "the raw message is empty"
        case .missingHeaderSection: "the raw message does not start with a header field (Name: value)"
        case .malformedHeaderLine(let line):
            "line \(line) of the raw message's header section is neither a header field nor a folded continuation (is the empty line after the header missing?)"
        case .lineTooLong(let line, let octets):
            "line \(line) of the raw message is \(octets) octets long; at most \(LineLimits.maximumOctets) are allowed"
        }
    }

    public var description: String { message }
}

/// A caller's own RFC 5322 message (`raw`), passed through untouched except
/// for line ends.
public enum RawMessage {
    /// Makes every line end CRLF (bare LF and bare CR count as line ends) and
    /// makes the message end with one; checks that it starts with a header
    /// section whose lines are fields or continuations up to the first empty
    /// line (a message may have no body, so that line is optional) and that no
    /// line passes 998 octets. Nothing else is looked at or changed: the
    /// body's MIME structure is the caller's business.
    ///
    /// `has8BitContent` reports any octet ≥ 0x80; `requiresSMTPUTF8` reports
    /// one in the header section (RFC 6532 UTF-8 headers).
    public static func normalize(_ bytes: [UInt8]) throws(RawMessageError) -> ComposedMessage {
        guard !bytes.isEmpty else { throw .empty }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 16 + 2)
        var scan = LineScan()
        bytes.withUnsafeBufferPointer { input in
            // A bare CR or LF becomes CRLF, and a final CRLF may be added.
            output.appendUnsafe(maximumCount: input.count * 2 + 2) { scan.copyLines(of: input, to: $0) }
        }
        if let failure = scan.failure { throw failure }
        return ComposedMessage(bytes: output, requiresSMTPUTF8: scan.headerHas8Bit, has8BitContent: scan.has8Bit)
    }

    /// One pass over the message: copies each line with CRLF after it and
    /// checks it on the way.
    private struct LineScan {
        var failure: RawMessageError?
        var has8Bit = false
        var headerHas8Bit = false
        private var inHeader = true
        private var lineNumber = 0

        mutating func copyLines(of input: UnsafeBufferPointer<UInt8>, to output: UnsafeMutablePointer<UInt8>) -> Int {
            var written = 0
            var start = 0
            while start < input.count && failure == nil {
                var end = start
                var lineHas8Bit = false
                while end < input.count && input[end] != ASCII.cr && input[end] != ASCII.lf {
                    lineHas8Bit = lineHas8Bit || input[end] >= 0x80
                    end += 1
                }
                lineNumber += 1
                check(UnsafeBufferPointer(rebasing: input[start..<end]), has8Bit: lineHas8Bit)
                (output + written).update(from: input.baseAddress! + start, count: end - start)
                written += end - start
                output[written] = ASCII.cr
                output[written + 1] = ASCII.lf
                written += 2
                start = end
                if start < input.count {
                    start += (input[start] == ASCII.cr && start + 1 < input.count && input[start + 1] == ASCII.lf) ? 2 : 1
                }
            }
            return written
        }

        private mutating func check(_ line: UnsafeBufferPointer<UInt8>, has8Bit lineHas8Bit: Bool) {
            has8Bit = has8Bit || lineHas8Bit
            if line.count > LineLimits.maximumOctets {
                failure = .lineTooLong(line: lineNumber, octets: line.count)
            } else if inHeader {
                headerHas8Bit = headerHas8Bit || lineHas8Bit
                if line.isEmpty {
                    inHeader = false
                } else {
                    failure = headerLineError(line)
                }
            }
        }

        /// A field (`Name:` with a printable name) or a folded continuation.
        private func headerLineError(_ line: UnsafeBufferPointer<UInt8>) -> RawMessageError? {
            if ASCII.isWhitespace(line[0]) {
                return lineNumber == 1 ? .missingHeaderSection : nil
            }
            guard let colon = line.firstIndex(of: ASCII.colon), colon > 0,
                  line[..<colon].allSatisfy({ $0 >= 33 && $0 <= 126 })
            else { return lineNumber == 1 ? .missingHeaderSection : .malformedHeaderLine(line: lineNumber) }
            return nil
        }
    }
}
