/// Decodes a chunked body (RFC 9112 §7.1) one byte state at a time, so that any
/// split of the input gives the same result. Chunk extensions are checked for
/// control characters and skipped; trailer fields are checked the same way and
/// dropped (RFC 9112 §7.1.2 lets a server discard them).
struct ChunkedBodyDecoder: Sendable {
    enum Outcome {
        case needMoreInput
        case complete
        case failure(HTTPRequestParseError)
    }

    private enum State {
        case size
        case sizeWhitespace
        case chunkExtension
        case sizeLF
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailerLineStart
        case trailerLine
        case trailerLF
        case finalLF
    }

    /// Longest chunk-size line (size plus extensions) accepted.
    static let maxChunkLineBytes = 4096
    /// More hex digits than this cannot be a size we would accept anyway.
    private static let maxSizeDigits = 15

    private var state = State.size
    private var size = 0
    private var sizeDigits = 0
    private var lineBytes = 0
    private var trailerBytes = 0

    /// Decodes from `input`, appending chunk data to `body`; returns how many
    /// bytes it used and whether the body is complete.
    mutating func decode(
        _ input: UnsafeRawBufferPointer, into body: inout [UInt8], limits: HTTPRequestParser.Limits
    ) -> (consumed: Int, outcome: Outcome) {
        var index = 0
        while index < input.count {
            if case .data(let remaining) = state {
                let take = min(remaining, input.count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<(index + take)]))
                index += take
                state = remaining == take ? .dataCR : .data(remaining: remaining - take)
                continue
            }
            let byte = input[index]
            index += 1
            if let error = step(byte, bodyCount: body.count, limits: limits) { return (index, .failure(error)) }
            if case .finalLF = state, byte == HTTPSyntax.lf { return (index, .complete) }
        }
        return (index, .needMoreInput)
    }

    /// Advances over one framing byte; the final LF leaves the state at `.finalLF`.
    private mutating func step(_ byte: UInt8, bodyCount: Int, limits: HTTPRequestParser.Limits) -> HTTPRequestParseError? {
        switch state {
        case .size:
            lineBytes += 1
            if let digit = HTTPSyntax.hexValue(byte) {
                sizeDigits += 1
                guard sizeDigits <= Self.maxSizeDigits else { return .invalidChunk }
                size = size << 4 | Int(digit)
            } else {
                guard sizeDigits > 0 else { return .invalidChunk }
                return endOfSize(byte)
            }
        case .sizeWhitespace:
            lineBytes += 1
            guard lineBytes <= Self.maxChunkLineBytes else { return .invalidChunk }
            if HTTPSyntax.isWhitespace(byte) { return nil }
            guard byte == HTTPSyntax.semicolon else { return .invalidChunk }
            state = .chunkExtension
        case .chunkExtension:
            lineBytes += 1
            guard lineBytes <= Self.maxChunkLineBytes else { return .invalidChunk }
            if byte == HTTPSyntax.cr {
                state = .sizeLF
            } else if !HTTPSyntax.isFieldValueByte(byte) {
                return .invalidChunk
            }
        case .sizeLF:
            guard byte == HTTPSyntax.lf else { return .invalidChunk }
            return startChunk(bodyCount: bodyCount, limits: limits)
        case .data:
            return nil
        case .dataCR:
            guard byte == HTTPSyntax.cr else { return .invalidChunk }
            state = .dataLF
        case .dataLF:
            guard byte == HTTPSyntax.lf else { return .invalidChunk }
            state = .size
        case .trailerLineStart, .trailerLine, .trailerLF, .finalLF:
            return stepTrailer(byte, limits: limits)
        }
        return nil
    }

    private mutating func endOfSize(_ byte: UInt8) -> HTTPRequestParseError? {
        switch byte {
        case HTTPSyntax.cr: state = .sizeLF
        case HTTPSyntax.semicolon: state = .chunkExtension
        case HTTPSyntax.space, HTTPSyntax.tab: state = .sizeWhitespace
        default: return .invalidChunk
        }
        return nil
    }

    private mutating func startChunk(bodyCount: Int, limits: HTTPRequestParser.Limits) -> HTTPRequestParseError? {
        defer {
            size = 0
            sizeDigits = 0
            lineBytes = 0
        }
        if size == 0 {
            state = .trailerLineStart
            return nil
        }
        guard size <= limits.maxBodyBytes - bodyCount else { return .bodyTooLarge }
        state = .data(remaining: size)
        return nil
    }

    /// Trailer lines up to the empty line that ends the message, bounded like a head.
    private mutating func stepTrailer(_ byte: UInt8, limits: HTTPRequestParser.Limits) -> HTTPRequestParseError? {
        trailerBytes += 1
        guard trailerBytes <= limits.maxHeadBytes else { return .trailersTooLarge }
        switch state {
        case .trailerLineStart:
            if byte == HTTPSyntax.cr {
                state = .finalLF
            } else if HTTPSyntax.isWhitespace(byte) {
                return .obsoleteLineFolding
            } else {
                guard HTTPSyntax.isTokenByte(byte) else { return .invalidHeaderName }
                state = .trailerLine
            }
        case .trailerLine:
            if byte == HTTPSyntax.cr {
                state = .trailerLF
            } else if !HTTPSyntax.isFieldValueByte(byte) {
                return byte == HTTPSyntax.lf ? .bareLineFeed : .invalidHeaderValue
            }
        case .trailerLF:
            guard byte == HTTPSyntax.lf else { return .bareCarriageReturn }
            state = .trailerLineStart
        case .finalLF:
            guard byte == HTTPSyntax.lf else { return .bareCarriageReturn }
        default:
            break
        }
        return nil
    }
}
