import Testing
@testable import HTTPServer

/// The events that do not depend on how the input was split: whole requests
/// and the first failure (`.headReceived` only says a body had not arrived yet;
/// a failed parser repeats its failure on every later feed).
func outcomes(_ events: [HTTPRequestParser.Event]) -> [HTTPRequestParser.Event] {
    var result: [HTTPRequestParser.Event] = []
    for event in events {
        switch event {
        case .headReceived, .needMoreInput: continue
        case .message: result.append(event)
        case .failure:
            result.append(event)
            return result
        }
    }
    return result
}

/// Parses `input` whole, then split in two at every offset (every `stride`-th
/// for long inputs), then byte by byte, expects the same outcomes each time,
/// and returns them.
@discardableResult
func parseEverySplit(
    _ input: [UInt8], limits: HTTPRequestParser.Limits = HTTPRequestParser.Limits(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> [HTTPRequestParser.Event] {
    var whole = HTTPRequestParser(limits: limits)
    let expected = outcomes(whole.feed(input))
    let stride = max(1, input.count / 600)
    for split in Swift.stride(from: 0, through: input.count, by: stride) {
        var parser = HTTPRequestParser(limits: limits)
        let events = parser.feed(Array(input[..<split])) + parser.feed(Array(input[split...]))
        #expect(outcomes(events) == expected, "split at \(split)", sourceLocation: sourceLocation)
    }
    if input.count <= 20_000 {
        var parser = HTTPRequestParser(limits: limits)
        var events: [HTTPRequestParser.Event] = []
        for byte in input { events += parser.feed([byte]) }
        #expect(outcomes(events) == expected, "byte by byte", sourceLocation: sourceLocation)
    }
    return expected
}

func parseEverySplit(
    _ text: String, limits: HTTPRequestParser.Limits = HTTPRequestParser.Limits(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> [HTTPRequestParser.Event] {
    parseEverySplit(Array(text.utf8), limits: limits, sourceLocation: sourceLocation)
}

/// The single failure `text` must produce, at every split.
func expectFailure(
    _ text: String, _ error: HTTPRequestParseError, limits: HTTPRequestParser.Limits = HTTPRequestParser.Limits(),
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let events = parseEverySplit(Array(text.utf8), limits: limits, sourceLocation: sourceLocation)
    #expect(events.last == .failure(error), "got \(events)", sourceLocation: sourceLocation)
}

/// The requests `text` parses into, at every split; fails if it does not parse.
func expectMessages(
    _ text: String, limits: HTTPRequestParser.Limits = HTTPRequestParser.Limits(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> [(head: HTTPRequestHead, body: [UInt8])] {
    parseEverySplit(Array(text.utf8), limits: limits, sourceLocation: sourceLocation).compactMap { event in
        guard case .message(let head, let body) = event else {
            Issue.record("unexpected \(event)", sourceLocation: sourceLocation)
            return nil
        }
        return (head, body)
    }
}
