import MailgateTesting
@testable import DNSClient

/// Bytes from a hex string such as a packet printed by dnslib's `pack().hex()`.
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { index in
        UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16)!
    }
}

func name(_ text: String) -> DNSName {
    try! DNSName(text)
}

func address(_ text: String) -> IPAddress {
    IPAddress(text)!
}

/// Packets captured from dnslib 0.9.26 (`DNSRecord.reply().pack().hex()`), which
/// compresses names the way production servers do.
enum CapturedPacket {
    /// Query id 0x1234 for `multi.test MX`, RD set, no EDNS.
    static let mxQuery = bytes(hex: "123401000001000000000000056d756c7469047465737400000f0001")

    /// Answer to `mxQuery`: MX 10 mx1.multi.test, 10 mx2.multi.test, 20 backup.example.org,
    /// and the additional A 192.0.2.10 for mx1.multi.test; every name but one is a pointer.
    static let mxResponse = bytes(hex:
        "123485800001000300000001056d756c7469047465737400000f0001c00c000f00010000012c0008000a036d7831c00c"
        + "c00c000f00010000012c0008000a036d7832c00cc00c000f00010000012c00160014066261636b7570076578616d706c"
        + "65036f726700c02a000100010000012c0004c000020a")

    /// Answer (id 0xBEEF) to `www.example.test AAAA`: CNAME web.example.test, two AAAA
    /// (2001:db8::1, 2001:db8::1:0:0:1) and an EDNS0 OPT record with a 1232-octet payload.
    static let aaaaResponse = bytes(hex:
        "beef8580000100030000000103777777076578616d706c65047465737400001c0001c00c000500010000003c0006037765"
        + "62c010c02e001c00010000003c001020010db8000000000000000000000001c02e001c00010000003c001020010db80000"
        + "0000000100000000000100002904d0000000000000")

    /// NXDOMAIN (id 7) for `gone.test MX`, with the SOA of `test` in the authority section.
    static let nxdomainResponse = bytes(hex:
        "00078583000100000001000004676f6e65047465737400000f0001c011000600010000003c0021026e73c0110561646d69"
        + "6ec0110000000100000002000000030000000400000005")
}
