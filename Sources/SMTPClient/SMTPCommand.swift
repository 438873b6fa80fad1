/// The commands the client sends, rendered as the bytes that go on the wire.
enum SMTPCommand: Sendable, Hashable {
    case ehlo(String)
    case helo(String)
    case startTLS
    /// `AUTH PLAIN` with the initial response (RFC 4954 §4, RFC 4616).
    case authPlain(SMTPCredentials)
    /// `AUTH LOGIN`; user name and password follow as separate base64 lines.
    case authLogin
    /// A base64 line answering a 334 challenge.
    case authResponse(String)
    case mailFrom(String, parameters: [String])
    case recipient(String)
    case data
    case reset
    case quit

    var bytes: [UInt8] { Array(line.utf8) + [0x0D, 0x0A] }

    /// The phase a failure while waiting for this command's reply belongs to.
    var phase: SMTPPhase {
        switch self {
        case .ehlo: .ehlo
        case .helo: .helo
        case .startTLS: .startTLS
        case .authPlain, .authLogin, .authResponse: .authentication
        case .mailFrom: .mailFrom
        case .recipient: .recipient
        case .data: .data
        case .reset: .reset
        case .quit: .quit
        }
    }

    private var line: String {
        switch self {
        case .ehlo(let name): "EHLO \(name)"
        case .helo(let name): "HELO \(name)"
        case .startTLS: "STARTTLS"
        case .authPlain(let credentials):
            // RFC 4616: authorization identity (empty), NUL, user, NUL, password.
            "AUTH PLAIN " + Base64.encode([0] + Array(credentials.username.utf8) + [0] + Array(credentials.password.utf8))
        case .authLogin: "AUTH LOGIN"
        case .authResponse(let text): Base64.encode(Array(text.utf8))
        case .mailFrom(let sender, let parameters): (["MAIL FROM:<\(sender)>"] + parameters).joined(separator: " ")
        case .recipient(let recipient): "RCPT TO:<\(recipient)>"
        case .data: "DATA"
        case .reset: "RSET"
        case .quit: "QUIT"
        }
    }
}

/// Base64 (RFC 4648 §4) for AUTH, without pulling Foundation into the module.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let padded = Array(chunk) + Array(repeating: 0, count: 3 - chunk.count)
            let value = UInt32(padded[0]) << 16 | UInt32(padded[1]) << 8 | UInt32(padded[2])
            for position in 0..<4 {
                let sextet = Int(value >> (18 - 6 * UInt32(position)) & 0x3F)
                output.append(position <= chunk.count ? alphabet[sextet] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
