extension DNSMessage {
    /// Decodes `bytes` if they are the response to this query, nil if they are some
    /// other packet to ignore (RFC 5452 §4.1: the id and the question must match).
    ///
    /// A packet with our id that does not decode throws, as the server is broken.
    /// A truncated response is decoded only up to its question: the rest may be cut
    /// anywhere, and it will be asked again over TCP anyway.
    func response(from bytes: [UInt8]) throws(DNSError) -> DNSMessage? {
        guard bytes.count >= Self.headerLength, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == header.id else {
            return nil
        }
        let truncated = DNSHeader(id: header.id, flags: UInt16(bytes[2]) << 8 | UInt16(bytes[3])).isTruncated
        let response = try DNSMessage.decode(bytes, throughQuestions: truncated)
        guard response.header.isResponse, response.header.opcode == header.opcode else { return nil }
        // RFC 6891 §7: a server that does not know EDNS may answer FORMERR without
        // echoing the question; it is still the answer to this query.
        if response.questions.isEmpty && UInt16(response.header.responseCode) == DNSResponseCode.formatError {
            return response
        }
        return response.questions == questions ? response : nil
    }
}
