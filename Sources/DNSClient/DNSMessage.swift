/// A resource record type (RFC 1035 §3.2.2, RFC 3596, RFC 6891). Any 16-bit value
/// can arrive; the named ones are those the resolver reads.
struct DNSRecordType: RawRepresentable, Hashable, Sendable {
    let rawValue: UInt16

    static let a = DNSRecordType(rawValue: 1)
    static let cname = DNSRecordType(rawValue: 5)
    static let soa = DNSRecordType(rawValue: 6)
    static let mx = DNSRecordType(rawValue: 15)
    static let txt = DNSRecordType(rawValue: 16)
    static let aaaa = DNSRecordType(rawValue: 28)
    static let opt = DNSRecordType(rawValue: 41)
}

/// RFC 1035 §3.2.4: the Internet class, the only one we ask about.
let dnsClassInternet: UInt16 = 1

/// RCODE values (RFC 1035 §4.1.1) the resolver tells apart.
enum DNSResponseCode {
    static let noError: UInt16 = 0
    static let formatError: UInt16 = 1
    static let serverFailure: UInt16 = 2
    static let nameError: UInt16 = 3
    static let refused: UInt16 = 5
}

/// The fixed 12-octet header (RFC 1035 §4.1.1) without its counts, which the
/// sections of `DNSMessage` carry.
struct DNSHeader: Hashable, Sendable {
    var id: UInt16
    var isResponse = false
    var opcode: UInt8 = 0
    var isAuthoritative = false
    var isTruncated = false
    var recursionDesired = false
    var recursionAvailable = false
    /// The low four bits of the RCODE; an OPT record may extend it (RFC 6891 §6.1.3).
    var responseCode: UInt8 = 0
}

struct DNSQuestion: Hashable, Sendable {
    var name: DNSName
    var type: DNSRecordType
    var recordClass: UInt16 = dnsClassInternet
}

/// The RDATA of the types the resolver reads; every other type keeps its raw octets.
enum DNSRecordData: Hashable, Sendable {
    case a(IPAddress)
    case aaaa(IPAddress)
    case cname(DNSName)
    case mx(preference: UInt16, exchange: DNSName)
    /// Uninterpreted RDATA. Names inside it stay compressed, so it is only for skipping.
    case other([UInt8])
}

struct DNSResourceRecord: Hashable, Sendable {
    var name: DNSName
    var type: DNSRecordType
    var recordClass: UInt16 = dnsClassInternet
    var ttl: UInt32 = 0
    var data: DNSRecordData
}

/// A whole DNS message (RFC 1035 §4.1), as a value that encodes and decodes without I/O.
struct DNSMessage: Hashable, Sendable {
    var header: DNSHeader
    var questions: [DNSQuestion] = []
    var answers: [DNSResourceRecord] = []
    var authorities: [DNSResourceRecord] = []
    var additionals: [DNSResourceRecord] = []

    /// A recursive query for one name and type (RD set), with an EDNS0 OPT record
    /// advertising `ednsPayloadSize` when given (RFC 6891 §6.1.2; 1232 octets is the
    /// DNS Flag Day 2020 size that avoids IP fragmentation).
    static func query(id: UInt16, name: DNSName, type: DNSRecordType, ednsPayloadSize: UInt16?) -> DNSMessage {
        var message = DNSMessage(header: DNSHeader(id: id, recursionDesired: true))
        message.questions = [DNSQuestion(name: name, type: type)]
        if let ednsPayloadSize {
            message.additionals = [
                DNSResourceRecord(name: .root, type: .opt, recordClass: ednsPayloadSize, ttl: 0, data: .other([]))
            ]
        }
        return message
    }

    /// The OPT pseudo-record of the additional section, if any (RFC 6891 §6.1.1).
    var optRecord: DNSResourceRecord? {
        additionals.first { $0.type == .opt }
    }

    /// The full RCODE: the header's four bits, extended by the OPT record's upper
    /// eight bits when there is one (RFC 6891 §6.1.3).
    var responseCode: UInt16 {
        let extended = optRecord.map { UInt16($0.ttl >> 24) << 4 } ?? 0
        return extended | UInt16(header.responseCode)
    }

    /// The records of `type` that answer for `name`, following the CNAME chain that a
    /// recursive server puts before them in the answer section (RFC 1034 §3.6.2).
    /// Returns the records and the name they belong to (the end of the chain).
    func answers(ofType type: DNSRecordType, for name: DNSName) -> (owner: DNSName, records: [DNSResourceRecord]) {
        var owner = name
        var visited: Set<DNSName> = [name]
        while type != .cname,
              case .cname(let target)? = answers.first(where: { $0.name == owner && $0.type == .cname })?.data,
              visited.insert(target).inserted {
            owner = target
        }
        return (owner, answers.filter { $0.name == owner && $0.type == type && $0.recordClass == dnsClassInternet })
    }
}
