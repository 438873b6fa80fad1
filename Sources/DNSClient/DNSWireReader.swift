/// A cursor over a received DNS message. Every read is bounds-checked and throws
/// `malformedResponse` instead of trapping, because the octets come from the network.
struct DNSWireReader {
    /// RFC 1035 §4.1.4: pointers are two octets whose top bits are `11`.
    private static let pointerTag: UInt8 = 0xC0

    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func readUInt8() throws(DNSError) -> UInt8 {
        guard offset < bytes.count else { throw .malformedResponse("message ends at octet \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() throws(DNSError) -> UInt16 {
        let high = try readUInt8()
        return UInt16(high) << 8 | UInt16(try readUInt8())
    }

    mutating func readUInt32() throws(DNSError) -> UInt32 {
        let high = try readUInt16()
        return UInt32(high) << 16 | UInt32(try readUInt16())
    }

    mutating func readBytes(_ count: Int) throws(DNSError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw .malformedResponse("\(count) octets wanted at \(offset), \(remaining) left")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads a possibly compressed name (RFC 1035 §4.1.4) and leaves the cursor after
    /// the name's own octets, whatever its pointers referred to.
    ///
    /// Loop protection: every pointer must point strictly before the place the previous
    /// jump landed on (or before the name itself), so jumps strictly decrease and end;
    /// a name longer than 255 octets is refused as well.
    mutating func readName() throws(DNSError) -> DNSName {
        var labels: [[UInt8]] = []
        var wireLength = 1
        var position = offset
        var lowestStart = offset
        var endOfName: Int?
        while true {
            guard position < bytes.count else { throw .malformedResponse("name runs past the end") }
            let length = bytes[position]
            switch length & Self.pointerTag {
            case 0:
                position += 1
                guard length > 0 else {
                    offset = endOfName ?? position
                    return DNSName(uncheckedLabels: labels)
                }
                wireLength += 1 + Int(length)
                guard wireLength <= DNSName.maxWireLength else { throw .malformedResponse("name longer than 255 octets") }
                guard position + Int(length) <= bytes.count else { throw .malformedResponse("label runs past the end") }
                labels.append(Array(bytes[position..<position + Int(length)]))
                position += Int(length)
            case Self.pointerTag:
                guard position + 1 < bytes.count else { throw .malformedResponse("pointer runs past the end") }
                let target = Int(length & ~Self.pointerTag) << 8 | Int(bytes[position + 1])
                guard target < lowestStart else { throw .malformedResponse("compression pointer does not point backwards") }
                if endOfName == nil { endOfName = position + 2 }
                lowestStart = target
                position = target
            default:
                throw .malformedResponse("unsupported label type \(length >> 6)")
            }
        }
    }
}
