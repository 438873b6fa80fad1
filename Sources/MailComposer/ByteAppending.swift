/// Small appenders for building a message into one `[UInt8]` without
/// intermediate strings: composition runs for every accepted message.
extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func appendCRLF() {
        append(ASCII.cr)
        append(ASCII.lf)
    }

    /// Appends a non-negative `value` in decimal, zero-padded to `width` digits.
    mutating func appendDecimal(_ value: Int, width: Int) {
        var divisor = 1
        for _ in 1..<Swift.max(width, 1) { divisor *= 10 }
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            append(UInt8(truncatingIfNeeded: 0x30 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Appends up to `maximumCount` bytes that `body` writes through a pointer
    /// and counts: the body encoders write a byte at a time, and going through
    /// `append` for each would check uniqueness and capacity every time.
    mutating func appendUnsafe(maximumCount: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        let start = count
        append(contentsOf: repeatElement(0, count: maximumCount))
        let written = withUnsafeMutableBufferPointer { buffer in body(buffer.baseAddress! + start) }
        removeLast(maximumCount - written)
    }

    /// Appends `byte` as `=XX` with upper-case hex, the form RFC 2045 §6.7 and
    /// RFC 2047 §4.2 require.
    @inline(__always)
    mutating func appendHexEscape(_ byte: UInt8, introducer: UInt8) {
        append(introducer)
        append(ASCII.upperHexDigit(byte >> 4))
        append(ASCII.upperHexDigit(byte & 0x0F))
    }
}

/// Byte values and classes used across the RFC 5322 grammar.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let dot: UInt8 = 0x2E
    static let colon: UInt8 = 0x3A
    static let equals: UInt8 = 0x3D
    static let at: UInt8 = 0x40
    static let backslash: UInt8 = 0x5C
    @inline(__always) static func upperHexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? 0x30 + value : 0x37 + value
    }

    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }
    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    @inline(__always) static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    @inline(__always) static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// `atext` of RFC 5322 §3.2.3: the characters of an unquoted word.
    static func isAtext(_ byte: UInt8) -> Bool {
        if isLetter(byte) || isDigit(byte) { return true }
        switch byte {
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2F, 0x3D, 0x3F, 0x5E, 0x5F, 0x60, 0x7B, 0x7C, 0x7D, 0x7E:
            return true
        default:
            return false
        }
    }

    /// A dot-atom-text (RFC 5322 §3.2.3): atext runs joined by single dots.
    static func isDotAtomText(_ bytes: some Collection<UInt8>) -> Bool {
        guard let first = bytes.first, first != dot else { return false }
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == dot {
                if previous == dot { return false }
            } else if !isAtext(byte) {
                return false
            }
            previous = byte
        }
        return previous != dot
    }
}

/// How a piece of caller text breaks the "one line of printable text" rule
/// that every header input must keep.
enum ControlScan: Equatable {
    case clean
    /// CR, LF or NUL: the bytes that could end a header line or split a message.
    case lineBreak
    /// Any other C0 control (HTAB aside), DEL, or a C1 control (U+0080–U+009F).
    case control

    /// Scans UTF-8 `bytes`; `allowTab` admits HTAB, which is white space in headers.
    static func scan(_ bytes: some Sequence<UInt8>, allowTab: Bool) -> ControlScan {
        var result = ControlScan.clean
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == ASCII.cr || byte == ASCII.lf || byte == 0 { return .lineBreak }
            if (byte < 0x20 && !(allowTab && byte == ASCII.tab)) || byte == 0x7F { result = .control }
            // C1 controls are encoded as 0xC2 0x80...0x9F.
            if previous == 0xC2 && byte >= 0x80 && byte <= 0x9F { result = .control }
            previous = byte
        }
        return result
    }
}
