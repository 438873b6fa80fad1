/// A stub resolver: sends recursive queries to configured servers and reads their answers.
///
/// It exists, instead of glibc's `res_query`, so that each instance can have its own
/// server (`MAILGATE_DNS_SERVER`) and so that NXDOMAIN, SERVFAIL and timeouts stay
/// distinct errors. It holds no mutable state and opens a socket per query, so one
/// value may be used from many threads at once. Every call blocks its thread for at
/// most about `timeout × attempts × servers.count` (twice that per server when a
/// truncated answer is retried over TCP); call it from threads of your own, not from
/// Swift's cooperative pool.
public struct DNSResolver: Sendable {
    public static let defaultTimeout: Duration = .seconds(5)
    public static let defaultAttempts = 2
    /// RFC 6891 payload size advertised by default: the DNS Flag Day 2020 value, which
    /// keeps answers unfragmented while letting large MX sets avoid a TCP retry.
    public static let defaultEDNSPayloadSize: UInt16 = 1232

    /// The servers asked in turn, the first one first.
    public let servers: [DNSServerAddress]
    /// How long one UDP try (or one TCP exchange) waits for its answer.
    public let timeout: Duration
    /// Rounds over all servers before giving up (at least 1).
    public let attempts: Int
    /// The EDNS0 UDP payload size to advertise, or nil to send plain RFC 1035 queries.
    public let ednsPayloadSize: UInt16?

    public init(
        servers: [DNSServerAddress],
        timeout: Duration = DNSResolver.defaultTimeout,
        attempts: Int = DNSResolver.defaultAttempts,
        ednsPayloadSize: UInt16? = DNSResolver.defaultEDNSPayloadSize
    ) {
        self.servers = servers
        self.timeout = max(timeout, .milliseconds(1))
        self.attempts = max(attempts, 1)
        self.ednsPayloadSize = ednsPayloadSize
    }

    /// A resolver asking the `nameserver`s of resolv.conf (port 53), or 127.0.0.1 when it
    /// names none, as glibc does. The file's `options` are not read: mailgate's own
    /// timeout and attempts apply.
    public static func system(
        resolvConfPath: String = "/etc/resolv.conf",
        timeout: Duration = DNSResolver.defaultTimeout,
        attempts: Int = DNSResolver.defaultAttempts
    ) -> DNSResolver {
        DNSResolver(servers: ResolvConf.nameservers(atPath: resolvConfPath), timeout: timeout, attempts: attempts)
    }

    /// The resolver for `MAILGATE_DNS_SERVER`: that one server when set (`host[:port]`,
    /// `[ipv6]:port`), else the system's servers.
    public static func configured(
        dnsServer: String?,
        timeout: Duration = DNSResolver.defaultTimeout,
        attempts: Int = DNSResolver.defaultAttempts
    ) throws(DNSError) -> DNSResolver {
        guard let dnsServer else { return system(timeout: timeout, attempts: attempts) }
        return DNSResolver(servers: [try DNSServerAddress.parse(dnsServer)], timeout: timeout, attempts: attempts)
    }
}

extension DNSResolver {
    /// Asks the servers in turn, for `attempts` rounds, until one answers NOERROR or
    /// NXDOMAIN, and returns that response. When none does, throws the most telling
    /// failure seen (a server's error RCODE over a broken packet over silence).
    func resolve(_ name: DNSName, type: DNSRecordType) throws(DNSError) -> DNSMessage {
        guard !servers.isEmpty else { throw .noServers }
        var mostTelling = DNSError.timeout
        for _ in 0..<attempts {
            for server in servers {
                let failure: DNSError
                do {
                    let response = try exchange(name, type: type, with: server)
                    switch response.responseCode {
                    case DNSResponseCode.noError, DNSResponseCode.nameError: return response
                    case DNSResponseCode.refused: failure = .refused
                    case let rcode: failure = .serverFailure(rcode: rcode)
                    }
                } catch {
                    failure = error
                }
                if failure.informativeness >= mostTelling.informativeness { mostTelling = failure }
            }
        }
        throw mostTelling
    }

    /// One question to one server, with a fresh random id (RFC 5452 §9.2). A server that
    /// does not know EDNS answers FORMERR without an OPT record (RFC 6891 §7): it is
    /// asked once more without one.
    private func exchange(_ name: DNSName, type: DNSRecordType, with server: DNSServerAddress) throws(DNSError) -> DNSMessage {
        let query = DNSMessage.query(id: .random(in: .min ... .max), name: name, type: type, ednsPayloadSize: ednsPayloadSize)
        let response = try exchange(query, with: server)
        guard ednsPayloadSize != nil, response.responseCode == DNSResponseCode.formatError, response.optRecord == nil else {
            return response
        }
        let plainQuery = DNSMessage.query(id: .random(in: .min ... .max), name: name, type: type, ednsPayloadSize: nil)
        return try exchange(plainQuery, with: server)
    }
}
