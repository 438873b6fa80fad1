import CMailgatePQ
import Foundation

/// What went wrong talking to PostgreSQL: no connection, no answer in time, or an
/// error the server reported with its SQLSTATE. The kind and the SQLSTATE decide
/// whether callers see `.unavailable` (a 503) or a bug.
struct PostgresError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// No connection, or it broke: the server is down, restarting or unreachable.
        case connection
        /// The server did not answer before the deadline.
        case timeout
        /// The server answered with an error.
        case server
    }

    var kind: Kind
    var sqlState: String?
    var message: String

    init(kind: Kind, sqlState: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    var description: String {
        switch kind {
        case .connection, .timeout: "PostgreSQL: \(message)"
        case .server: "PostgreSQL error \(sqlState ?? "?"): \(message)"
        }
    }

    /// Conditions of the server, the network or other sessions, not of our SQL:
    /// connection failures (08), lack of resources such as a full disk (53),
    /// shutdowns and timeouts (57), I/O errors (58), deadlocks and serialization
    /// failures left after retries (40), a lock wait given up (55P03), and a
    /// read-only server (25006, a standby after a failover).
    var isEnvironmental: Bool {
        guard kind == .server, let sqlState else { return true }
        switch sqlState.prefix(2) {
        case "08", "53", "57", "58", "40": return true
        default: return sqlState == "55P03" || sqlState == "25006"
        }
    }

    /// A deadlock or serialization failure: the transaction may simply run again.
    var isTransient: Bool { sqlState == "40P01" || sqlState == "40001" }

    /// What the store's callers see; SQLSTATEs that are numbers (`23505`) keep it as the code.
    var storeError: StoreError {
        isEnvironmental ? .unavailable(description) : .database(code: Int32(sqlState ?? "") ?? 0, message: description)
    }
}

/// A statement parameter. Everything travels in libpq's text format except
/// `bytes` (a `bytea`, sent in binary so that content is never escaped).
enum PostgresValue: Sendable, Equatable {
    case null
    case text(String)
    case integer(Int64)
    case bool(Bool)
    case bytes([UInt8])
    /// A `text[]`, written as an array literal (nil elements are NULL).
    case textArray([String?])
    /// A `boolean[]`, written as an array literal.
    case boolArray([Bool])
    /// A `bigint[]`, written as an array literal (nil elements are NULL).
    case integerArray([Int64?])

    static func int(_ value: Int) -> PostgresValue { .integer(Int64(value)) }
    static func date(_ date: Date) -> PostgresValue { .integer(StoredTime.milliseconds(date)) }
    static func optional(_ value: String?) -> PostgresValue { value.map(PostgresValue.text) ?? .null }
    static func optional(_ value: Int?) -> PostgresValue { value.map(PostgresValue.int) ?? .null }
    static func optional(_ date: Date?) -> PostgresValue { date.map(PostgresValue.date) ?? .null }
}

/// Parameters laid out for `PQsendQueryPrepared`: one buffer holding every value
/// (text ones NUL-terminated), with each value's offset, length and format.
struct PostgresParameters {
    private var buffer: [UInt8] = []
    private var offsets: [Int?] = []
    private var lengths: [Int32] = []
    private var formats: [Int32] = []
    /// True when a text value holds a NUL byte: libpq would cut it there (text
    /// parameters are C strings), so the statement is refused instead, as the
    /// server refuses NUL in text.
    private(set) var containsNUL = false

    init(_ values: [PostgresValue]) {
        for value in values { append(value) }
        buffer.append(0)
    }

