import Foundation
import Synchronization

/// Opens connections for the pool's threads: the URL with the store's timeouts
/// and session settings, and a shared back-off so that, while the server is down,
/// a failed attempt is not repeated by every thread for every job (callers get
/// `.unavailable` at once for a second, then the next job tries again).
final class PostgresConnector: Sendable {
    /// How long after a failed attempt the next one waits.
    static let retryInterval = Duration.seconds(1)

    private let parameters: [(String, String)]
    private let connectTimeout: Duration
    private let statementTimeout: Duration
    private let sessionSettings: String
    /// The URL's password, as written and decoded: scrubbed from libpq's messages
    /// (one about a malformed URL can quote part of it), which end up in logs.
    private let secrets: [String]
    private let lastFailure = Mutex<(at: ContinuousClock.Instant, error: PostgresError)?>(nil)

    /// `url` goes to libpq as written (a URL or `key=value` pairs); its own settings
    /// override the defaults given here.
    init(url: String, applicationName: String, connectTimeout: Duration, statementTimeout: Duration) {
        // libpq wants whole seconds, at least 2; the poll deadline is the real bound.
        let seconds = max(2, Int(connectTimeout.components.seconds))
        parameters = [
            ("connect_timeout", String(seconds)),
            ("application_name", applicationName),
            ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"), ("keepalives_count", "3"),
            ("tcp_user_timeout", String(Int(statementTimeout.components.seconds) * 1000 + 1000)),
            ("dbname", url),
        ]
        let components = URLComponents(string: url)
        secrets = [components?.percentEncodedPassword, components?.password].compactMap { $0 }.filter { !$0.isEmpty }
        self.connectTimeout = connectTimeout
        // The client waits a little longer than the server, so that the server's own
        // timeout (an error that leaves the connection usable) normally comes first.
        self.statementTimeout = statementTimeout + .seconds(2)
        let milliseconds = Int(statementTimeout.components.seconds) * 1000 + Int(statementTimeout.components.attoseconds / 1_000_000_000_000_000)
        // A 202 goes out after COMMIT returns, so COMMIT must wait for the WAL flush:
        // a server configured with synchronous_commit=off is overridden for our sessions.
        sessionSettings = """
            SET statement_timeout = \(milliseconds);
            SET idle_in_transaction_session_timeout = \(max(60_000, milliseconds * 3));
            SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off';
            """
    }

    /// A new connection with the session settings applied.
    func connect() throws(PostgresError) -> PostgresConnection {
        if let last = lastFailure.withLock({ $0 }), ContinuousClock.now - last.at < Self.retryInterval {
            throw last.error
        }
        do throws(PostgresError) {
            let connection = try PostgresConnection(
                parameters: parameters, connectTimeout: connectTimeout, statementTimeout: statementTimeout)
            try connection.execute(sessionSettings)
            lastFailure.withLock { $0 = nil }
            return connection
        } catch {
            var scrubbed = error
            for secret in secrets { scrubbed.message = scrubbed.message.replacingOccurrences(of: secret, with: "****") }
            lastFailure.withLock { [scrubbed] in $0 = (ContinuousClock.now, scrubbed) }
            throw scrubbed
        }
    }
}

/// A pool thread's connection: opened on first use, and opened again after it broke.
/// Owned by one thread.
final class PostgresSession {
    private let connector: PostgresConnector
    private var current: PostgresConnection?

    init(connector: PostgresConnector) {
        self.connector = connector
    }

    /// The open connection, and whether it was already open before this call (a
    /// reused connection may have died with a server restart unnoticed).
    func connection() throws(PostgresError) -> (connection: PostgresConnection, reused: Bool) {
        if let current, !current.isBroken { return (current, true) }
        current?.close()
        current = nil
        let opened = try connector.connect()
        current = opened
        return (opened, false)
    }

    func close() {
        current?.close()
        current = nil
    }
}

/// Reads on connections of their own, each owned by a thread of its own (libpq
/// calls block: they stay off Swift's cooperative pool). Each read is one
/// statement, or with `snapshot` a read-only REPEATABLE READ transaction, so that a
/// message, its recipients and its events come from one snapshot.
final class PostgresReaderPool: Sendable {
    private typealias Job = @Sendable (PostgresSession) -> Void
    private let queue = JobQueue<Job>()
    private let threads: [DedicatedThread]

    init(connector: PostgresConnector, count: Int) {
        let queue = self.queue
        threads = (0..<max(1, count)).map { index in
            DedicatedThread(name: "mailgate-pg-reader-\(index)") {
                let session = PostgresSession(connector: connector)
                while let job = queue.takeOne() { job(session) }
                session.close()
            }
        }
    }

    func perform<T: Sendable>(
        snapshot: Bool = false, _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> T
    ) async throws(StoreError) -> T {
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            let job: Job = { session in
                continuation.resume(returning: Self.read(session, snapshot: snapshot, body).mapError(\.storeError))
            }
            if !queue.enqueue(job) { continuation.resume(returning: .failure(.closed)) }
        }
        return try result.get()
    }

    func close() async {
        queue.close()
        for thread in threads { await thread.finished() }
    }

    /// Runs `body`; a pooled connection found dead (the server restarted since its
    /// last use) is replaced and the read tried once more.
    private static func read<T>(
        _ session: PostgresSession, snapshot: Bool, _ body: (PostgresConnection) throws(PostgresError) -> T
    ) -> Result<T, PostgresError> {
        var attempts = 0
        while true {
            attempts += 1
            let connection: PostgresConnection
            let reused: Bool
            do throws(PostgresError) { (connection, reused) = try session.connection() } catch { return .failure(error) }
            do throws(PostgresError) {
                if snapshot { try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") }
                let value = try body(connection)
                if snapshot { try connection.execute("COMMIT") }
                return .success(value)
            } catch {
                if connection.isInTransaction { try? connection.execute("ROLLBACK") }
                guard error.kind == .connection, reused, attempts == 1 else { return .failure(error) }
            }
        }
    }
}
