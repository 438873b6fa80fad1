/// Multipart boundaries (RFC 2046 §5.1.1) that cannot occur in the content.
///
/// Every boundary starts with `=_`. Quoted-printable writes `=` only before
/// two hex digits or a line end, and base64 only as padding at the end, so
/// neither can contain `=_`; 7bit text that has a line starting with `--=_`
/// is sent quoted-printable instead (`TextTransferEncoding.choose`). So no
/// part can hold a delimiter line, whatever the random part is. The random
/// part (120 bits) keeps boundaries of different messages apart, and a
/// distinct letter after `=_` for each multipart keeps nested boundaries from
/// being prefixes of one another.
struct MIMEBoundary {
    /// Letters and digits that base64 and quoted-printable also use: harmless,
    /// since the `=_` prefix is what no encoded line can contain.
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
    private let random: [UInt8]
    private var nextLevel: UInt8 = 0x41

    init(using generator: inout some RandomNumberGenerator) {
        var random: [UInt8] = []
        random.reserveCapacity(24)
        for _ in 0..<2 {
            var bits = generator.next()
            for _ in 0..<12 {
                random.append(Self.alphabet[Int(bits & 0x1F)])
                bits >>= 5
            }
        }
        self.random = random
    }

    /// For a message without multiparts, which never asks for a boundary.
    static let unused = MIMEBoundary(random: [])

    private init(random: [UInt8]) {
        self.random = random
    }

    /// A new boundary for the next multipart: `=_A.` + 24 random characters.
    mutating func next() -> [UInt8] {
        var boundary: [UInt8] = [ASCII.equals, 0x5F, nextLevel, ASCII.dot]
        boundary.append(contentsOf: random)
        nextLevel += 1
        return boundary
    }
}
