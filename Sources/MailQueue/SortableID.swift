import Foundation

/// The lower-case Crockford base32 alphabet (no i, l, o, u).
enum CrockfordBase32 {
    static let digits: [UInt8] = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    static func value(of byte: UInt8) -> Int? {
        digits.firstIndex(of: byte)
    }
}

/// Identifiers like `msg_01jdq3…` and `evt_01jdq3…`: a prefix, then 26
/// Crockford base32 characters holding 48 bits of Unix milliseconds and 80
/// random bits (the ULID layout). They sort by creation time as text, which
/// keeps store indexes append-mostly and cursor paging simple.
public enum SortableID {
    public enum Kind: String, Sendable, CaseIterable {
        case message = "msg"
        case event = "evt"
    }

    /// Characters after the prefix and underscore.
    public static let encodedLength = 26

    public static func generate(_ kind: Kind, at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(kind, at: date, using: &generator)
    }

    public static func generate(_ kind: Kind, at date: Date, using generator: inout some RandomNumberGenerator) -> String {
        let milliseconds = date.timeIntervalSince1970 * 1000
        let time = milliseconds <= 0 ? 0 : UInt64(min(milliseconds, Double(1 << 48 - 1)))
        let high = generator.next()
        let low = generator.next() & 0xFFFF
        var bytes: [UInt8] = Array(kind.rawValue.utf8)
        bytes.reserveCapacity(4 + encodedLength)
        bytes.append(0x5F)
        // 10 characters (50 bits) of time, the top two bits zero.
        for shift in stride(from: 45, through: 0, by: -5) {
            bytes.append(CrockfordBase32.digits[Int(time >> UInt64(shift) & 0x1F)])
        }
        // 16 characters of randomness: the 80-bit number high << 16 | low.
        for index in 0..<16 {
            let shift = 75 - 5 * index
            let chunk = shift >= 16 ? high >> UInt64(shift - 16) : high << UInt64(16 - shift) | low >> UInt64(shift)
            bytes.append(CrockfordBase32.digits[Int(chunk & 0x1F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True for `kind`'s prefix, `_` and 26 lower-case Crockford characters
    /// whose first is at most `7` (48 bits of time): the API checks path ids
    /// with this before asking the store.
    public static func isValid(_ text: String, kind: Kind) -> Bool {
        let bytes = Array(text.utf8)
        let prefix = Array(kind.rawValue.utf8) + [0x5F]
        guard bytes.count == prefix.count + encodedLength, bytes.starts(with: prefix) else { return false }
        let encoded = bytes[prefix.count...]
        guard let first = encoded.first.flatMap(CrockfordBase32.value(of:)), first <= 7 else { return false }
        return encoded.allSatisfy { CrockfordBase32.value(of: $0) != nil }
    }
}
