/// Turns message content into the bytes sent after a 354 reply.
enum DataEncoding {
    /// Dot-stuffs the content and appends the end-of-data marker.
    ///
    /// RFC 5321 §4.5.2: a line that starts with "." gets a second "."; the data ends
    /// with CRLF "." CRLF, so content that does not end with CRLF gets one first.
    /// RFC 5321 §2.3.8 allows no bare CR or LF in DATA, and servers that read them as
    /// line ends can be fooled into seeing an early end of data (SMTP smuggling), so
    /// each bare CR or LF becomes CRLF.
    static func encode(_ content: [UInt8]) -> [UInt8] {
        let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, dot = UInt8(ascii: ".")
        var output: [UInt8] = []
        output.reserveCapacity(content.count + content.count / 64 + 5)
        var atLineStart = true
        var index = 0
        while index < content.count {
            let byte = content[index]
            if byte == cr || byte == lf {
                let isPair = byte == cr && index + 1 < content.count && content[index + 1] == lf
                output.append(cr)
                output.append(lf)
                index += isPair ? 2 : 1
                atLineStart = true
                continue
            }
            if atLineStart && byte == dot { output.append(dot) }
            output.append(byte)
            atLineStart = false
            index += 1
        }
        if !atLineStart { output.append(contentsOf: [cr, lf]) }
        output.append(contentsOf: [dot, cr, lf])
        return output
    }
}
