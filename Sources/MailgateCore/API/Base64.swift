/// Base64 (RFC 4648 §4) decoding for request fields. Line breaks and blanks
/// between characters are ignored, since many clients wrap at 76 columns; any
/// other character outside the alphabet, or bad padding, is an error.
enum Base64 {
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var count = 0
        var padding = 0
        for byte in text.utf8 {
            switch byte {
            case 0x20, 0x09, 0x0D, 0x0A:
                continue
            case UInt8(ascii: "="):
                padding += 1
                guard padding <= 2 else { return nil }
                continue
            default:
                let value = table[Int(byte)]
                guard value != 0xFF, padding == 0 else { return nil }
                accumulator = accumulator << 6 | UInt32(value)
                count += 1
                if count == 4 {
                    output.append(UInt8(accumulator >> 16 & 0xFF))
                    output.append(UInt8(accumulator >> 8 & 0xFF))
                    output.append(UInt8(accumulator & 0xFF))
                    accumulator = 0
                    count = 0
                }
            }
        }
        switch (count, padding) {
        case (0, 0): break
        case (2, 0), (2, 2): output.append(UInt8(accumulator >> 4 & 0xFF))
        case (3, 0), (3, 1):
            output.append(UInt8(accumulator >> 10 & 0xFF))
            output.append(UInt8(accumulator >> 2 & 0xFF))
        default: return nil
        }
        return output
    }
}
