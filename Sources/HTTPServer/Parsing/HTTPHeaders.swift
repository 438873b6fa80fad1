/// An ordered list of header fields with case-insensitive lookup (RFC 9110 §5).
///
/// Repeated fields stay separate and in arrival order (`values(for:)`), as
/// RFC 9110 §5.3 requires for fields such as `Set-Cookie`. The fields live in one
/// byte buffer with offsets beside it, so a parsed request costs two allocations
/// however many headers it has, and strings are only made for the fields a
/// handler actually reads.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// Where one field's name and value sit in `storage`.
    struct Field: Sendable {
        var nameStart: Int32
        var nameCount: Int32
        var valueStart: Int32
        var valueCount: Int32
    }

    private(set) var storage: [UInt8]
    private(set) var fields: [Field]

    public init() {
        storage = []
        fields = []
    }

    public init(_ pairs: [(name: String, value: String)]) {
        self.init()
        for pair in pairs { add(name: pair.name, value: pair.value) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init()
        for (name, value) in elements { add(name: name, value: value) }
    }

    /// Headers over bytes the parser has already validated.
    init(storage: [UInt8], fields: [Field]) {
        self.storage = storage
        self.fields = fields
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    /// The first value of the field `name` (any case), or nil.
    public subscript(name: String) -> String? {
        firstIndex(of: name).map(value(at:))
    }

    /// Every value of the field `name`, in the order received.
    public func values(for name: String) -> [String] {
        indices(of: name).map(value(at:))
    }

    public func contains(_ name: String) -> Bool { firstIndex(of: name) != nil }

    /// Appends a field. Bytes that would break the message framing are replaced
    /// (a non-token byte in the name by `-`, a control character in the value by a
    /// space), so that whatever a handler sets, the response stays well formed and
    /// no header can be injected.
    public mutating func add(name: String, value: String) {
        if fields.isEmpty { fields.reserveCapacity(4) }
        let nameStart = storage.count
        appendSanitized(name, keeping: HTTPSyntax.isTokenByte, replacement: 0x2D)
        if storage.count == nameStart { storage.append(0x2D) }
        let valueStart = storage.count
        appendSanitized(value, keeping: HTTPSyntax.isFieldValueByte, replacement: HTTPSyntax.space)
        fields.append(Field(
            nameStart: Int32(nameStart), nameCount: Int32(valueStart - nameStart),
            valueStart: Int32(valueStart), valueCount: Int32(storage.count - valueStart)
        ))
    }

    /// Appends `text`, replacing the bytes `keeping` refuses; the common
    /// all-valid case is one bulk copy.
    private mutating func appendSanitized(_ text: String, keeping: (UInt8) -> Bool, replacement: UInt8) {
        var text = text
        text.withUTF8 { bytes in
            var valid = true
            for byte in bytes where !keeping(byte) {
                valid = false
                break
            }
            if valid {
                storage.append(contentsOf: bytes)
            } else {
                for byte in bytes { storage.append(keeping(byte) ? byte : replacement) }
            }
        }
    }

    /// Removes every field `name` and appends one with `value`.
    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    /// Removes every field called `name` (any case).
    public mutating func remove(name: String) {
        let doomed = indices(of: name)
        guard !doomed.isEmpty else { return }
        var kept = HTTPHeaders()
        for index in fields.indices where !doomed.contains(index) {
            kept.add(name: self.name(at: index), value: value(at: index))
        }
        self = kept
    }

    public func makeIterator() -> AnyIterator<(name: String, value: String)> {
        var index = 0
        return AnyIterator {
            guard index < fields.count else { return nil }
            defer { index += 1 }
            return (name: name(at: index), value: value(at: index))
        }
    }

    public var description: String {
        "[" + map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "]"
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in lhs.fields.indices {
            guard lhs.name(at: index) == rhs.name(at: index), lhs.value(at: index) == rhs.value(at: index) else {
                return false
            }
        }
        return true
    }

    // MARK: - Byte-level access for the parser and the response writer

    func name(at index: Int) -> String {
        withName(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    func value(at index: Int) -> String {
        withValue(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    func withName<Result>(at index: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let field = fields[index]
        return storage.withUnsafeBytes {
            body(UnsafeRawBufferPointer(rebasing: $0[Int(field.nameStart)..<Int(field.nameStart + field.nameCount)]))
        }
    }

    func withValue<Result>(at index: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let field = fields[index]
        return storage.withUnsafeBytes {
            body(UnsafeRawBufferPointer(rebasing: $0[Int(field.valueStart)..<Int(field.valueStart + field.valueCount)]))
        }
    }

    private func firstIndex(of name: String) -> Int? {
        var name = name
        return name.withUTF8 { wanted in
            fields.indices.first { index in
                withName(at: index) { HTTPSyntax.equalsIgnoringCase($0, UnsafeRawBufferPointer(wanted)) }
            }
        }
    }

    private func indices(of name: String) -> [Int] {
        var name = name
        return name.withUTF8 { wanted in
            fields.indices.filter { index in
                withName(at: index) { HTTPSyntax.equalsIgnoringCase($0, UnsafeRawBufferPointer(wanted)) }
            }
        }
    }
}
