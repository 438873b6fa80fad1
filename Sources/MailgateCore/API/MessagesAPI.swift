import Foundation
import HTTPServer
import JSON
import Logging
import MailComposer
import MailQueue
import Webhooks

/// The `/v1/messages` routes (SPEC §2): validate, compose, persist, answer.
///
/// Handlers run on an event-loop thread and must not block, so each hands its
/// work to a task; the store answers once the write is durable, and the task
/// responds from there.
struct MessagesAPI: Sendable {
    let store: any QueueStore
    let factory: MessageFactory
    let limits: SendRequestLimits
    let metrics: GatewayMetrics
    let logger: Logger
    /// Called after messages are stored, so delivery claims them without waiting for its poll.
    let onAccepted: @Sendable () -> Void

    /// Seconds a client is told to wait after a 429 or 503.
    static let retryAfterSeconds = 5
    /// The most messages in one batch request (SPEC §2).
    static let maximumBatchSize = 500

    // MARK: POST /v1/messages

    func send(_ request: HTTPRequest, responder: HTTPResponder) {
        Task {
            let response = await acceptRequest(request, route: "messages", itemsStandAlone: false) { object, now in
                switch SendRequestReader.read(object, limits: limits, now: now).flatMap({ factory.make($0, now: now) }) {
                case .success(let message): return .success([message])
                case .failure(let problem): return .failure(problem)
                }
            } render: { messages, _ in
                let message = messages[0]
                return (202, MessageJSON.accepted(id: message.id, scheduled: message.sendAt != nil, recipients: message.recipients.map(\.email)))
            }
            responder.respond(response)
        }
    }

    // MARK: POST /v1/messages/batch

    func sendBatch(_ request: HTTPRequest, responder: HTTPResponder) {
        Task {
            var outcomes: [Result<NewMessage, APIProblem>] = []
            let response = await acceptRequest(request, route: "batch", itemsStandAlone: true) { object, now in
                guard case .array(let items)? = object["messages"] else {
                    return .failure(.badRequest("the body must be an object with a \"messages\" array"))
                }
                var errors = object.keys.filter { $0 != "messages" }.sorted().map { FieldError($0, "is not a field of a batch (messages)") }
                if items.count > Self.maximumBatchSize {
                    errors.insert(FieldError("messages", "\(items.count) messages is more than the limit of \(Self.maximumBatchSize)"), at: 0)
                }
                guard errors.isEmpty else { return .failure(.invalid(errors)) }
                outcomes = items.map { item in
                    guard case .object(let itemObject) = item else {
                        return .failure(.badRequest("each item of messages must be a JSON object"))
                    }
                    return SendRequestReader.read(itemObject, limits: limits, now: now).flatMap { factory.make($0, now: now) }
                }
                return .success(outcomes.compactMap { try? $0.get() })
            } render: { _, refused in
                let results: [JSONValue] = outcomes.enumerated().map { index, outcome in
                    switch outcome {
                    case .success(let message) where refused[message.id] == nil:
                        return ["index": .number(JSONNumber(index)), "status": 202, "id": .string(message.id)]
                    case .success(let message):
                        let problem = refused[message.id]!
                        return ["index": .number(JSONNumber(index)), "status": .number(JSONNumber(problem.status)), "error": problem.json]
                    case .failure(let problem):
                        return ["index": .number(JSONNumber(index)), "status": .number(JSONNumber(problem.status)), "error": problem.json]
                    }
                }
                return (200, ["results": .array(results)])
            }
            responder.respond(response)
        }
    }

    /// The shared path of both send routes: content type, idempotency, JSON,
    /// then `build` makes the messages, the store keeps them, and `render` answers
    /// (given the messages the store refused, by id, when it could not take them all).
    /// With `itemsStandAlone` (a batch), a full queue refuses items, not the request.
    private func acceptRequest(
        _ request: HTTPRequest,
        route: String,
        itemsStandAlone: Bool,
        build: (JSONObject, Date) -> Result<[NewMessage], APIProblem>,
        render: ([NewMessage], [String: APIProblem]) -> (Int, JSONValue)
    ) async -> HTTPResponse {
        let now = Date()
        guard Self.isJSONContentType(request.headers["Content-Type"]) else {
            return APIProblem(status: 415, detail: "send the request as Content-Type: application/json").response
        }
        var idempotency: (key: String, hash: String)?
        if let rawKey = request.headers["Idempotency-Key"] {
            guard let key = Self.scopedIdempotencyKey(rawKey, route: route, request: request) else {
                return APIProblem.badRequest("Idempotency-Key must be 1 to 255 printable ASCII characters").response
            }
            let hash = SHA256Digest.hex(request.body)
            idempotency = (key, hash)
            do {
                if let record = try await store.idempotencyRecord(key: key, now: now) {
                    return Self.replay(record, bodyHash: hash)
                }
            } catch {
                return storeProblem(error, request: request).response
            }
        }
        let object: JSONObject
        switch Self.parseObject(request.body) {
        case .success(let parsed): object = parsed
        case .failure(let problem): return problem.response
        }
        let messages: [NewMessage]
        switch build(object, now) {
        case .success(let built): messages = built
        case .failure(let problem): return problem.response
        }
        let (status, body) = render(messages, [:])
        let bodyBytes = JSONWriter.bytes(body)
        if messages.isEmpty && idempotency == nil {
            return Self.jsonResponse(status, bodyBytes)
        }
        let record = idempotency.map {
            IdempotencyRecord(key: $0.key, bodyHash: $0.hash, responseStatus: status, responseBody: bodyBytes, createdAt: now)
        }
        do {
            switch try await store.accept(messages, idempotency: record) {
            case .accepted:
                stored(messages, request: request)
                return Self.jsonResponse(status, bodyBytes)
            case .alreadyAccepted(let existing):
                return Self.replay(existing, bodyHash: idempotency?.hash ?? "")
            }
        } catch .queueFull where itemsStandAlone {
            return await acceptEachWhileRoom(messages, request: request, idempotency: record, render: render)
        } catch {
            return storeProblem(error, request: request).response
        }
    }

