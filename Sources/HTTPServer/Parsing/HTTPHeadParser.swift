/// Parses one complete request head (request line through the empty line) that
/// `HTTPHeadScanner` has delimited, strictly per RFC 9112 §3 and §5.
enum HTTPHeadParser {
    /// What the header fields say about framing and connection handling.
    private struct FramingFields {
        var hostCount = 0
        var contentLength: Int?
        var transferEncodingPresent = false
        var transferCodings = 0
        var chunkedCodings = 0
        var lastCodingIsChunked = false
        var connectionClose = false
        var connectionKeepAlive = false
        var expectsContinue = false
        var unsupportedExpectation = false
    }

    /// `fieldLines` (the scanner's count of header lines) sizes the field list up front.
    static func parse(_ head: UnsafeRawBufferPointer, fieldLines: Int, limits: HTTPRequestParser.Limits)
        throws(HTTPRequestParseError) -> HTTPRequestHead
    {
        var index = 0
        let method = try parseMethod(head, index: &index)
        let target = try parseTarget(head, index: &index, method: method)
        let version = try parseVersion(head, index: &index)
        var framing = FramingFields()
        let headers = try parseFields(head, from: index, expecting: fieldLines, limits: limits, into: &framing)
        return try makeHead(method: method, target: target, version: version, headers: headers, framing: framing, limits: limits)
    }

    private static func parseMethod(_ head: UnsafeRawBufferPointer, index: inout Int) throws(HTTPRequestParseError)
        -> HTTPMethod
    {
        while index < head.count, HTTPSyntax.isTokenByte(head[index]) { index += 1 }
        guard index > 0, index < head.count, head[index] == HTTPSyntax.space else { throw .invalidMethod }
        defer { index += 1 }
        return HTTPMethod(bytes: UnsafeRawBufferPointer(rebasing: head[0..<index]))
    }

