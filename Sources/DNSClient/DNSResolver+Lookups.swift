extension DNSResolver {
    /// The mail exchangers of `domain` (an A-label name such as `example.org`).
    ///
    /// A domain that is an IP literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`, or a bare
    /// address) is its own exchange, as written, without a query. Throws `.nxdomain`
    /// when the domain does not exist; timeouts and server failures throw their errors.
    public func lookupMX(_ domain: String) throws(DNSError) -> MXResult {
        var generator = SystemRandomNumberGenerator()
        return try lookupMX(domain, using: &generator)
    }

    /// `lookupMX(_:)` with the generator that shuffles equal preferences given, so that
    /// tests can fix the order.
    public func lookupMX(_ domain: String, using generator: inout some RandomNumberGenerator) throws(DNSError) -> MXResult {
        if IPAddress(hostLiteral: domain) != nil {
            return .exchanges([MXRecord(preference: 0, host: domain)])
        }
        let name = try DNSName(domain)
        let response = try resolve(name, type: .mx)
        guard response.responseCode != DNSResponseCode.nameError else { throw .nxdomain(name.description) }
        return MXResult(response: response, domain: name, using: &generator)
    }

    /// The IPv4 and IPv6 addresses of `host` as literal strings (`192.0.2.1`, `2001:db8::1`),
    /// following CNAMEs in the answers.
    ///
    /// Order: all IPv4 addresses first, then IPv6, each in the server's order, because
    /// many hosts (containers especially) have no IPv6 route out. An IP literal, bare or
    /// in brackets, returns itself without a query. An empty array means the name exists
    /// but has neither kind of address.
    ///
    /// When one family fails and the other has addresses, those are returned. NXDOMAIN
    /// or a timeout on the A query ends the lookup at once: the name has no AAAA either,
    /// and a silent server would only keep us waiting as long again.
    public func lookupAddresses(_ host: String) throws(DNSError) -> [String] {
        if let literal = IPAddress(hostLiteral: host) { return [literal.description] }
        let name = try DNSName(host)
        var found: [IPAddress] = []
        var firstFailure: DNSError?
        for type in [DNSRecordType.a, .aaaa] {
            do {
                found += try addresses(of: name, type: type)
            } catch {
                switch error {
                case .nxdomain where found.isEmpty, .timeout where type == .a: throw error
                default: firstFailure = firstFailure ?? error
                }
            }
        }
        if found.isEmpty, let firstFailure { throw firstFailure }
        return found.map(\.description)
    }

    private func addresses(of name: DNSName, type: DNSRecordType) throws(DNSError) -> [IPAddress] {
        let response = try resolve(name, type: type)
        guard response.responseCode != DNSResponseCode.nameError else { throw .nxdomain(name.description) }
        return response.answers(ofType: type, for: name).records.compactMap { record in
            switch record.data {
            case .a(let address), .aaaa(let address): address
            default: nil
            }
        }
    }
}
