#if canImport(Glibc)
import Glibc
#endif

extension DNSResolver {
    /// The largest DNS message: TCP frames it with a 16-bit length (RFC 1035 §4.2.2).
    static let maxMessageLength = 65535

    /// Sends `query` over UDP and, when the answer is truncated, again over TCP
    /// (RFC 1035 §4.2.1, RFC 7766 §5).
    func exchange(_ query: DNSMessage, with server: DNSServerAddress) throws(DNSError) -> DNSMessage {
        let response = try exchangeOverUDP(query, with: server)
        guard response.header.isTruncated else { return response }
        return try exchangeOverTCP(query, with: server)
    }

    /// One UDP try: datagrams that are not the answer to this query (another id, another
    /// question) are ignored until the answer comes or the timeout passes.
    private func exchangeOverUDP(_ query: DNSMessage, with server: DNSServerAddress) throws(DNSError) -> DNSMessage {
        let deadline = ContinuousClock.now + timeout
        let socket = try DNSSocket(for: server, type: SOCK_DGRAM)
        try socket.connect(to: server, until: deadline)
        try socket.send(query.encoded(), until: deadline)
        while let datagram = try socket.receive(maxLength: Self.maxMessageLength, until: deadline) {
            if let response = try query.response(from: datagram) { return response }
        }
        throw .timeout
    }

    /// One TCP exchange, each message behind its two-octet length (RFC 1035 §4.2.2).
    private func exchangeOverTCP(_ query: DNSMessage, with server: DNSServerAddress) throws(DNSError) -> DNSMessage {
        let deadline = ContinuousClock.now + timeout
        let socket = try DNSSocket(for: server, type: SOCK_STREAM)
        try socket.connect(to: server, until: deadline)
        let encoded = query.encoded()
        var framed: [UInt8] = []
        framed.appendBigEndian(UInt16(encoded.count))
        try socket.send(framed + encoded, until: deadline)
        let lengthPrefix = try socket.receiveExactly(2, until: deadline)
        let length = Int(lengthPrefix[0]) << 8 | Int(lengthPrefix[1])
        let bytes = try socket.receiveExactly(length, until: deadline)
        guard let response = try query.response(from: bytes) else {
            throw .malformedResponse("TCP answer does not match the query")
        }
        return response
    }
}
