/// One mail exchanger of a domain (RFC 5321 §5.1).
public struct MXRecord: Hashable, Sendable {
    /// Lower is tried first.
    public let preference: UInt16
    /// The exchange's host name without the trailing dot, or an IP literal as written
    /// when the domain itself was a literal.
    public let host: String

    public init(preference: UInt16, host: String) {
        self.preference = preference
        self.host = host
    }
}

/// What a domain's MX records say about where its mail goes.
public enum MXResult: Hashable, Sendable {
    /// The exchanges in the order to try them: lowest preference first, equal
    /// preferences shuffled (RFC 5321 §5.1) so that senders spread their load.
    case exchanges([MXRecord])
    /// RFC 7505 null MX (`0 .`): the domain accepts no mail, so the recipient bounces.
    case nullMX
    /// The domain exists but has no MX records (NOERROR, NODATA): RFC 5321 §5.1 says to
    /// treat the domain itself as the only exchange, so the caller uses its A/AAAA records.
    case noMX
}

extension MXResult {
    /// Reads the MX records for `domain` out of a NOERROR response.
    ///
    /// An MX set made only of `.` exchanges is a null MX. RFC 7505 §3 forbids mixing
    /// a null MX with other MX records; when a domain does anyway, the `.` entries are
    /// dropped (no host can be reached at the root) and the others are used.
    init(response: DNSMessage, domain: DNSName, using generator: inout some RandomNumberGenerator) {
        let records = response.answers(ofType: .mx, for: domain).records
        var exchanges: [MXRecord] = []
        var sawRoot = false
        for record in records {
            guard case .mx(let preference, let exchange) = record.data else { continue }
            if exchange.isRoot {
                sawRoot = true
            } else {
                exchanges.append(MXRecord(preference: preference, host: exchange.description))
            }
        }
        if exchanges.isEmpty {
            self = sawRoot ? .nullMX : .noMX
        } else {
            self = .exchanges(Self.ordered(exchanges, using: &generator))
        }
    }

    /// Sorts by preference and shuffles each group of equal preference.
    static func ordered(_ records: [MXRecord], using generator: inout some RandomNumberGenerator) -> [MXRecord] {
        let groups = Dictionary(grouping: records, by: \.preference)
        return groups.keys.sorted().flatMap { preference in
            groups[preference, default: []].shuffled(using: &generator)
        }
    }
}
