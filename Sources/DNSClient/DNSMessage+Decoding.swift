extension DNSMessage {
    /// The fixed header is 12 octets (RFC 1035 §4.1.1).
    static let headerLength = 12

    /// Decodes a message received from a server.
    ///
    /// Hostile input ends in `malformedResponse`, never a trap or an endless loop:
    /// each record consumes at least 11 octets, so counts larger than the packet run
    /// out of octets and throw; names are bounded by `DNSWireReader.readName`.
    /// Octets after the last record are ignored, as resolvers commonly do.
    /// With `throughQuestions`, decoding stops after the question section.
    static func decode(_ bytes: [UInt8], throughQuestions: Bool = false) throws(DNSError) -> DNSMessage {
        var reader = DNSWireReader(bytes)
        guard bytes.count >= headerLength else { throw .malformedResponse("shorter than a header") }
        let id = try reader.readUInt16()
        var message = DNSMessage(header: DNSHeader(id: id, flags: try reader.readUInt16()))
        let questionCount = try reader.readUInt16()
        let answerCount = try reader.readUInt16()
        let authorityCount = try reader.readUInt16()
        let additionalCount = try reader.readUInt16()
        for _ in 0..<questionCount {
            let name = try reader.readName()
            let type = DNSRecordType(rawValue: try reader.readUInt16())
            message.questions.append(DNSQuestion(name: name, type: type, recordClass: try reader.readUInt16()))
        }
        guard !throughQuestions else { return message }
        message.answers = try reader.readRecords(answerCount)
        message.authorities = try reader.readRecords(authorityCount)
        message.additionals = try reader.readRecords(additionalCount)
        return message
    }
}

extension DNSWireReader {
    mutating func readRecords(_ count: UInt16) throws(DNSError) -> [DNSResourceRecord] {
        var records: [DNSResourceRecord] = []
        for _ in 0..<count {
            records.append(try readRecord())
        }
        return records
    }

    /// One resource record (RFC 1035 §4.1.3). The RDATA of a known type must fill its
    /// RDLENGTH exactly; a name inside it may point anywhere earlier in the message.
    mutating func readRecord() throws(DNSError) -> DNSResourceRecord {
        let name = try readName()
        let type = DNSRecordType(rawValue: try readUInt16())
        let recordClass = try readUInt16()
        let ttl = try readUInt32()
        let length = Int(try readUInt16())
        guard length <= remaining else { throw .malformedResponse("RDATA of \(length) octets runs past the end") }
        let end = offset + length
        let data: DNSRecordData
        switch type {
        case .a where recordClass == dnsClassInternet:
            data = .a(try readAddress(length: length, expected: 4))
        case .aaaa where recordClass == dnsClassInternet:
            data = .aaaa(try readAddress(length: length, expected: 16))
        case .cname:
            data = .cname(try readName())
        case .mx:
            let preference = try readUInt16()
            data = .mx(preference: preference, exchange: try readName())
        default:
            data = .other(try readBytes(length))
        }
        guard offset == end else { throw .malformedResponse("RDATA of type \(type.rawValue) does not fill its length") }
        return DNSResourceRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data)
    }

    private mutating func readAddress(length: Int, expected: Int) throws(DNSError) -> IPAddress {
        guard length == expected, let address = IPAddress(bytes: try readBytes(length)) else {
            throw .malformedResponse("address RDATA of \(length) octets, expected \(expected)")
        }
        return address
    }
}
