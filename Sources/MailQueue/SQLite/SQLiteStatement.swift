import CMailgateSQLite
import Foundation

/// A prepared statement, owned by its connection's cache and reset after each use
/// so that it holds no read snapshot or lock between uses.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private unowned let connection: SQLiteConnection

    init(_ handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    /// Steps through to the end, ignoring any rows.
    func execute(_ values: [SQLiteValue]) throws(SQLiteError) {
        _ = try rows(values, limit: 0) { _ in () }
    }

    /// Binds `values`, steps, and maps up to `limit` rows (all when nil). With
    /// `limit` 0 it steps to the end without mapping, as statements run for their
    /// effect must (an UPDATE … RETURNING applies as it is stepped).
    func rows<Row>(
        _ values: [SQLiteValue], limit: Int? = nil, _ map: (SQLiteRow) throws(SQLiteError) -> Row
    ) throws(SQLiteError) -> [Row] {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        try bind(values)
        var result: [Row] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return result }
            guard code == SQLITE_ROW else { throw connection.lastError(code) }
            if let limit, result.count >= limit {
                if limit == 0 { continue }
                return result
            }
            result.append(try map(SQLiteRow(handle: handle)))
        }
    }

    private func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32 =
                switch value {
                case .null: sqlite3_bind_null(handle, index)
                case .integer(let number): sqlite3_bind_int64(handle, index, number)
                case .text(let text): sqlite3_bind_text(handle, index, text, -1, cmg_sqlite_transient())
                case .blob(let bytes):
                    bytes.withUnsafeBytes { buffer in
                        sqlite3_bind_blob64(handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(buffer.count), cmg_sqlite_transient())
                    }
                }
            guard code == SQLITE_OK else { throw connection.lastError(code) }
        }
    }
}

/// The current row of a stepping statement; valid only inside the map closure.
struct SQLiteRow {
    fileprivate let handle: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }

    func bool(_ column: Int32) -> Bool { sqlite3_column_int64(handle, column) != 0 }

    func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    func date(_ column: Int32) -> Date { StoredTime.date(int64(column)) }

    func optionalDate(_ column: Int32) -> Date? { isNull(column) ? nil : date(column) }

    /// A column holding one of our enums' raw values; anything else is corruption.
    func value<Value: RawRepresentable>(_ column: Int32, as type: Value.Type) throws(SQLiteError) -> Value
    where Value.RawValue == String {
        let raw = text(column)
        guard let value = Value(rawValue: raw) else {
            throw SQLiteError(code: SQLITE_CORRUPT, message: "unexpected \(Value.self) \(raw.debugDescription)")
        }
        return value
    }
}

/// Times are stored as integer milliseconds since 1970, which sort and compare in
/// SQL (and map to PostgreSQL's `bigint` as they are).
enum StoredTime {
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

extension SQLiteValue {
    static func date(_ date: Date) -> SQLiteValue { .integer(StoredTime.milliseconds(date)) }
    static func optional(_ date: Date?) -> SQLiteValue { date.map(SQLiteValue.date) ?? .null }
}
