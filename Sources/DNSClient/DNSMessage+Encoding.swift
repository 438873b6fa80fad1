extension DNSMessage {
    /// The wire form (RFC 1035 §4.1), names uncompressed.
    ///
    /// Only messages we build are encoded (a query, or a test's response), so a section
    /// or RDATA outgrowing its 16-bit count is a programming error, not an input error.
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        header.encode(into: &bytes)
        for count in [questions.count, answers.count, authorities.count, additionals.count] {
            precondition(count <= Int(UInt16.max), "a DNS section holds at most 65535 entries")
            bytes.appendBigEndian(UInt16(count))
        }
        for question in questions {
            question.name.encode(into: &bytes)
            bytes.appendBigEndian(question.type.rawValue)
            bytes.appendBigEndian(question.recordClass)
        }
        for record in answers + authorities + additionals {
            record.encode(into: &bytes)
        }
        return bytes
    }
}

extension DNSHeader {
    /// RFC 1035 §4.1.1: QR, Opcode, AA, TC, RD, RA, Z (zero), RCODE.
    var flags: UInt16 {
        var flags = UInt16(opcode & 0x0F) << 11 | UInt16(responseCode & 0x0F)
        if isResponse { flags |= 0x8000 }
        if isAuthoritative { flags |= 0x0400 }
        if isTruncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        return flags
    }

    init(id: UInt16, flags: UInt16) {
        self.init(
            id: id,
            isResponse: flags & 0x8000 != 0,
            opcode: UInt8((flags >> 11) & 0x0F),
            isAuthoritative: flags & 0x0400 != 0,
            isTruncated: flags & 0x0200 != 0,
            recursionDesired: flags & 0x0100 != 0,
            recursionAvailable: flags & 0x0080 != 0,
            responseCode: UInt8(flags & 0x000F)
        )
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendBigEndian(id)
        bytes.appendBigEndian(flags)
    }
}

extension DNSResourceRecord {
    func encode(into bytes: inout [UInt8]) {
        name.encode(into: &bytes)
        bytes.appendBigEndian(type.rawValue)
        bytes.appendBigEndian(recordClass)
        bytes.appendBigEndian(ttl)
        var rdata: [UInt8] = []
        switch data {
        case .a(let address), .aaaa(let address):
            rdata = address.bytes
        case .cname(let target):
            target.encode(into: &rdata)
        case .mx(let preference, let exchange):
            rdata.appendBigEndian(preference)
            exchange.encode(into: &rdata)
        case .other(let raw):
            rdata = raw
        }
        precondition(rdata.count <= Int(UInt16.max), "RDATA holds at most 65535 octets")
        bytes.appendBigEndian(UInt16(rdata.count))
        bytes.append(contentsOf: rdata)
    }
}

extension [UInt8] {
    mutating func appendBigEndian(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }

    mutating func appendBigEndian(_ value: UInt32) {
        appendBigEndian(UInt16(value >> 16))
        appendBigEndian(UInt16(value & 0xFFFF))
    }
}
