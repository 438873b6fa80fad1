/// The `name=value&…` pairs of a query string (`application/x-www-form-urlencoded`
/// rules: percent-decoding, and `+` is a space), in order, repeated names kept.
public struct HTTPQueryParameters: Sendable, Equatable, Sequence {
    public private(set) var pairs: [(name: String, value: String)]

    public init(query: String) {
        pairs = []
        for piece in query.utf8.split(separator: 0x26, omittingEmptySubsequences: true) {
            let equals = piece.firstIndex(of: 0x3D)
            let name = equals.map { piece[..<$0] } ?? piece
            let value = equals.map { piece[piece.index(after: $0)...] } ?? piece[piece.endIndex...]
            pairs.append((
                name: Self.decode(name, plusAsSpace: true),
                value: Self.decode(value, plusAsSpace: true)
            ))
        }
    }

    /// The first value of `name`, or nil when absent.
    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }

    public func values(for name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { pairs.makeIterator() }

    public static func == (lhs: HTTPQueryParameters, rhs: HTTPQueryParameters) -> Bool {
        lhs.pairs.count == rhs.pairs.count && zip(lhs.pairs, rhs.pairs).allSatisfy { $0 == $1 }
    }

    /// Percent-decodes `text` (RFC 3986 §2.1); a `%` not followed by two hex
    /// digits stays as it is, and bytes that are not UTF-8 become U+FFFD.
    public static func percentDecode(_ text: String, plusAsSpace: Bool = false) -> String {
        decode(Substring(text).utf8, plusAsSpace: plusAsSpace)
    }

    static func decode(_ encoded: Substring.UTF8View, plusAsSpace: Bool) -> String {
        guard encoded.contains(where: { $0 == 0x25 || (plusAsSpace && $0 == 0x2B) }) else {
            return String(Substring(encoded))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encoded.count)
        var index = encoded.startIndex
        while index != encoded.endIndex {
            let byte = encoded[index]
            index = encoded.index(after: index)
            if byte == 0x2B, plusAsSpace {
                bytes.append(0x20)
            } else if byte == 0x25, let high = encoded[index...].first.flatMap(HTTPSyntax.hexValue),
                let low = encoded[encoded.index(after: index)...].first.flatMap(HTTPSyntax.hexValue)
            {
                bytes.append(high << 4 | low)
                index = encoded.index(index, offsetBy: 2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
