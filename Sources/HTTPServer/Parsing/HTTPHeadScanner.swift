/// Finds where a request head ends, however the bytes are split across reads.
///
/// It looks at each byte once, remembering only a few flags between pieces, and
/// decides everything by byte position: the size limit, bare CR or LF, and a
/// method that is not a token (so that a TLS handshake or binary garbage is
/// refused at its first byte instead of after 16 KiB or a timeout). The full
/// syntax check happens once the head is complete, in `HTTPHeadParser`.
struct HTTPHeadScanner: Sendable {
    enum Outcome {
        /// The head goes on past this input; its bytes start at `headStart`.
        case incomplete(headStart: Int)
        /// The head occupies `headStart..<end` of this input (plus what came
        /// before) and has `lines` lines, the request line and the final empty line included.
        case complete(headStart: Int, end: Int, lines: Int)
        case failure(HTTPRequestParseError)
    }

    private enum Phase {
        /// Empty lines before a request line, which RFC 9112 §2.2 asks servers to ignore.
        case leadingLines
        case method
        case rest
    }

    private var phase = Phase.leadingLines
    private var scanned = 0
    private var afterCR = false
    private var atLineStart = false
    private var lines = 0
    private let maxHeadBytes: Int

    init(maxHeadBytes: Int) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// Whether no byte of a request has been seen since the last reset.
    var isAtRequestStart: Bool { phase == .leadingLines && !afterCR }

    mutating func scan(_ input: UnsafeRawBufferPointer) -> Outcome {
        var headStart = phase == .leadingLines ? input.count : 0
        var index = 0
        while index < input.count {
            if phase == .rest, !afterCR {
                // Most bytes of a head are ordinary: skip them without the per-byte state machine.
                let start = index
                let stop = min(input.count, index + (maxHeadBytes - scanned))
                while index < stop, input[index] > HTTPSyntax.cr { index += 1 }
                if index > start {
                    scanned += index - start
                    atLineStart = false
                    if index == input.count { break }
                }
            }
            let byte = input[index]
            scanned += 1
            if scanned > maxHeadBytes { return .failure(.headTooLarge) }
            if afterCR {
                guard byte == HTTPSyntax.lf else { return .failure(.bareCarriageReturn) }
                afterCR = false
                if phase == .rest {
                    lines += 1
                    if atLineStart { return .complete(headStart: headStart, end: index + 1, lines: lines) }
                    atLineStart = true
                }
            } else if phase == .method {
                if byte == HTTPSyntax.space {
                    phase = .rest
                } else if !HTTPSyntax.isTokenByte(byte) {
                    return .failure(.invalidMethod)
                }
            } else if byte == HTTPSyntax.cr {
                afterCR = true
            } else if byte == HTTPSyntax.lf {
                return .failure(.bareLineFeed)
            } else {
                switch phase {
                case .leadingLines:
                    guard HTTPSyntax.isTokenByte(byte) else { return .failure(.invalidMethod) }
                    phase = .method
                    headStart = index
                case .method, .rest:
                    atLineStart = false
                }
            }
            index += 1
        }
        return .incomplete(headStart: headStart)
    }
}
