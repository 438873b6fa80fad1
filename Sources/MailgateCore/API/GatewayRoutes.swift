import Foundation
import HTTPServer
import JSON
import MailQueue

/// Every route of the gateway (SPEC §2). `/v1` routes need an API key when keys
/// are configured; the operational routes never do.
struct GatewayRoutes: Sendable {
    let messages: MessagesAPI
    let authenticator: Authenticator
    let store: any QueueStore
    let metrics: GatewayMetrics
    /// True while the gateway drains: `/readyz` says 503.
    let isDraining: @Sendable () -> Bool

    func makeRouter() -> Router {
        var router = Router()
        router.add(.post, "/v1/messages", authorized(messages.send))
        router.add(.get, "/v1/messages", authorized(messages.list))
        router.add(.post, "/v1/messages/batch", authorized(messages.sendBatch))
        router.add(.get, "/v1/messages/{id}", authorized(messages.show))
        router.add(.delete, "/v1/messages/{id}", authorized(messages.cancel))
        router.add(.get, "/healthz") { _, responder in
            responder.respond(.json(["status": "ok"]))
        }
        router.add(.get, "/readyz", readiness)
        router.add(.get, "/metrics", scrape)
        router.add(.get, "/openapi.yaml") { _, responder in
            responder.respond(HTTPResponse(status: .ok, headers: ["Content-Type": "application/yaml"], body: OpenAPIDocument.bytes))
        }
        return router
    }

    private func authorized(_ handler: @escaping Router.Handler) -> Router.Handler {
        let authenticator = authenticator
        return { request, responder in
            guard authenticator.isAuthorized(request) else {
                return responder.respond(Authenticator.challenge.response)
            }
            handler(request, responder)
        }
    }

    private func readiness(_ request: HTTPRequest, responder: HTTPResponder) {
        let store = store
        let isDraining = isDraining
        Task {
            if isDraining() {
                return responder.respond(APIProblem.unavailable("the gateway is shutting down", retryAfterSeconds: 5).response)
            }
            guard await store.isAvailable() else {
                return responder.respond(APIProblem.unavailable("the queue store does not answer", retryAfterSeconds: 5).response)
            }
            responder.respond(.json(["status": "ready"]))
        }
    }

    private func scrape(_ request: HTTPRequest, responder: HTTPResponder) {
        let store = store
        let metrics = metrics
        Task {
            if let statistics = try? await store.statistics(now: Date()) {
                metrics.updateQueue(statistics)
            }
            if let sqlite = store as? SQLiteQueueStore {
                metrics.updateStore(sqlite.writeStatistics)
            } else if let postgres = store as? PostgresQueueStore {
                metrics.updateStore(postgres.writeStatistics)
            }
            responder.respond(HTTPResponse(
                status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"], body: metrics.render()))
        }
    }
}
