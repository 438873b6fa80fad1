import Foundation
import Testing
@testable import MailQueue

/// The PostgreSQL server the tests use, if `MAILGATE_TEST_DATABASE_URL` names one
/// (e.g. `postgres://mailgate@127.0.0.1:PORT/postgres`, as `.ci/postgres start`
/// prints). Each test gets a database of its own, `mailgate_test_…`; they are not
/// dropped (DROP DATABASE forces a checkpoint, over a second each): the private
/// cluster is thrown away after the run.
enum PostgresTestServer {
    static let url: String? = ProcessInfo.processInfo.environment["MAILGATE_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// Why the PostgreSQL tests are skipped, shown by Swift Testing.
    static let skipNote: Comment = "MAILGATE_TEST_DATABASE_URL is not set: the PostgreSQL store tests are skipped (.ci/postgres start makes a server)"

    /// At most this many test databases are in use at once, so that parallel tests
    /// stay within the server's connections.
    private static let slots = AsyncSemaphore(8)

    /// Store settings for tests: short timeouts, so that a failure shows quickly.
    static func configuration(url: String, queueLimit: Int = SQLiteQueueStore.defaultQueueLimit, writers: Int = 2) -> PostgresQueueStore.Configuration {
        PostgresQueueStore.Configuration(
            url: url, queueLimit: queueLimit, writerConnections: writers, readerConnections: 2,
            connectTimeout: .seconds(5), statementTimeout: .seconds(10), applicationName: "mailgate-tests")
    }

    /// Creates a fresh database and runs `body` with its URL.
    static func withDatabase(_ body: (String) async throws -> Void) async throws {
        await slots.wait()
        do {
            try await body(try createDatabase())
        } catch {
            await slots.signal()
            throw error
        }
        await slots.signal()
    }

    /// A new empty database on the server; returns its URL.
    static func createDatabase() throws -> String {
        let server = try #require(url, "MAILGATE_TEST_DATABASE_URL is not set")
        let name = "mailgate_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let connection = try PostgresConnection(
            parameters: [("dbname", server)], connectTimeout: .seconds(10), statementTimeout: .seconds(60))
        defer { connection.close() }
        try connection.execute("CREATE DATABASE \(name)")
        return try databaseURL(server, name: name)
    }

    /// `server` with its path replaced by `/name`.
    static func databaseURL(_ server: String, name: String) throws -> String {
        var components = try #require(URLComponents(string: server), "MAILGATE_TEST_DATABASE_URL is not a URL")
        components.path = "/\(name)"
        return try #require(components.string)
    }

    /// Runs SQL on the database at `url` over a connection of its own (checks behind the store's back).
    static func withConnection<T>(_ url: String, _ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try PostgresConnection(parameters: [("dbname", url)], connectTimeout: .seconds(10), statementTimeout: .seconds(60))
        defer { connection.close() }
        return try body(connection)
    }
}

/// A counting semaphore for async code.
actor AsyncSemaphore {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { available = count }

    func wait() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func signal() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
