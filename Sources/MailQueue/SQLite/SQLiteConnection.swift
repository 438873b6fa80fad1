import CMailgateSQLite

/// An error SQLite returned, with its extended result code (GRDB's `DatabaseError`
/// shape): the code decides whether the store answers 503 or reports a bug.
struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The extended result code (`SQLITE_IOERR_FSYNC`, …); `primaryCode` is its low byte.
    var code: Int32
    var message: String

    var primaryCode: Int32 { code & 0xFF }

    var description: String { "SQLite error \(code): \(message)" }

    /// Conditions of the disk or of other processes, not of our SQL: the store is
    /// unavailable for now (full disk, I/O error, a lock held past the busy timeout).
    var isEnvironmental: Bool {
        switch primaryCode {
        case SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN, SQLITE_NOMEM,
             SQLITE_READONLY, SQLITE_PROTOCOL, SQLITE_NOLFS, SQLITE_PERM:
            true
        default:
            false
        }
    }

    /// What the store's callers see.
    var storeError: StoreError {
        isEnvironmental ? .unavailable(description) : .database(code: code, message: message)
    }
}

/// A value bound to a statement parameter.
enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    static func int(_ value: Int) -> SQLiteValue { .integer(Int64(value)) }
    static func bool(_ value: Bool) -> SQLiteValue { .integer(value ? 1 : 0) }
    static func optional(_ value: String?) -> SQLiteValue { value.map(SQLiteValue.text) ?? .null }
    static func optional(_ value: Int?) -> SQLiteValue { value.map(SQLiteValue.int) ?? .null }
}

/// One SQLite database connection. It owns its `sqlite3*` handle and its prepared
/// statements, and frees them in `deinit`.
///
/// A connection is used by one thread at a time: it is opened by the store's
/// initialiser and then handed to the single worker thread that owns it for life,
/// hence `@unchecked Sendable`.
final class SQLiteConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]
    private var isOpen = true

    /// Opens (creating if needed) the database file at `path`.
    init(path: String) throws(SQLiteError) {
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard let opened else { throw SQLiteError(code: code, message: "cannot open \(path)") }
        guard code == SQLITE_OK else {
            let error = SQLiteError(code: sqlite3_extended_errcode(opened), message: String(cString: sqlite3_errmsg(opened)))
            sqlite3_close_v2(opened)
            throw error
        }
        handle = opened
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { close() }

    /// Finalizes the statements and closes the handle; the last connection to
    /// close checkpoints the WAL into the database and removes it. The thread that
    /// owns the connection calls this as it stops, so that closing the store is
    /// deterministic rather than left to whoever drops the last reference.
    func close() {
        guard isOpen else { return }
        isOpen = false
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs SQL text that may hold several statements and returns no rows
    /// (pragmas, schema scripts, transaction control).
    func execute(_ sql: String) throws(SQLiteError) {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw lastError(code) }
    }

    /// Runs one statement for its effect; returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        let statement = try prepared(sql)
        try statement.execute(values)
        return Int(sqlite3_changes(handle))
    }

    /// Runs one query and maps each row.
    func query<Row>(
        _ sql: String, _ values: [SQLiteValue] = [], _ map: (SQLiteRow) throws(SQLiteError) -> Row
    ) throws(SQLiteError) -> [Row] {
        try prepared(sql).rows(values, map)
    }

    /// The first row of a query, if any.
    func queryFirst<Row>(
        _ sql: String, _ values: [SQLiteValue] = [], _ map: (SQLiteRow) throws(SQLiteError) -> Row
    ) throws(SQLiteError) -> Row? {
        try prepared(sql).rows(values, limit: 1, map).first
    }

    /// Replaces SQLite's automatic checkpoints with `observer`, which learns the
    /// WAL's length in frames after every commit (`sqlite3_wal_hook`). The
    /// observer must outlive the connection.
    func observeWAL(_ observer: WALObserver) {
        sqlite3_wal_hook(handle, { context, _, _, frames in
            guard let context else { return SQLITE_OK }
            Unmanaged<WALObserver>.fromOpaque(context).takeUnretainedValue().frames = Int(frames)
            return SQLITE_OK
        }, Unmanaged.passUnretained(observer).toOpaque())
    }

    /// True while a transaction is open. SQLite rolls a transaction back by itself
    /// after some errors (SQLITE_FULL, SQLITE_IOERR, …); this tells the writer so.
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// A statement prepared once per connection and reused (SQLITE_PREPARE_PERSISTENT).
    private func prepared(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let statement = statements[sql] { return statement }
        var raw: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard code == SQLITE_OK, let raw else { throw lastError(code) }
        let statement = SQLiteStatement(raw, connection: self)
        statements[sql] = statement
        return statement
    }

    func lastError(_ code: Int32) -> SQLiteError {
        let extended = sqlite3_extended_errcode(handle)
        return SQLiteError(code: extended == 0 ? code : extended, message: String(cString: sqlite3_errmsg(handle)))
    }
}

/// The WAL's length after the last commit, as `sqlite3_wal_hook` reports it.
final class WALObserver {
    var frames = 0
}
