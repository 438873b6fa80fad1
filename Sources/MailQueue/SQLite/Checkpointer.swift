/// Copies the WAL back into the database file on a thread and connection of its
/// own, so that the writer never stops committing to do it. SQLite's automatic
/// checkpoint would run inside the COMMIT of whichever batch crossed the
/// threshold, reading and writing every page the WAL holds plus an fsync of the
/// database file, while that batch's callers wait.
///
/// Checkpoints are PASSIVE: they copy what no reader still needs and never block
/// the writer or the readers. Once one has copied the whole WAL, the writer's
/// next transaction starts the WAL over from its beginning, which keeps its size
/// bounded. A checkpoint syncs the WAL before copying and the database after, so
/// it never weakens what a commit made durable.
final class Checkpointer: Sendable {
    /// WAL length (frames of one page) past which the writer asks for a checkpoint:
    /// SQLite's own default for automatic checkpoints.
    static let requestFrames = 1_000
    /// WAL length past which the writer checkpoints itself, should this thread
    /// fall behind (readers holding old snapshots, a slow disk).
    static let writerFrames = 50_000

    private let requests = JobQueue<Void>()
    private let thread: DedicatedThread

    init(connection: SQLiteConnection) {
        let requests = self.requests
        thread = DedicatedThread(name: "mailgate-sqlite-checkpoint") {
            // Requests made while a checkpoint runs are served by the next one.
            while requests.takeAll() != nil {
                try? connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            }
            connection.close()
        }
    }

    /// Asks for a checkpoint soon; never blocks.
    func request() { _ = requests.enqueue(()) }

    func close() async {
        requests.close()
        await thread.finished()
    }
}
