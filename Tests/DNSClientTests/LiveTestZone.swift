#if canImport(Glibc)
import Glibc
#endif
@testable import DNSClient
import MailgateTesting

/// The zone every live test's server answers from (format: `dns_server.py`).
let liveTestZone = """
    {
      "multi.test": {"MX": [[10, "mx1.multi.test"], [10, "mx2.multi.test"], [20, "mx3.multi.test"]]},
      "null.test": {"MX": [[0, "."]]},
      "fail.test": {"rcode": "SERVFAIL"},
      "refused.test": {"rcode": "REFUSED"},
      "amail.test": {"A": ["127.0.0.1", "127.0.0.2"]},
      "dual.test": {"AAAA": ["::1"], "A": ["127.0.0.2"]},
      "v6only.test": {"AAAA": ["::1", "2001:db8::5"]},
      "alias.test": {"CNAME": "alias2.test"},
      "alias2.test": {"CNAME": "dual.test"},
      "mxalias.test": {"CNAME": "multi.test"},
      "dangling.test": {"CNAME": "gone.test"},
      "big.test": {"truncate": true, "MX": [[5, "mx.big.test"]]},
      "odd.test": {"mismatch_first": true, "A": ["127.0.0.3"]},
      "broken.test": {"malformed": true},
      "old.test": {"formerr_with_edns": true, "MX": [[1, "mx.old.test"]]},
      "slowv6.test": {"A": ["127.0.0.5"], "drop": ["AAAA"]},
      "deadv4.test": {"AAAA": ["::5"], "drop": ["A"]},
      "failv4.test": {"AAAA": ["::6"], "rcode": {"A": "SERVFAIL"}},
      "silent.test": {"drop": true}
    }
    """

/// Long enough for a loaded machine to answer.
let liveTimeout: Duration = .seconds(3)
/// For tests where one server or one query stays silent and another must still answer.
let mixedTimeout: Duration = .milliseconds(1500)
/// For tests where nothing answers at all.
let silenceTimeout: Duration = .milliseconds(150)

extension DNSTestServer {
    /// A server on 127.0.0.1 with `liveTestZone`, or silent.
    static func live(silent: Bool = false, host: String = "127.0.0.1") throws -> DNSTestServer {
        try DNSTestServer(zone: liveTestZone, host: host, silent: silent)
    }

    var serverAddress: DNSServerAddress {
        get throws { try DNSServerAddress.parse(address) }
    }

    func resolver(timeout: Duration = liveTimeout, attempts: Int = 2) throws -> DNSResolver {
        DNSResolver(servers: [try serverAddress], timeout: timeout, attempts: attempts)
    }

    func queries(for name: String) -> [Query] {
        queries().filter { $0.name.lowercased() == name }
    }
}

/// A loopback UDP port with nobody listening: bound, read, and closed again.
func closedUDPPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            _ = bind(fd, pointer, length)
            _ = getsockname(fd, pointer, &length)
        }
    }
    return UInt16(bigEndian: address.sin_port)
}
