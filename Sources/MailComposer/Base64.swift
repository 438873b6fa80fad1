/// Base64 (RFC 4648 §4) written straight into the message buffer.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    /// 57 input octets make one 76-character line (RFC 2045 §6.8).
    private static let octetsPerLine = 57

    /// Encodes `input` with padding and no line breaks.
    static func append(_ input: ArraySlice<UInt8>, to output: inout [UInt8]) {
        input.withUnsafeBufferPointer { buffer in
            output.reserveCapacity(output.count + (buffer.count + 2) / 3 * 4)
            appendUnbroken(buffer, to: &output)
        }
    }

    /// Encodes `input` in lines of 76 characters joined by CRLF, with no CRLF
    /// after the last line (a MIME delimiter supplies it).
    static func appendLines(_ input: [UInt8], to output: inout [UInt8]) {
        input.withUnsafeBufferPointer { buffer in
            let lineCount = (buffer.count + octetsPerLine - 1) / octetsPerLine
            output.reserveCapacity(output.count + (buffer.count + 2) / 3 * 4 + lineCount * 2)
            var start = 0
            while start < buffer.count {
                if start > 0 { output.appendCRLF() }
                let end = min(start + octetsPerLine, buffer.count)
                appendUnbroken(UnsafeBufferPointer(rebasing: buffer[start..<end]), to: &output)
                start = end
            }
        }
    }

    private static func appendUnbroken(_ input: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        alphabet.withUnsafeBufferPointer { table in
            var index = 0
            while index + 3 <= input.count {
                let group = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                output.append(table[Int(group >> 18)])
                output.append(table[Int(group >> 12 & 0x3F)])
                output.append(table[Int(group >> 6 & 0x3F)])
                output.append(table[Int(group & 0x3F)])
                index += 3
            }
            let remaining = input.count - index
            guard remaining > 0 else { return }
            let group = UInt32(input[index]) << 16 | (remaining == 2 ? UInt32(input[index + 1]) << 8 : 0)
            output.append(table[Int(group >> 18)])
            output.append(table[Int(group >> 12 & 0x3F)])
            output.append(remaining == 2 ? table[Int(group >> 6 & 0x3F)] : ASCII.equals)
            output.append(ASCII.equals)
        }
    }
}
