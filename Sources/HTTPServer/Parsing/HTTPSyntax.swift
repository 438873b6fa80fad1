/// Byte classes of RFC 9110 §5.6 and RFC 9112, as branch-light checks on raw bytes.
///
/// The parser works on bytes, never on `Character`s: HTTP/1.1 syntax is defined
/// over octets, and grapheme-aware string processing would be both slow and wrong.
enum HTTPSyntax {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let slash: UInt8 = 0x2F
    static let dot: UInt8 = 0x2E

    /// `tchar` (RFC 9110 §5.6.2) as two 64-bit masks over the ASCII range.
    private static let tokenMaskLow: UInt64 = 0x03ff_6cfa_0000_0000
    private static let tokenMaskHigh: UInt64 = 0x57ff_ffff_c7ff_fffe

    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        if byte < 64 { return (tokenMaskLow >> UInt64(byte)) & 1 == 1 }
        if byte < 128 { return (tokenMaskHigh >> UInt64(byte &- 64)) & 1 == 1 }
        return false
    }

    /// `field-vchar` plus SP and HTAB (RFC 9110 §5.5); obs-text (0x80-0xFF) is kept as opaque data.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    /// A request-target is visible ASCII only (RFC 9112 §3.2, RFC 3986).
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- 0x30 < 10
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte &- 0x30
        case 0x41...0x46: byte &- 0x41 &+ 10
        case 0x61...0x66: byte &- 0x61 &+ 10
        default: nil
        }
    }

    /// Whether `bytes` equals `lowercaseASCII` ignoring ASCII case.
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercaseASCII: StaticString) -> Bool {
        guard bytes.count == lowercaseASCII.utf8CodeUnitCount else { return false }
        let expected = lowercaseASCII.utf8Start
        for index in 0..<bytes.count where lowercased(bytes[index]) != expected[index] {
            return false
        }
        return true
    }

    /// Whether two byte runs are equal ignoring ASCII case.
    static func equalsIgnoringCase(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where lowercased(lhs[index]) != lowercased(rhs[index]) {
            return false
        }
        return true
    }

    /// `bytes` without leading and trailing SP/HTAB (OWS, RFC 9110 §5.6.3).
    static func trimmingWhitespace(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end, isWhitespace(bytes[start]) { start += 1 }
        while end > start, isWhitespace(bytes[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Calls `body` with each element of a comma-separated list (RFC 9110 §5.6.1),
    /// trimmed, skipping empty elements. Stops early when `body` returns false.
    static func forEachListElement(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Bool) {
        var start = 0
        for index in 0...bytes.count where index == bytes.count || bytes[index] == comma {
            let element = trimmingWhitespace(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            start = index + 1
            if !element.isEmpty, !body(element) { return }
        }
    }
}
