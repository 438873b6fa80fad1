import Foundation
import JSON
import MailQueue

/// The JSON body of one event (SPEC §4). Built from the stored event each time it
/// is posted, so every retry carries the same bytes.
public enum WebhookPayload {
    public static func body(for event: PendingWebhook) -> [UInt8] {
        var object: JSONObject = [
            "id": .string(event.eventID),
            "type": .string(event.type.rawValue),
            "created_at": .string(RFC3339.format(secondsSince1970: event.createdAt.timeIntervalSince1970)),
            "message_id": .string(event.messageID),
            "recipient": .string(event.recipient),
            "attempt": .number(JSONNumber(event.deliveryAttempt)),
            "smtp": event.response.map(smtpObject) ?? .null,
        ]
        if let reason = event.reason { object["reason"] = .string(reason) }
        object["tags"] = .array(event.tags.map(JSONValue.string))
        object["metadata"] = (try? JSONParser.parse(event.metadataJSON)) ?? .object([:])
        return JSONWriter.bytes(.object(object))
    }

    /// `{"code", "enhanced_code", "message", "host"}`: the `smtp` member and `last_response`.
    public static func smtpObject(_ response: SMTPResponseRecord) -> JSONValue {
        [
            "code": .number(JSONNumber(response.code)),
            "enhanced_code": .optional(response.enhancedCode),
            "message": .string(response.message),
            "host": .optional(response.host),
        ]
    }
}
