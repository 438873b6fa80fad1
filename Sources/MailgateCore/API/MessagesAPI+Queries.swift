import Foundation
import HTTPServer
import JSON
import MailComposer
import MailQueue

/// The read and cancel routes of `/v1/messages`.
extension MessagesAPI {
    // MARK: GET /v1/messages/{id}

    func show(_ request: HTTPRequest, responder: HTTPResponder) {
        guard let id = validID(request) else { return responder.respond(notFound(request)) }
        Task {
            do {
                guard let record = try await store.message(id: id, now: Date()) else {
                    return responder.respond(notFound(request))
                }
                responder.respond(.json(MessageJSON.message(record, includeEvents: true)))
            } catch {
                responder.respond(storeProblem(error, request: request).response)
            }
        }
    }

    // MARK: GET /v1/messages?status=&limit=&cursor=

    func list(_ request: HTTPRequest, responder: HTTPResponder) {
        let query = request.queryParameters
        var errors: [FieldError] = []
        var status: MessageStatus?
        if let text = query["status"], !text.isEmpty {
            status = MessageStatus(rawValue: text)
            if status == nil {
                errors.append(FieldError("status", "must be one of \(MessageStatus.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        var limit = 50
        if let text = query["limit"], !text.isEmpty {
            if let value = Int(text), (1...500).contains(value) {
                limit = value
            } else {
                errors.append(FieldError("limit", "must be a whole number from 1 to 500"))
            }
        }
        let cursor = query["cursor"].flatMap { $0.isEmpty ? nil : $0 }
        if let cursor, !SortableID.isValid(cursor, kind: .message) {
            errors.append(FieldError("cursor", "is not a next_cursor this API gave out"))
        }
        guard errors.isEmpty else {
            return responder.respond(APIProblem(status: 400, detail: "invalid query parameters", errors: errors).response)
        }
        Task {
            do {
                let page = try await store.listMessages(status: status, limit: limit, cursor: cursor, now: Date())
                responder.respond(.json([
                    "messages": .array(page.messages.map { MessageJSON.message($0, includeEvents: false) }),
                    "next_cursor": .optional(page.nextCursor),
                ]))
            } catch {
                responder.respond(storeProblem(error, request: request).response)
            }
        }
    }

    // MARK: DELETE /v1/messages/{id}

    func cancel(_ request: HTTPRequest, responder: HTTPResponder) {
        guard let id = validID(request) else { return responder.respond(notFound(request)) }
        Task {
            do {
                switch try await store.cancel(messageID: id, now: Date()) {
                case .notFound:
                    responder.respond(notFound(request))
                case .nothingToCancel:
                    responder.respond(APIProblem(status: 409, detail: "every recipient of \(id) is already final; nothing was canceled").response)
                case .canceled(let record, let count):
                    metrics.recipientsCanceled(count)
                    logger.info("message canceled", metadata: [
                        "message_id": "\(id)", "recipients": "\(count)", "request_id": "\(request.requestID)",
                    ])
                    responder.respond(.json(MessageJSON.message(record, includeEvents: true)))
                }
            } catch {
                responder.respond(storeProblem(error, request: request).response)
            }
        }
    }

    private func validID(_ request: HTTPRequest) -> String? {
        guard let id = request.pathParameters["id"], SortableID.isValid(id, kind: .message) else { return nil }
        return id
    }

    private func notFound(_ request: HTTPRequest) -> HTTPResponse {
        APIProblem(status: 404, detail: "no message \(request.pathParameters["id"] ?? "") in the queue").response
    }
}
