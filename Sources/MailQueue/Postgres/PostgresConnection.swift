import CMailgatePQ
import Foundation

/// One PostgreSQL connection through libpq. It owns its `PGconn` and the names of
/// the statements it prepared, and is used by one thread at a time (the pool thread
/// that opened it), hence `@unchecked Sendable`.
///
/// Every call is bounded: libpq runs in non-blocking mode and this class waits on
/// the socket with `poll(2)` until a deadline, so a server that stops answering
/// (stopped, paused, behind a dropped network) costs a timeout, never a hung
/// thread. A connection that timed out or lost its server is closed for good
/// (`isBroken`); the pool opens a new one.
final class PostgresConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statementNames: [String: String] = [:]
    private let statementTimeout: Duration

    /// Connects with `parameters` (libpq keywords; a `dbname` holding a URL is
    /// expanded), giving up after `connectTimeout`.
    init(parameters: [(String, String)], connectTimeout: Duration, statementTimeout: Duration) throws(PostgresError) {
        self.statementTimeout = statementTimeout
        let deadline = ContinuousClock.now + connectTimeout
        let started = CStringArray(parameters.map(\.0)).withPointers { keywords in
            CStringArray(parameters.map(\.1)).withPointers { values in PQconnectStartParams(keywords, values, 1) }
        }
        guard let connection = started else { throw PostgresError(kind: .connection, message: "libpq could not allocate a connection") }
        do throws(PostgresError) {
            try Self.finishConnecting(connection, until: deadline)
        } catch {
            PQfinish(connection)
            throw error
        }
        PQsetnonblocking(connection, 1)
        cmg_pq_silence_notices(connection)
        handle = connection
    }

    deinit { close() }

    /// Drives libpq's non-blocking connect (`PQconnectPoll`) until it is done or the deadline passes.
    private static func finishConnecting(_ connection: OpaquePointer, until deadline: ContinuousClock.Instant) throws(PostgresError) {
        guard PQstatus(connection) != CONNECTION_BAD else { throw connectionFailure(connection) }
        var polling = PGRES_POLLING_WRITING
        while polling != PGRES_POLLING_OK {
            switch polling {
            case PGRES_POLLING_FAILED: throw connectionFailure(connection)
            case PGRES_POLLING_READING: try wait(connection, for: Int16(POLLIN), until: deadline, doing: "connecting")
            default: try wait(connection, for: Int16(POLLOUT), until: deadline, doing: "connecting")
            }
            polling = PQconnectPoll(connection)
        }
    }

    /// Closes the connection; later calls fail as `.connection`.
    func close() {
        guard let handle else { return }
        PQfinish(handle)
        self.handle = nil
        statementNames.removeAll()
    }

    /// True once the connection timed out, lost its server or was closed.
    var isBroken: Bool {
        guard let handle else { return true }
        return PQstatus(handle) == CONNECTION_BAD
    }

    /// True while a transaction block is open (also after an error aborted it).
    var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    // MARK: Statements

    /// Runs SQL text without parameters, possibly several statements (transaction
    /// control, settings, migration scripts), through the simple query protocol.
    func execute(_ sql: String) throws(PostgresError) {
        let connection = try open()
        _ = try exchange(connection) { PQsendQuery(connection, sql) }
    }

    /// Runs one statement for its effect; returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [PostgresValue] = []) throws(PostgresError) -> Int {
        guard let result = try executePrepared(sql, values) else { return 0 }
        return Int(String(cString: PQcmdTuples(result.handle))) ?? 0
    }

    /// Runs one statement and maps each row it returns.
    func query<Row>(
        _ sql: String, _ values: [PostgresValue] = [], _ map: (PostgresRow) throws(PostgresError) -> Row
    ) throws(PostgresError) -> [Row] {
        guard let result = try executePrepared(sql, values) else { return [] }
        var rows: [Row] = []
        let count = PQntuples(result.handle)
        rows.reserveCapacity(Int(count))
        for index in 0..<count {
            rows.append(try map(PostgresRow(result: result.handle, index: index)))
        }
        return rows
    }

    /// The first row a statement returns, if any.
    func queryFirst<Row>(
        _ sql: String, _ values: [PostgresValue] = [], _ map: (PostgresRow) throws(PostgresError) -> Row
    ) throws(PostgresError) -> Row? {
        try query(sql, values, map).first
    }

    /// Prepares `sql` once per connection (under a generated name), then executes it
    /// with text parameters (binary for `bytea`).
    private func executePrepared(_ sql: String, _ values: [PostgresValue]) throws(PostgresError) -> PostgresResult? {
        let connection = try open()
        let name: String
        if let known = statementNames[sql] {
            name = known
        } else {
            name = "mailgate_\(statementNames.count + 1)"
            _ = try exchange(connection) { PQsendPrepare(connection, name, sql, 0, nil) }
            statementNames[sql] = name
        }
        let parameters = PostgresParameters(values)
        guard !parameters.containsNUL else {
            throw PostgresError(kind: .server, sqlState: "22021", message: "a text value holds a NUL byte, which PostgreSQL text cannot store")
        }
        return try exchange(connection) {
            parameters.withArrays { count, pointers, lengths, formats in
                PQsendQueryPrepared(connection, name, count, pointers, lengths, formats, 0)
            }
        }
    }

    private func open() throws(PostgresError) -> OpaquePointer {
        guard let handle, PQstatus(handle) != CONNECTION_BAD else {
            throw PostgresError(kind: .connection, message: "the connection to PostgreSQL is closed")
        }
        return handle
    }

    /// Sends one request and reads every result it produces, within the statement
    /// deadline. Returns the last successful result; throws the first error. A
    /// timeout or a lost connection closes the connection, whose state is unknown.
    private func exchange(_ connection: OpaquePointer, send: () -> Int32) throws(PostgresError) -> PostgresResult? {
        let deadline = ContinuousClock.now + statementTimeout
        do throws(PostgresError) {
            guard send() == 1 else { throw Self.connectionFailure(connection) }
            try flush(connection, until: deadline)
            return try results(connection, until: deadline)
        } catch {
            if error.kind != .server || PQstatus(connection) == CONNECTION_BAD { close() }
            throw error
        }
    }

    private func flush(_ connection: OpaquePointer, until deadline: ContinuousClock.Instant) throws(PostgresError) {
        while true {
            switch PQflush(connection) {
            case 0: return
            case 1:
                try Self.wait(connection, for: Int16(POLLIN | POLLOUT), until: deadline, doing: "sending")
                guard PQconsumeInput(connection) == 1 else { throw Self.connectionFailure(connection) }
            default: throw Self.connectionFailure(connection)
            }
        }
    }

    private func results(_ connection: OpaquePointer, until deadline: ContinuousClock.Instant) throws(PostgresError) -> PostgresResult? {
        var kept: PostgresResult?
        var failure: PostgresError?
        while true {
            while PQisBusy(connection) != 0 {
                try Self.wait(connection, for: Int16(POLLIN), until: deadline, doing: "waiting for an answer")
                guard PQconsumeInput(connection) == 1 else { throw Self.connectionFailure(connection) }
            }
            guard let raw = PQgetResult(connection) else { break }
            let result = PostgresResult(raw)
            let status = PQresultStatus(raw)
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
                kept = result
            } else if failure == nil {
                failure = Self.serverFailure(raw, connection)
            }
        }
        if let failure { throw failure }
        return kept
    }

    /// Waits until the socket is ready for `events`, or throws `.timeout` at the deadline.
    private static func wait(
        _ connection: OpaquePointer, for events: Int16, until deadline: ContinuousClock.Instant, doing what: String
    ) throws(PostgresError) {
        let socket = PQsocket(connection)
        guard socket >= 0 else { throw connectionFailure(connection) }
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                throw PostgresError(kind: .timeout, message: "PostgreSQL did not answer in time (\(what))")
            }
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let ready = poll(&descriptor, 1, remaining.roundedUpMilliseconds)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                throw PostgresError(kind: .connection, message: "poll failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func connectionFailure(_ connection: OpaquePointer) -> PostgresError {
        PostgresError(kind: .connection, message: errorMessage(connection))
    }

    private static func serverFailure(_ result: OpaquePointer, _ connection: OpaquePointer) -> PostgresError {
        let state = PQresultErrorField(result, cmg_pq_diag_sqlstate()).map { String(cString: $0) }
        let text = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
        let message = text.isEmpty ? errorMessage(connection) : text
        let lost = PQstatus(connection) == CONNECTION_BAD
        return PostgresError(kind: lost ? .connection : .server, sqlState: state, message: message.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private static func errorMessage(_ connection: OpaquePointer) -> String {
        let text = PQerrorMessage(connection).map { String(cString: $0) } ?? ""
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "the connection to PostgreSQL failed" : trimmed
    }
}

/// A `PGresult`, cleared when dropped.
final class PostgresResult {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { PQclear(handle) }
}

/// NUL-terminated copies of strings, as libpq's keyword/value arrays want them.
private struct CStringArray {
    let strings: [String]

    init(_ strings: [String]) { self.strings = strings }

    func withPointers<T>(_ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
        let copies = strings.map { strdup($0) } + [nil]
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

extension Duration {
    /// Whole milliseconds, rounded up (so a wait never ends early), for `poll(2)`.
    var roundedUpMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(0, milliseconds))
    }
}
