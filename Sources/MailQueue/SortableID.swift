import Foundation

/// Identifiers that sort by creation time, ULID's layout in lowercase: a prefix
/// (`msg_`, `evt_`), then 26 Crockford base32 characters holding a 48-bit
/// millisecond time and 80 random bits. Sorting them as text sorts them by time,
/// which is what makes "newest first" an index scan.
public enum SortableID {
    /// Crockford's base32 alphabet (no i, l, o, u), lower-cased.
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// A new identifier for something created at `date`.
    public static func make(prefix: String, at date: Date) -> String {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF
        var characters = [UInt8](repeating: 0, count: 26)
        for index in 0..<10 {
            characters[9 - index] = alphabet[Int((milliseconds >> (5 * UInt64(index))) & 31)]
        }
        // 80 random bits from two draws (a draw per character would be a system call each).
        var random = (high: generator.next() as UInt64, low: generator.next() as UInt64)
        for index in 10..<26 {
            if index == 18 { random.high = random.low }
            characters[index] = alphabet[Int(random.high & 31)]
            random.high >>= 5
        }
        return prefix + String(decoding: characters, as: UTF8.self)
    }

    /// True for `prefix` followed by 1 to 64 lowercase letters and digits: the
    /// shape of every identifier mailgate hands out, whatever made it.
    public static func hasShape(_ text: String, prefix: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let rest = text.utf8.dropFirst(prefix.utf8.count)
        return (1...64).contains(rest.count) && rest.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }
    }
}
