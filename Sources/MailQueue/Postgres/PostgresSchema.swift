/// The queue's tables in PostgreSQL: the SQLite store's schema (`QueueSchema`)
/// column for column, with PostgreSQL types, as numbered migrations recorded in
/// `mailgate_schema_migrations`.
///
/// Every gateway applies the missing migrations at start, in one transaction
/// that first takes a transaction-scoped advisory lock: replicas starting together
/// queue up on the lock, the first migrates, the others then find nothing to do.
/// DDL is transactional in PostgreSQL, so a migration that fails leaves nothing
/// behind.
///
/// Identifiers are `COLLATE "C"` so that they sort as bytes, as cursor paging and
/// the `msg_~` bound expect, whatever the database's collation.
enum PostgresSchema {
    static let migrations: [String] = [version1]

    static var currentVersion: Int { migrations.count }

    /// The advisory lock key: "mailgate" in ASCII.
    static let migrationLock: Int64 = 0x6D61_696C_6761_7465

    static func migrate(_ connection: PostgresConnection) throws(StoreError) {
        let found: Int
        do throws(PostgresError) {
            try connection.execute("BEGIN")
            try connection.run("SELECT pg_advisory_xact_lock($1)", [.integer(migrationLock)])
            try connection.execute(
                "CREATE TABLE IF NOT EXISTS mailgate_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            found = try connection.queryFirst("SELECT coalesce(max(version), 0) FROM mailgate_schema_migrations") { $0.int(0) } ?? 0
            for (index, script) in migrations.enumerated() where index >= found {
                try connection.execute(script)
                try connection.run("INSERT INTO mailgate_schema_migrations (version) VALUES ($1)", [.int(index + 1)])
            }
            try connection.execute(found <= currentVersion ? "COMMIT" : "ROLLBACK")
        } catch {
            if connection.isInTransaction { try? connection.execute("ROLLBACK") }
            throw error.storeError
        }
        guard found <= currentVersion else {
            throw .unavailable("the queue's schema version \(found) is newer than this mailgate's \(currentVersion)")
        }
    }

    /// Applied versions, for tests.
    static func appliedVersions(_ connection: PostgresConnection) throws(PostgresError) -> [Int] {
        try connection.query("SELECT version FROM mailgate_schema_migrations ORDER BY version") { $0.int(0) }
    }

    /// The SQLite schema's tables and indexes, plus partial indexes on lease owners
    /// that let `close()` find its own claims without a scan.
    private static let version1 = """
        CREATE TABLE messages (
            id text COLLATE "C" PRIMARY KEY,
            status text NOT NULL,
            created_at bigint NOT NULL,
            send_at bigint,
            envelope_from text NOT NULL,
            from_display text NOT NULL,
            subject text,
            tags text NOT NULL,
            metadata text NOT NULL,
            webhook_url text,
            requires_smtputf8 boolean NOT NULL,
            requires_8bitmime boolean NOT NULL
        );
        CREATE INDEX messages_by_status ON messages (status, id);

        CREATE TABLE message_contents (
            message_id text COLLATE "C" PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
            content bytea NOT NULL
        );

        CREATE TABLE recipients (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            message_id text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            position integer NOT NULL,
            email text NOT NULL,
            domain text NOT NULL,
            status text NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at bigint,
            claimable_at bigint,
            queued_since bigint NOT NULL,
            has_deferred boolean NOT NULL DEFAULT false,
            last_code integer,
            last_enhanced_code text,
            last_message text,
            last_host text,
            updated_at bigint NOT NULL,
            lease_owner text,
            lease_expires_at bigint
        );
        CREATE INDEX recipients_by_message ON recipients (message_id, position);
        CREATE INDEX recipients_claimable ON recipients (claimable_at) WHERE claimable_at IS NOT NULL;
        CREATE INDEX recipients_by_status ON recipients (status, queued_since);
        CREATE INDEX recipients_by_lease_owner ON recipients (lease_owner) WHERE lease_owner IS NOT NULL;

        CREATE TABLE events (
            id text COLLATE "C" PRIMARY KEY,
            message_id text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            recipient_id bigint NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
            recipient text NOT NULL,
            type text NOT NULL,
            created_at bigint NOT NULL,
            delivery_attempt integer NOT NULL,
            response_code integer,
            response_enhanced_code text,
            response_message text,
            response_host text,
            reason text,
            webhook_url text,
            webhook_status text NOT NULL,
            webhook_attempts integer NOT NULL DEFAULT 0,
            webhook_next_attempt_at bigint,
            lease_owner text,
            lease_expires_at bigint
        );
        CREATE INDEX events_by_message ON events (message_id, id);
        CREATE INDEX events_due ON events (webhook_next_attempt_at) WHERE webhook_next_attempt_at IS NOT NULL;
        CREATE INDEX events_by_lease_owner ON events (lease_owner) WHERE lease_owner IS NOT NULL;

        CREATE TABLE idempotency_keys (
            key text PRIMARY KEY,
            body_hash text NOT NULL,
            response_status integer NOT NULL,
            response_body bytea NOT NULL,
            created_at bigint NOT NULL
        );
        CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
        """
}
