import Foundation

/// The reads behind `GET /v1/messages…`, `/metrics` and `mailgate queue`.
///
/// Stored statuses change only in write transactions; a `scheduled` message or
/// recipient whose time has come stays `scheduled` on disk until delivery claims
/// it, so reads take `now` and show it as `queued` (SPEC §2), and the list filters
/// select with the same rule.
enum MessageQueries {
    static let pageSizes = 1...500
    /// Sorts after every `msg_…` identifier ('~' follows all letters and digits):
    /// the exclusive upper bound of the first page.
    static let firstPageBound = "msg_~"

    private static let messageColumns = "id, status, created_at, send_at, subject, from_display, tags, metadata"

    static func message(id: String, now: Date, withEvents: Bool, _ connection: SQLiteConnection) throws(SQLiteError) -> MessageRecord? {
        guard var record = try connection.queryFirst("SELECT \(messageColumns) FROM messages WHERE id = ?", [.text(id)], { row throws(SQLiteError) in
            try messageRecord(row, now: now)
        }) else { return nil }
        record.recipients = try recipients(messageID: id, now: now, connection)
        if withEvents { record.events = try events(messageID: id, connection) }
        return record
    }

    static func page(
        status: MessageStatus?, limit: Int, cursor: String?, now: Date, _ connection: SQLiteConnection
    ) throws(SQLiteError) -> MessagePage {
        let size = min(max(limit, pageSizes.lowerBound), pageSizes.upperBound)
        let bound = SQLiteValue.text(cursor ?? firstPageBound)
        let (sql, values) = pageQuery(status: status, bound: bound, fetch: .int(size + 1), now: .date(now))
        var records = try connection.query(sql, values) { row throws(SQLiteError) in try messageRecord(row, now: now) }
        let hasMore = records.count > size
        records = Array(records.prefix(size))
        for index in records.indices {
            records[index].recipients = try recipients(messageID: records[index].id, now: now, connection)
        }
        return MessagePage(messages: records, nextCursor: hasMore ? records.last?.id : nil)
    }

    /// Each filter is an index range scan on `messages_by_status` (or the primary
    /// key), newest first; `queued` merges the two ranges a due `scheduled` splits it into.
    private static func pageQuery(
        status: MessageStatus?, bound: SQLiteValue, fetch: SQLiteValue, now: SQLiteValue
    ) -> (String, [SQLiteValue]) {
        let select = "SELECT \(messageColumns) FROM messages"
        switch status {
        case nil:
            return ("\(select) WHERE id < ?1 ORDER BY id DESC LIMIT ?2", [bound, fetch])
        case .complete?, .canceled?:
            let stored = SQLiteValue.text(status?.rawValue ?? "")
            return ("\(select) WHERE status = ?3 AND id < ?1 ORDER BY id DESC LIMIT ?2", [bound, fetch, stored])
        case .scheduled?:
            return ("\(select) WHERE status = 'scheduled' AND send_at > ?3 AND id < ?1 ORDER BY id DESC LIMIT ?2", [bound, fetch, now])
        case .queued?:
            let sql = """
                SELECT * FROM (\(select) WHERE status = 'queued' AND id < ?1 ORDER BY id DESC LIMIT ?2)
                UNION ALL
                SELECT * FROM (\(select) WHERE status = 'scheduled' AND send_at <= ?3 AND id < ?1 ORDER BY id DESC LIMIT ?2)
                ORDER BY id DESC LIMIT ?2
                """
            return (sql, [bound, fetch, now])
        }
    }

    private static func messageRecord(_ row: SQLiteRow, now: Date) throws(SQLiteError) -> MessageRecord {
        var status = try row.value(1, as: MessageStatus.self)
        let sendAt = row.optionalDate(3)
        if status == .scheduled, let sendAt, sendAt <= now { status = .queued }
        return MessageRecord(
            id: row.text(0), status: status, createdAt: row.date(2), sendAt: sendAt, subject: row.optionalText(4),
            fromDisplay: row.text(5), tags: MessageSQL.decodeTags(row.text(6)), metadataJSON: row.text(7),
            recipients: [], events: []
        )
    }

    static func recipients(messageID: String, now: Date, _ connection: SQLiteConnection) throws(SQLiteError) -> [RecipientRecord] {
        try connection.query(
            """
            SELECT email, status, attempts, next_attempt_at, last_code, last_enhanced_code, last_message, last_host, updated_at
            FROM recipients WHERE message_id = ? ORDER BY position
            """,
            [.text(messageID)]
        ) { row throws(SQLiteError) in
            var status = try row.value(1, as: RecipientStatus.self)
            let nextAttempt = row.optionalDate(3)
            if status == .scheduled, let nextAttempt, nextAttempt <= now { status = .queued }
            return RecipientRecord(
                email: row.text(0), status: status, attempts: row.int(2), nextAttemptAt: nextAttempt,
                lastResponse: row.optionalInt(4).map {
                    SMTPResponseRecord(code: $0, enhancedCode: row.optionalText(5), message: row.text(6), host: row.optionalText(7))
                },
                updatedAt: row.date(8)
            )
        }
    }

    static func events(messageID: String, _ connection: SQLiteConnection) throws(SQLiteError) -> [EventRecord] {
        try connection.query(
            "SELECT id, type, created_at, recipient, webhook_status, webhook_attempts FROM events WHERE message_id = ? ORDER BY id",
            [.text(messageID)]
        ) { row throws(SQLiteError) in
            EventRecord(
                id: row.text(0), type: try row.value(1, as: EventType.self), createdAt: row.date(2), recipient: row.text(3),
                webhookStatus: try row.value(4, as: WebhookStatus.self), webhookAttempts: row.int(5)
            )
        }
    }

    /// Recipients by status (due `scheduled` ones counted as `queued`) and the age
    /// of the oldest deferred one, from `recipients_by_status` alone.
    static func statistics(now: Date, _ connection: SQLiteConnection) throws(SQLiteError) -> QueueStatistics {
        var counts = Dictionary(uniqueKeysWithValues: RecipientStatus.allCases.map { ($0, 0) })
        let grouped = try connection.query("SELECT status, count(*) FROM recipients GROUP BY status") { row throws(SQLiteError) in
            (try row.value(0, as: RecipientStatus.self), row.int(1))
        }
        for (status, count) in grouped { counts[status] = count }
        let dueScheduled = try connection.queryFirst(
            "SELECT count(*) FROM recipients WHERE status = 'scheduled' AND next_attempt_at <= ?", [.date(now)]
        ) { $0.int(0) } ?? 0
        counts[.scheduled, default: 0] -= dueScheduled
        counts[.queued, default: 0] += dueScheduled
        let oldest = try connection.queryFirst("SELECT min(queued_since) FROM recipients WHERE status = 'deferred'") { $0.optionalDate(0) }
        let age = (oldest ?? nil).map { max(0, now.timeIntervalSince($0)) } ?? 0
        return QueueStatistics(recipientsByStatus: counts, oldestDeferredSeconds: age)
    }
}
