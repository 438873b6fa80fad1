/// Serializes responses into a byte buffer, head and body together, so that a
/// response (or several pipelined ones) leaves in one write.
enum HTTPResponseWriter {
    /// How the connection goes on after this response.
    enum Persistence {
        /// HTTP/1.1 keep-alive: nothing to say.
        case keepAlive
        /// An HTTP/1.0 client asked for keep-alive: confirm it (RFC 9112 §9.3).
        case keepAliveHTTP10
        /// `Connection: close` (RFC 9112 §9.6).
        case close
    }

    private static let interimContinue = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    static func writeContinue(into output: inout [UInt8]) {
        output.append(contentsOf: interimContinue)
    }

    /// Appends `response`. Content-Length is the body's length even when the body
    /// is left out for HEAD (RFC 9110 §9.3.2); 1xx, 204 and 304 carry neither.
    static func write(
        _ response: HTTPResponse, persistence: Persistence, includeBody: Bool, dateLine: [UInt8], into output: inout [UInt8]
    ) {
        output.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(response.status.code, to: &output)
        output.append(HTTPSyntax.space)
        output.append(contentsOf: response.status.reasonPhrase.utf8)
        appendLineEnd(to: &output)
        let headers = response.headers
        for index in 0..<headers.count where !headers.withName(at: index, isServerManaged) {
            headers.withName(at: index) { output.append(contentsOf: $0) }
            output.append(HTTPSyntax.colon)
            output.append(HTTPSyntax.space)
            headers.withValue(at: index) { output.append(contentsOf: $0) }
            appendLineEnd(to: &output)
        }
        let hasContent = response.status.allowsContent
        if hasContent {
            output.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(response.body.count, to: &output)
            appendLineEnd(to: &output)
        }
        output.append(contentsOf: dateLine)
        switch persistence {
        case .keepAlive: break
        case .keepAliveHTTP10: output.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        case .close: output.append(contentsOf: "Connection: close\r\n".utf8)
        }
        appendLineEnd(to: &output)
        if hasContent, includeBody { output.append(contentsOf: response.body) }
    }

    /// Fields whose value only the server can know.
    private static func isServerManaged(_ name: UnsafeRawBufferPointer) -> Bool {
        switch name.count {
        case 4: HTTPSyntax.equalsIgnoringCase(name, "date")
        case 10: HTTPSyntax.equalsIgnoringCase(name, "connection")
        case 14: HTTPSyntax.equalsIgnoringCase(name, "content-length")
        case 17: HTTPSyntax.equalsIgnoringCase(name, "transfer-encoding")
        default: false
        }
    }

    @inline(__always)
    private static func appendLineEnd(to output: inout [UInt8]) {
        output.append(HTTPSyntax.cr)
        output.append(HTTPSyntax.lf)
    }

    static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        if value < 10 {
            output.append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var remaining = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while remaining > 0 {
                buffer[19 - count] = UInt8(truncatingIfNeeded: remaining % 10) &+ 0x30
                remaining /= 10
                count += 1
            }
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(20 - count)...]))
        }
    }
}
