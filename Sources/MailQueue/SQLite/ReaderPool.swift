/// Reads on connections of their own, on threads of their own. In WAL mode
/// readers see the last committed state and never wait for the writer, nor it
/// for them; each read runs in one read transaction, so a message and its
/// recipients and events come from the same snapshot.
final class ReaderPool: Sendable {
    private typealias Job = @Sendable (SQLiteConnection) -> Void
    private let queue = JobQueue<Job>()
    private let threads: [DedicatedThread]

    /// Starts one thread per connection.
    init(connections: [SQLiteConnection]) {
        let queue = self.queue
        threads = connections.enumerated().map { index, connection in
            DedicatedThread(name: "mailgate-sqlite-reader-\(index)") {
                while let job = queue.takeOne() { job(connection) }
                connection.close()
            }
        }
    }

    /// Runs `body` in a read transaction on the next free reader; resumes the
    /// caller from that thread when it is done.
    func perform<T: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection) throws(SQLiteError) -> T
    ) async throws(StoreError) -> T {
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            let job: Job = { connection in
                continuation.resume(returning: Self.readTransaction(connection, body).mapError(\.storeError))
            }
            if !queue.enqueue(job) { continuation.resume(returning: .failure(.closed)) }
        }
        return try result.get()
    }

    /// Lets queued reads finish, then stops the threads (which closes the connections).
    func close() async {
        queue.close()
        for thread in threads { await thread.finished() }
    }

    private static func readTransaction<T>(
        _ connection: SQLiteConnection, _ body: (SQLiteConnection) throws(SQLiteError) -> T
    ) -> Result<T, SQLiteError> {
        do throws(SQLiteError) {
            try connection.execute("BEGIN")
            defer { try? connection.execute("COMMIT") }
            return .success(try body(connection))
        } catch {
            if connection.isInTransaction { try? connection.execute("ROLLBACK") }
            return .failure(error)
        }
    }
}
