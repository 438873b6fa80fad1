#if canImport(Glibc)
import Glibc
#endif

/// The system resolver's configuration file, read the way glibc reads it (resolv.conf(5)).
enum ResolvConf {
    static let defaultPath = "/etc/resolv.conf"
    /// glibc asks at most three name servers (MAXNS).
    static let maxServers = 3
    /// Larger files are not resolver configuration; reading stops there.
    static let maxFileSize = 64 * 1024

    /// The `nameserver` addresses of resolv.conf text, in file order, on port 53.
    /// Comment lines (`#`, `;`), other keywords and unparseable addresses are skipped.
    static func nameservers(in text: String) -> [DNSServerAddress] {
        var servers: [DNSServerAddress] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver",
                  let server = try? DNSServerAddress(host: String(fields[1])) else { continue }
            servers.append(server)
            if servers.count == maxServers { break }
        }
        return servers
    }

    /// The servers of the file at `path`; like glibc, the local host (127.0.0.1) when
    /// the file is missing or names none.
    static func nameservers(atPath path: String) -> [DNSServerAddress] {
        let servers = readFile(path).map(nameservers(in:)) ?? []
        guard servers.isEmpty, let loopback = try? DNSServerAddress(host: "127.0.0.1") else { return servers }
        return [loopback]
    }

    private static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while contents.count < maxFileSize {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            contents.append(contentsOf: chunk[..<count])
        }
        return String(decoding: contents, as: UTF8.self)
    }
}