    private static func parseTarget(_ head: UnsafeRawBufferPointer, index: inout Int, method: HTTPMethod)
        throws(HTTPRequestParseError) -> String
    {
        let start = index
        while index < head.count, HTTPSyntax.isTargetByte(head[index]) { index += 1 }
        guard index > start, index < head.count else { throw .invalidTarget }
        guard head[index] == HTTPSyntax.space else {
            throw head[index] == HTTPSyntax.cr ? .invalidVersion : .invalidTarget
        }
        let bytes = UnsafeRawBufferPointer(rebasing: head[start..<index])
        index += 1
        let isOriginForm = bytes[0] == HTTPSyntax.slash
        let isAsterisk = bytes.count == 1 && bytes[0] == 0x2A && method == .options
        guard isOriginForm || isAsterisk || isAbsoluteForm(bytes) else { throw .invalidTarget }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `http://` or `https://` followed by at least an authority (RFC 9112 §3.2.2).
    private static func isAbsoluteForm(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for scheme: StaticString in ["http://", "https://"] {
            let length = scheme.utf8CodeUnitCount
            if bytes.count > length, HTTPSyntax.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), scheme) {
                return true
            }
        }
        return false
    }

    /// `HTTP/x.y` then CRLF. A well-formed version whose major is not 1 is
    /// unsupported (505); any higher 1.x minor is served as 1.1 (RFC 9110 §2.5).
    private static func parseVersion(_ head: UnsafeRawBufferPointer, index: inout Int) throws(HTTPRequestParseError)
        -> HTTPVersion
    {
        let prefix: [UInt8] = [0x48, 0x54, 0x54, 0x50, 0x2F]
        guard head.count - index >= 10 else { throw .invalidVersion }
        for offset in 0..<5 where head[index + offset] != prefix[offset] { throw .invalidVersion }
        let major = head[index + 5]
        let minor = head[index + 7]
        guard HTTPSyntax.isDigit(major), head[index + 6] == HTTPSyntax.dot, HTTPSyntax.isDigit(minor),
            head[index + 8] == HTTPSyntax.cr, head[index + 9] == HTTPSyntax.lf
        else { throw .invalidVersion }
        index += 10
        guard major == 0x31 else { throw .unsupportedVersion }
        return minor == 0x30 ? .http1_0 : HTTPVersion(major: 1, minor: Int(minor &- 0x30))
    }

    private static func parseFields(
        _ head: UnsafeRawBufferPointer, from start: Int, expecting fieldLines: Int, limits: HTTPRequestParser.Limits,
        into framing: inout FramingFields
    ) throws(HTTPRequestParseError) -> HTTPHeaders {
        let region = UnsafeRawBufferPointer(rebasing: head[start..<(head.count - 2)])
        var fields: [HTTPHeaders.Field] = []
        fields.reserveCapacity(min(max(fieldLines, 0), limits.maxHeaderCount))
        var lineStart = 0
        while lineStart < region.count {
            var lineEnd = lineStart
            while lineEnd < region.count, region[lineEnd] != HTTPSyntax.cr { lineEnd += 1 }
            guard lineEnd + 1 < region.count else { throw .bareLineFeed }
            let field = try parseField(region, lineStart: lineStart, lineEnd: lineEnd)
            guard fields.count < limits.maxHeaderCount else { throw .tooManyHeaders }
            fields.append(field)
            try inspect(field, in: region, framing: &framing)
            lineStart = lineEnd + 2
        }
        return HTTPHeaders(storage: Array(region), fields: fields)
    }

    /// `field-name ":" OWS field-value OWS` (RFC 9112 §5.1): no space before the
    /// colon, no line folding, no control characters in the value.
    private static func parseField(_ region: UnsafeRawBufferPointer, lineStart: Int, lineEnd: Int)
        throws(HTTPRequestParseError) -> HTTPHeaders.Field
    {
        if HTTPSyntax.isWhitespace(region[lineStart]) { throw .obsoleteLineFolding }
        var colon = lineStart
        while colon < lineEnd, HTTPSyntax.isTokenByte(region[colon]) { colon += 1 }
        guard colon > lineStart, colon < lineEnd, region[colon] == HTTPSyntax.colon else { throw .invalidHeaderName }
        var valueStart = colon + 1
        var valueEnd = lineEnd
        while valueStart < valueEnd, HTTPSyntax.isWhitespace(region[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, HTTPSyntax.isWhitespace(region[valueEnd - 1]) { valueEnd -= 1 }
        for position in valueStart..<valueEnd where !HTTPSyntax.isFieldValueByte(region[position]) {
            throw .invalidHeaderValue
        }
        return HTTPHeaders.Field(
            nameStart: Int32(lineStart), nameCount: Int32(colon - lineStart),
            valueStart: Int32(valueStart), valueCount: Int32(valueEnd - valueStart)
        )
    }

    /// Records what the fields that govern framing and persistence say.
    private static func inspect(_ field: HTTPHeaders.Field, in region: UnsafeRawBufferPointer, framing: inout FramingFields)
        throws(HTTPRequestParseError)
    {
        let name = UnsafeRawBufferPointer(rebasing: region[Int(field.nameStart)..<Int(field.nameStart + field.nameCount)])
        let value = UnsafeRawBufferPointer(
            rebasing: region[Int(field.valueStart)..<Int(field.valueStart + field.valueCount)])
        switch name.count {
        case 4 where HTTPSyntax.equalsIgnoringCase(name, "host"):
            framing.hostCount += 1
        case 6 where HTTPSyntax.equalsIgnoringCase(name, "expect"):
            if HTTPSyntax.equalsIgnoringCase(value, "100-continue") {
                framing.expectsContinue = true
            } else {
                framing.unsupportedExpectation = true
            }
        case 10 where HTTPSyntax.equalsIgnoringCase(name, "connection"):
            HTTPSyntax.forEachListElement(value) { option in
                if HTTPSyntax.equalsIgnoringCase(option, "close") { framing.connectionClose = true }
                if HTTPSyntax.equalsIgnoringCase(option, "keep-alive") { framing.connectionKeepAlive = true }
                return true
            }
        case 14 where HTTPSyntax.equalsIgnoringCase(name, "content-length"):
            try inspectContentLength(value, framing: &framing)
        case 17 where HTTPSyntax.equalsIgnoringCase(name, "transfer-encoding"):
            framing.transferEncodingPresent = true
            HTTPSyntax.forEachListElement(value) { coding in
                framing.transferCodings += 1
                framing.lastCodingIsChunked = HTTPSyntax.equalsIgnoringCase(coding, "chunked")
                if framing.lastCodingIsChunked { framing.chunkedCodings += 1 }
                return true
            }
        default:
            break
        }
    }

    /// Digits only, at most 18 of them (no sign, no overflow); a repeated field or
    /// a list must repeat the same number (RFC 9110 §8.6).
    private static func inspectContentLength(_ value: UnsafeRawBufferPointer, framing: inout FramingFields)
        throws(HTTPRequestParseError)
    {
        var elements = 0
        var invalid = false
        HTTPSyntax.forEachListElement(value) { element in
            elements += 1
            guard element.count <= 18, element.allSatisfy(HTTPSyntax.isDigit) else {
                invalid = true
                return false
            }
            let length = element.reduce(0) { $0 * 10 + Int($1 &- 0x30) }
            if let previous = framing.contentLength, previous != length { invalid = true }
            framing.contentLength = length
            return !invalid
        }
        if invalid || elements == 0 { throw .invalidContentLength }
    }

    private static func makeHead(
        method: HTTPMethod, target: String, version: HTTPVersion, headers: HTTPHeaders,
        framing fields: FramingFields, limits: HTTPRequestParser.Limits
    ) throws(HTTPRequestParseError) -> HTTPRequestHead {
        let isHTTP11 = version.minor >= 1
        if isHTTP11, fields.hostCount == 0 { throw .missingHost }
        if fields.hostCount > 1 { throw .duplicateHost }
        var framing = HTTPBodyFraming.none
        if fields.transferEncodingPresent {
            if fields.contentLength != nil { throw .conflictingFraming }
            guard isHTTP11, fields.lastCodingIsChunked, fields.chunkedCodings == 1 else { throw .invalidTransferEncoding }
            if fields.transferCodings > 1 { throw .unsupportedTransferCoding }
            framing = .chunked
        } else if let length = fields.contentLength {
            framing = .contentLength(length)
        }
        if isHTTP11, fields.unsupportedExpectation { throw .unsupportedExpectation }
        if case .contentLength(let length) = framing, length > limits.maxBodyBytes { throw .bodyTooLarge }
        return HTTPRequestHead(
            method: method, target: target, version: version, headers: headers, framing: framing,
            keepAlive: isHTTP11 ? !fields.connectionClose : fields.connectionKeepAlive && !fields.connectionClose,
            expectsContinue: isHTTP11 && fields.expectsContinue
        )
    }
}
