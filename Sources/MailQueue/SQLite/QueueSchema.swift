/// The queue's tables, as numbered migrations applied in order at open, each in
/// its own transaction together with the version bump (`PRAGMA user_version`, which
/// lives in the database header and so commits or rolls back with it).
///
/// Times are integer milliseconds since 1970. Final recipients and settled events
/// have NULL due times, so the partial "due" indexes hold only live work and a
/// claim is an index range scan however much history the tables keep.
enum QueueSchema {
    static let migrations: [String] = [version1]

    static var currentVersion: Int { migrations.count }

    /// Brings the database to `currentVersion`; refuses one written by a newer mailgate.
    static func migrate(_ connection: SQLiteConnection) throws(StoreError) {
        let found: Int
        do throws(SQLiteError) { found = try version(connection) } catch { throw error.storeError }
        guard found <= currentVersion else {
            throw .unavailable("the queue's schema version \(found) is newer than this mailgate's \(currentVersion)")
        }
        for (index, script) in migrations.enumerated() where index >= found {
            do throws(SQLiteError) {
                try connection.execute("BEGIN IMMEDIATE")
                // Another process (an admin command) may have migrated meanwhile.
                if try version(connection) <= index {
                    try connection.execute(script)
                    try connection.execute("PRAGMA user_version = \(index + 1)")
                }
                try connection.execute("COMMIT")
            } catch {
                if connection.isInTransaction { try? connection.execute("ROLLBACK") }
                throw error.storeError
            }
        }
    }

    private static func version(_ connection: SQLiteConnection) throws(SQLiteError) -> Int {
        try connection.queryFirst("PRAGMA user_version") { $0.int(0) } ?? 0
    }

    /// Messages and their content (apart, so that listing reads small rows),
    /// recipients (the unit of delivery), the event outbox and idempotency keys.
    private static let version1 = """
        CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            send_at INTEGER,
            envelope_from TEXT NOT NULL,
            from_display TEXT NOT NULL,
            subject TEXT,
            tags TEXT NOT NULL,
            metadata TEXT NOT NULL,
            webhook_url TEXT,
            requires_smtputf8 INTEGER NOT NULL,
            requires_8bitmime INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX messages_by_status ON messages (status, id);

        CREATE TABLE message_contents (
            message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
            content BLOB NOT NULL
        );

        CREATE TABLE recipients (
            id INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            email TEXT NOT NULL,
            domain TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            claimable_at INTEGER,
            queued_since INTEGER NOT NULL,
            has_deferred INTEGER NOT NULL DEFAULT 0,
            last_code INTEGER,
            last_enhanced_code TEXT,
            last_message TEXT,
            last_host TEXT,
            updated_at INTEGER NOT NULL,
            lease_owner TEXT,
            lease_expires_at INTEGER
        );
        CREATE INDEX recipients_by_message ON recipients (message_id, position);
        CREATE INDEX recipients_claimable ON recipients (claimable_at) WHERE claimable_at IS NOT NULL;
        CREATE INDEX recipients_by_status ON recipients (status, queued_since);

        CREATE TABLE events (
            id TEXT PRIMARY KEY,
            message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            recipient_id INTEGER NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
            recipient TEXT NOT NULL,
            type TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            delivery_attempt INTEGER NOT NULL,
            response_code INTEGER,
            response_enhanced_code TEXT,
            response_message TEXT,
            response_host TEXT,
            reason TEXT,
            webhook_url TEXT,
            webhook_status TEXT NOT NULL,
            webhook_attempts INTEGER NOT NULL DEFAULT 0,
            webhook_next_attempt_at INTEGER,
            lease_owner TEXT,
            lease_expires_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX events_by_message ON events (message_id, id);
        CREATE INDEX events_due ON events (webhook_next_attempt_at) WHERE webhook_next_attempt_at IS NOT NULL;

        CREATE TABLE idempotency_keys (
            key TEXT PRIMARY KEY,
            body_hash TEXT NOT NULL,
            response_status INTEGER NOT NULL,
            response_body BLOB NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
        """
}
