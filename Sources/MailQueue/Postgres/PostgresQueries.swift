import Foundation

/// The reads behind `GET /v1/messages…`, `/metrics` and `mailgate queue` on
/// PostgreSQL, with `MessageQueries`' rules: a `scheduled` message or recipient
/// whose time has come reads as `queued`, and the list filters select the same way.
enum PostgresQueries {
    private static let messageColumns = "id, status, created_at, send_at, subject, from_display, tags, metadata"

    static func message(id: String, now: Date, withEvents: Bool, _ connection: PostgresConnection) throws(PostgresError) -> MessageRecord? {
        guard var record = try connection.queryFirst("SELECT \(messageColumns) FROM messages WHERE id = $1", [.text(id)], { row throws(PostgresError) in
            try messageRecord(row, now: now)
        }) else { return nil }
        record.recipients = try recipients(messageIDs: [id], now: now, connection)[id] ?? []
        if withEvents { record.events = try events(messageID: id, connection) }
        return record
    }

    static func page(
        status: MessageStatus?, limit: Int, cursor: String?, now: Date, _ connection: PostgresConnection
    ) throws(PostgresError) -> MessagePage {
        let size = min(max(limit, MessageQueries.pageSizes.lowerBound), MessageQueries.pageSizes.upperBound)
        let bound = PostgresValue.text(cursor ?? MessageQueries.firstPageBound)
        let (sql, values) = pageQuery(status: status, bound: bound, fetch: .int(size + 1), now: .date(now))
        var records = try connection.query(sql, values) { row throws(PostgresError) in try messageRecord(row, now: now) }
        let hasMore = records.count > size
        records = Array(records.prefix(size))
        let recipientsByMessage = try recipients(messageIDs: records.map(\.id), now: now, connection)
        for index in records.indices {
            records[index].recipients = recipientsByMessage[records[index].id] ?? []
        }
        return MessagePage(messages: records, nextCursor: hasMore ? records.last?.id : nil)
    }

    /// Each filter is an index range scan on `messages_by_status` (or the primary
    /// key), newest first; `queued` merges the two ranges a due `scheduled` splits it into.
    private static func pageQuery(
        status: MessageStatus?, bound: PostgresValue, fetch: PostgresValue, now: PostgresValue
    ) -> (String, [PostgresValue]) {
        let select = "SELECT \(messageColumns) FROM messages"
        switch status {
        case nil:
            return ("\(select) WHERE id < $1 ORDER BY id DESC LIMIT $2", [bound, fetch])
        case .complete?, .canceled?:
            let stored = PostgresValue.text(status?.rawValue ?? "")
            return ("\(select) WHERE status = $3 AND id < $1 ORDER BY id DESC LIMIT $2", [bound, fetch, stored])
        case .scheduled?:
            return ("\(select) WHERE status = 'scheduled' AND send_at > $3 AND id < $1 ORDER BY id DESC LIMIT $2", [bound, fetch, now])
        case .queued?:
            let sql = """
                (\(select) WHERE status = 'queued' AND id < $1 ORDER BY id DESC LIMIT $2)
                UNION ALL
                (\(select) WHERE status = 'scheduled' AND send_at <= $3 AND id < $1 ORDER BY id DESC LIMIT $2)
                ORDER BY id DESC LIMIT $2
                """
            return (sql, [bound, fetch, now])
        }
    }

    private static func messageRecord(_ row: PostgresRow, now: Date) throws(PostgresError) -> MessageRecord {
        var status = try row.value(1, as: MessageStatus.self)
        let sendAt = row.optionalDate(3)
        if status == .scheduled, let sendAt, sendAt <= now { status = .queued }
        return MessageRecord(
            id: row.text(0), status: status, createdAt: row.date(2), sendAt: sendAt, subject: row.optionalText(4),
            fromDisplay: row.text(5), tags: MessageSQL.decodeTags(row.text(6)), metadataJSON: row.text(7),
            recipients: [], events: []
        )
    }

    /// The recipients of several messages in one query, by message id, in position order.
    static func recipients(messageIDs: [String], now: Date, _ connection: PostgresConnection) throws(PostgresError) -> [String: [RecipientRecord]] {
        guard !messageIDs.isEmpty else { return [:] }
        let rows = try connection.query(
            """
            SELECT message_id, email, status, attempts, next_attempt_at, last_code, last_enhanced_code, last_message, last_host, updated_at
            FROM recipients WHERE message_id = ANY($1::text[]) ORDER BY message_id, position
            """,
            [.textArray(messageIDs)]
        ) { row throws(PostgresError) in
            var status = try row.value(2, as: RecipientStatus.self)
            let nextAttempt = row.optionalDate(4)
            if status == .scheduled, let nextAttempt, nextAttempt <= now { status = .queued }
            let record = RecipientRecord(
                email: row.text(1), status: status, attempts: row.int(3), nextAttemptAt: nextAttempt,
                lastResponse: row.optionalInt(5).map {
                    SMTPResponseRecord(code: $0, enhancedCode: row.optionalText(6), message: row.text(7), host: row.optionalText(8))
                },
                updatedAt: row.date(9)
            )
            return (row.text(0), record)
        }
        return Dictionary(grouping: rows, by: \.0).mapValues { $0.map(\.1) }
    }

    static func events(messageID: String, _ connection: PostgresConnection) throws(PostgresError) -> [EventRecord] {
        try connection.query(
            "SELECT id, type, created_at, recipient, webhook_status, webhook_attempts FROM events WHERE message_id = $1 ORDER BY id",
            [.text(messageID)]
        ) { row throws(PostgresError) in
            EventRecord(
                id: row.text(0), type: try row.value(1, as: EventType.self), createdAt: row.date(2), recipient: row.text(3),
                webhookStatus: try row.value(4, as: WebhookStatus.self), webhookAttempts: row.int(5)
            )
        }
    }

    /// Recipients by status (due `scheduled` ones counted as `queued`) and the age
    /// of the oldest deferred one, in one pass over `recipients_by_status`.
    static func statistics(now: Date, _ connection: PostgresConnection) throws(PostgresError) -> QueueStatistics {
        var counts = Dictionary(uniqueKeysWithValues: RecipientStatus.allCases.map { ($0, 0) })
        var oldest: Date?
        let grouped = try connection.query(
            """
            SELECT status, count(*), count(*) FILTER (WHERE status = 'scheduled' AND next_attempt_at <= $1),
                   min(queued_since) FILTER (WHERE status = 'deferred')
            FROM recipients GROUP BY status
            """,
            [.date(now)]
        ) { row throws(PostgresError) in
            (try row.value(0, as: RecipientStatus.self), row.int(1), row.int(2), row.optionalDate(3))
        }
        for (status, count, dueScheduled, oldestDeferred) in grouped {
            counts[status, default: 0] += count - dueScheduled
            counts[.queued, default: 0] += dueScheduled
            if let oldestDeferred { oldest = oldestDeferred }
        }
        let age = oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0
        return QueueStatistics(recipientsByStatus: counts, oldestDeferredSeconds: age)
    }
}
