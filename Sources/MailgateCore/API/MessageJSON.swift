import Foundation
import JSON
import MailQueue
import Webhooks

/// How stored messages look in API answers (SPEC §2 `GET /v1/messages/{id}`, §6).
enum MessageJSON {
    static func timestamp(_ date: Date) -> JSONValue {
        .string(RFC3339.format(secondsSince1970: date.timeIntervalSince1970))
    }

    static func timestamp(_ date: Date?) -> JSONValue { date.map(timestamp) ?? .null }

    /// The message object; `includeEvents` false gives the list summary.
    static func message(_ record: MessageRecord, includeEvents: Bool) -> JSONValue {
        var object: JSONObject = [
            "id": .string(record.id),
            "status": .string(record.status.rawValue),
            "created_at": timestamp(record.createdAt),
            "send_at": timestamp(record.sendAt),
            "subject": .optional(record.subject),
            "from": .string(record.fromDisplay),
            "tags": .array(record.tags.map(JSONValue.string)),
            "metadata": (try? JSONParser.parse(record.metadataJSON)) ?? .object([:]),
            "recipients": .array(record.recipients.map(recipient)),
        ]
        if includeEvents { object["events"] = .array(record.events.map(event)) }
        return .object(object)
    }

    static func recipient(_ record: RecipientRecord) -> JSONValue {
        [
            "email": .string(record.email),
            "status": .string(record.status.rawValue),
            "attempts": .number(JSONNumber(record.attempts)),
            "next_attempt_at": record.status.isFinal ? .null : timestamp(record.nextAttemptAt),
            "last_response": record.lastResponse.map(WebhookPayload.smtpObject) ?? .null,
            "updated_at": timestamp(record.updatedAt),
        ]
    }

    static func event(_ record: EventRecord) -> JSONValue {
        [
            "id": .string(record.id),
            "type": .string(record.type.rawValue),
            "created_at": timestamp(record.createdAt),
            "recipient": .string(record.recipient),
            "webhook": ["status": .string(record.webhookStatus.rawValue), "attempts": .number(JSONNumber(record.webhookAttempts))],
        ]
    }

    /// The 202 answer: `{"id", "status", "recipients": [{"email", "status"}]}`.
    static func accepted(id: String, scheduled: Bool, recipients: [String]) -> JSONValue {
        let status: JSONValue = scheduled ? "scheduled" : "queued"
        return [
            "id": .string(id),
            "status": status,
            "recipients": .array(recipients.map { ["email": .string($0), "status": status] }),
        ]
    }
}
