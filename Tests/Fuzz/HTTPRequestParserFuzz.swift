// libFuzzer entry point for HTTPRequestParser, compiled together with
// Sources/HTTPServer/Parsing/*.swift by run-http-parser-fuzz.sh (not part of
// the Swift package). Besides "never crash", it checks the parser's promises:
// the outcome does not depend on how the input is split, and nothing it
// returns exceeds its limits.

/// Small limits, so that the fuzzer reaches every limit with short inputs.
private let limits = HTTPRequestParser.Limits(maxHeadBytes: 512, maxHeaderCount: 12, maxBodyBytes: 300)

/// Whole requests and the first failure, the events independent of splitting.
private func outcomes(_ events: [HTTPRequestParser.Event]) -> [HTTPRequestParser.Event] {
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

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

private func checkLimits(_ events: [HTTPRequestParser.Event]) {
    for event in events {
        guard case .message(let head, let body) = event else { continue }
        check(body.count <= limits.maxBodyBytes, "body of \(body.count) bytes")
        check(head.headers.count <= limits.maxHeaderCount, "\(head.headers.count) headers")
        check(head.headers.storage.count <= limits.maxHeadBytes, "header bytes \(head.headers.storage.count)")
        check(!head.target.isEmpty, "empty target")
        if case .contentLength(let length) = head.framing { check(length == body.count, "length \(length) vs body \(body.count)") }
        for (name, value) in head.headers {
            check(!name.isEmpty && !name.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 58 }), "header name \(name)")
            check(!value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }), "header value \(value.debugDescription)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    var whole = HTTPRequestParser(limits: limits)
    let expected = outcomes(whole.feed(input))
    checkLimits(expected)

    // Two splits chosen by the input itself, then byte by byte.
    for seed in [0, size / 2] where size > 0 {
        let split = Int(input[seed]) * 7 % (size + 1)
        var parser = HTTPRequestParser(limits: limits)
        let events = outcomes(parser.feed(Array(input[..<split])) + parser.feed(Array(input[split...])))
        check(events == expected, "split at \(split): \(events) vs \(expected)")
    }
    var parser = HTTPRequestParser(limits: limits)
    var events: [HTTPRequestParser.Event] = []
    for byte in input { events += parser.feed([byte]) }
    check(outcomes(events) == expected, "byte by byte: \(outcomes(events)) vs \(expected)")
    return 0
}