    /// A batch that does not fit under the queue limit whole: each message is
    /// accepted or refused (429) on its own, as SPEC §2 says of batch items.
    private func acceptEachWhileRoom(
        _ messages: [NewMessage], request: HTTPRequest, idempotency: IdempotencyRecord?,
        render: ([NewMessage], [String: APIProblem]) -> (Int, JSONValue)
    ) async -> HTTPResponse {
        var refused: [String: APIProblem] = [:]
        for message in messages {
            do {
                _ = try await store.accept([message], idempotency: nil)
                stored([message], request: request)
            } catch {
                refused[message.id] = storeProblem(error, request: request)
            }
        }
        let (status, body) = render(messages, refused)
        let bodyBytes = JSONWriter.bytes(body)
        if var record = idempotency {
            record.responseStatus = status
            record.responseBody = bodyBytes
            _ = try? await store.accept([], idempotency: record)
        }
        var response = Self.jsonResponse(status, bodyBytes)
        // When to try the refused items again, as a 429 or 503 of their own would say.
        if let retryAfter = refused.values.lazy.compactMap({ $0.headers["Retry-After"] }).first {
            response.headers.replaceOrAdd(name: "Retry-After", value: retryAfter)
        }
        return response
    }

    /// Counts, logs and announces messages the store now holds.
    private func stored(_ messages: [NewMessage], request: HTTPRequest) {
        guard !messages.isEmpty else { return }
        metrics.messagesAccepted(messages.count)
        onAccepted()
        for message in messages {
            logger.info("message accepted", metadata: [
                "message_id": "\(message.id)", "recipients": "\(message.recipients.count)",
                "request_id": "\(request.requestID)",
            ])
        }
    }

    static func jsonResponse(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: HTTPStatus(code: status), headers: ["Content-Type": "application/json"], body: body)
    }

    /// The first answer again, or 409 when the key came with other bytes (SPEC §6).
    static func replay(_ record: IdempotencyRecord, bodyHash: String) -> HTTPResponse {
        guard record.bodyHash == bodyHash else {
            return APIProblem(status: 409, detail: "this Idempotency-Key was used with a different request body").response
        }
        return HTTPResponse(
            status: HTTPStatus(code: record.responseStatus),
            headers: ["Content-Type": "application/json", "Idempotent-Replayed": "true"],
            body: record.responseBody)
    }

    /// Keys are scoped by route and by the API key that sent them, so callers
    /// with different keys never see each other's answers.
    static func scopedIdempotencyKey(_ key: String, route: String, request: HTTPRequest) -> String? {
        guard !key.isEmpty, key.utf8.count <= 255, key.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        let caller = request.headers["Authorization"].map { String(SHA256Digest.hex(Array($0.utf8)).prefix(16)) } ?? "-"
        return "\(caller):\(route):\(key)"
    }

    static func isJSONContentType(_ value: String?) -> Bool {
        guard let value else { return false }
        let essence = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingBlanks().lowercased() } ?? ""
        return essence == "application/json"
    }

    static func parseObject(_ body: [UInt8]) -> Result<JSONObject, APIProblem> {
        do {
            guard case .object(let object) = try JSONParser.parse(body) else {
                return .failure(.badRequest("the body must be a JSON object"))
            }
            return .success(object)
        } catch {
            return .failure(.badRequest("the body is not valid JSON: \(error)"))
        }
    }

    func storeProblem(_ error: any Error, request: HTTPRequest) -> APIProblem {
        switch error as? StoreError {
        case .queueFull(let limit)?:
            return APIProblem(
                status: 429, detail: "the queue holds its limit of \(limit) pending recipients; try again later",
                headers: ["Retry-After": "\(Self.retryAfterSeconds)"])
        case .invalidCursor?:
            return .badRequest("cursor is not one this API gave out")
        default:
            logger.error("store unavailable", metadata: ["error": "\(error)", "request_id": "\(request.requestID)"])
            return .unavailable("the queue store is unavailable; try again later", retryAfterSeconds: Self.retryAfterSeconds)
        }
    }
}