    private mutating func append(_ value: PostgresValue) {
        switch value {
        case .null:
            offsets.append(nil)
            lengths.append(0)
            formats.append(0)
        case .bytes(let bytes):
            offsets.append(buffer.count)
            buffer += bytes
            lengths.append(Int32(bytes.count))
            formats.append(1)
        case .text(let text): appendText(text.utf8)
        case .integer(let number): appendText(String(number).utf8)
        case .bool(let flag): appendText((flag ? "t" : "f").utf8)
        case .textArray(let strings): appendText(Self.arrayLiteral(strings).utf8)
        case .boolArray(let flags): appendText(("{" + flags.map { $0 ? "t" : "f" }.joined(separator: ",") + "}").utf8)
        case .integerArray(let numbers): appendText(("{" + numbers.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}").utf8)
        }
    }

    private mutating func appendText(_ text: String.UTF8View) {
        offsets.append(buffer.count)
        containsNUL = containsNUL || text.contains(0)
        buffer += text
        buffer.append(0)
        lengths.append(Int32(text.count))
        formats.append(0)
    }

    /// `{"a","b \"quoted\"",NULL}`: every element quoted, quotes and backslashes escaped.
    static func arrayLiteral(_ strings: [String?]) -> String {
        let elements = strings.map { element in
            guard let string = element else { return "NULL" }
            return "\"" + string.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return "{" + elements.joined(separator: ",") + "}"
    }

    /// Calls `body` with the count and the pointer, length and format arrays.
    func withArrays<T>(
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T
    ) -> T {
        buffer.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!)
            let pointers = offsets.map { offset in offset.map { (base + $0).assumingMemoryBound(to: CChar.self) } }
            return pointers.withUnsafeBufferPointer { pointerArray in
                lengths.withUnsafeBufferPointer { lengthArray in
                    formats.withUnsafeBufferPointer { formatArray in
                        body(Int32(offsets.count), pointerArray.baseAddress, lengthArray.baseAddress, formatArray.baseAddress)
                    }
                }
            }
        }
    }
}

/// One row of a result in libpq's text format; valid only inside the map closure.
struct PostgresRow {
    fileprivate let result: OpaquePointer
    fileprivate let index: Int32

    init(result: OpaquePointer, index: Int32) {
        self.result = result
        self.index = index
    }

    func isNull(_ column: Int32) -> Bool { PQgetisnull(result, index, column) != 0 }

    private func bytes(_ column: Int32) -> UnsafeBufferPointer<UInt8> {
        let count = Int(PQgetlength(result, index, column))
        guard let value = PQgetvalue(result, index, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: count)
    }

    func text(_ column: Int32) -> String { String(decoding: bytes(column), as: UTF8.self) }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    func int64(_ column: Int32) -> Int64 {
        var value: Int64 = 0
        var negative = false
        for byte in bytes(column) {
            if byte == UInt8(ascii: "-") { negative = true } else { value = value * 10 + Int64(byte &- 0x30) }
        }
        return negative ? -value : value
    }

    func int(_ column: Int32) -> Int { Int(int64(column)) }

    func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }

    func bool(_ column: Int32) -> Bool { bytes(column).first == UInt8(ascii: "t") }

    func date(_ column: Int32) -> Date { StoredTime.date(int64(column)) }

    func optionalDate(_ column: Int32) -> Date? { isNull(column) ? nil : date(column) }

    /// A `bytea` in the hex output format (`\x4142…`).
    func bytea(_ column: Int32) -> [UInt8] {
        let hex = bytes(column)
        guard hex.count >= 2 else { return [] }
        var decoded: [UInt8] = []
        decoded.reserveCapacity((hex.count - 2) / 2)
        var index = 2
        while index + 1 < hex.count {
            decoded.append(Self.nibble(hex[index]) << 4 | Self.nibble(hex[index + 1]))
            index += 2
        }
        return decoded
    }

    private static func nibble(_ digit: UInt8) -> UInt8 {
        digit <= UInt8(ascii: "9") ? digit &- UInt8(ascii: "0") : (digit | 0x20) &- UInt8(ascii: "a") &+ 10
    }

    /// A column holding one of our enums' raw values; anything else is corruption.
    func value<Value: RawRepresentable>(_ column: Int32, as type: Value.Type) throws(PostgresError) -> Value
    where Value.RawValue == String {
        let raw = text(column)
        guard let value = Value(rawValue: raw) else {
            throw PostgresError(kind: .server, sqlState: "XX001", message: "unexpected \(Value.self) \(raw.debugDescription)")
        }
        return value
    }
}
