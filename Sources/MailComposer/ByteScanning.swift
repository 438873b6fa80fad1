/// Scans for the bytes that end a run of plain text, sixteen at a time: text
/// bodies are the bulk of every message, and most of their bytes need no
/// more than "is this printable ASCII?" or "is this a line end?".
enum ByteScanning {
    private typealias Chunk = SIMD16<UInt8>

    /// The index of the first byte at or after `start` outside 0x20–0x7E
    /// (a control, a line end, DEL or a UTF-8 byte), or `text.count`.
    static func printableRunEnd(in text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        if let base = text.baseAddress {
            while index + Chunk.scalarCount <= text.count {
                let chunk = UnsafeRawPointer(base + index).loadUnaligned(as: Chunk.self)
                // One unsigned comparison: bytes below 0x20 wrap around to large values.
                if any((chunk &- Chunk(repeating: 0x20)) .>= Chunk(repeating: 0x5F)) { break }
                index += Chunk.scalarCount
            }
        }
        while index < text.count && text[index] &- 0x20 < 0x5F { index += 1 }
        return index
    }

    /// The index of the first byte at or after `start` that is not printable
    /// ASCII (0x20–0x7E) or is `=`: the bytes quoted-printable may write as
    /// they are (a space only if a visible byte follows it on the line).
    static func quotedPrintableRunEnd(in text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        if let base = text.baseAddress {
            while index + Chunk.scalarCount <= text.count {
                let chunk = UnsafeRawPointer(base + index).loadUnaligned(as: Chunk.self)
                let outside = (chunk &- Chunk(repeating: 0x20)) .>= Chunk(repeating: 0x5F)
                if any(outside .| (chunk .== Chunk(repeating: ASCII.equals))) { break }
                index += Chunk.scalarCount
            }
        }
        while index < text.count && text[index] &- 0x20 < 0x5F && text[index] != ASCII.equals { index += 1 }
        return index
    }

    /// The index of the first CR or LF at or after `start`, or `text.count`.
    static func lineEnd(in text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        if let base = text.baseAddress {
            while index + Chunk.scalarCount <= text.count {
                let chunk = UnsafeRawPointer(base + index).loadUnaligned(as: Chunk.self)
                if any((chunk .== Chunk(repeating: ASCII.lf)) .| (chunk .== Chunk(repeating: ASCII.cr))) { break }
                index += Chunk.scalarCount
            }
        }
        while index < text.count && text[index] != ASCII.lf && text[index] != ASCII.cr { index += 1 }
        return index
    }
}
