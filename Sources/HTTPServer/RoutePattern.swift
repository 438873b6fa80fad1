/// A path pattern such as `/v1/messages/{id}`: literal segments match exactly
/// (case-sensitive, still percent-encoded), `{name}` matches one non-empty
/// segment whose percent-decoded value becomes a path parameter.
struct RoutePattern: Sendable, Equatable {
    enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case parameter(String)
    }

    let text: String
    let segments: [Segment]

    /// Patterns are written by programmers at start-up, so a malformed one is a
    /// programming error and stops the program there rather than failing later.
    init(_ text: String) {
        precondition(text.hasPrefix("/"), "route pattern \(text) must start with /")
        self.text = text
        segments = text == "/" ? [] : text.utf8.dropFirst().split(separator: 0x2F, omittingEmptySubsequences: false).map { piece in
            if piece.first == 0x7B, piece.last == 0x7D, piece.count > 2 {
                return .parameter(String(Substring(piece.dropFirst().dropLast())))
            }
            precondition(!piece.contains(0x7B) && !piece.contains(0x7D), "malformed parameter in route pattern \(text)")
            return .literal(Array(piece))
        }
    }

    /// Literal segments sort before parameters, so `/v1/messages/batch` is tried before `/v1/messages/{id}`.
    func isMoreSpecific(than other: RoutePattern) -> Bool {
        for (mine, theirs) in zip(segments, other.segments) {
            switch (mine, theirs) {
            case (.literal, .parameter): return true
            case (.parameter, .literal): return false
            default: continue
            }
        }
        return segments.count > other.segments.count
    }

    /// The path parameters when `path` matches, nil otherwise.
    func match(_ path: String) -> [String: String]? {
        var path = path
        return path.withUTF8 { bytes -> [String: String]? in
            guard bytes.first == 0x2F else { return nil }
            if segments.isEmpty { return bytes.count == 1 ? [:] : nil }
            var parameters: [String: String] = [:]
            var position = 1
            for (index, segment) in segments.enumerated() {
                var end = position
                while end < bytes.count, bytes[end] != 0x2F { end += 1 }
                let piece = UnsafeBufferPointer(rebasing: bytes[position..<end])
                switch segment {
                case .literal(let literal):
                    guard piece.elementsEqual(literal) else { return nil }
                case .parameter(let name):
                    guard !piece.isEmpty else { return nil }
                    parameters[name] = HTTPQueryParameters.percentDecode(String(decoding: piece, as: UTF8.self))
                }
                let isLast = index == segments.count - 1
                guard isLast ? end == bytes.count : end < bytes.count else { return nil }
                position = end + 1
            }
            return parameters
        }
    }
}
