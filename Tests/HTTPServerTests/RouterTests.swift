import JSON
import Testing
@testable import HTTPServer

@Suite("Router")
struct RouterTests {
    private func router() -> Router {
        var router = Router()
        router.add(.post, "/v1/messages") { _, responder in responder.respond(HTTPResponse(status: .accepted)) }
        router.add(.get, "/v1/messages") { _, responder in responder.respond(HTTPResponse(body: Array("list".utf8))) }
        router.add(.post, "/v1/messages/batch") { _, responder in responder.respond(HTTPResponse(body: Array("batch".utf8))) }
        router.add(.get, "/v1/messages/{id}") { request, responder in
            responder.respond(HTTPResponse(body: Array("get \(request.pathParameters["id"]!)".utf8)))
        }
        router.add(.delete, "/v1/messages/{id}") { request, responder in
            responder.respond(HTTPResponse(body: Array("delete \(request.pathParameters["id"]!)".utf8)))
        }
        router.add(.get, "/") { _, responder in responder.respond(HTTPResponse(body: Array("root".utf8))) }
        return router
    }

    private func respond(_ method: HTTPMethod, _ target: String) async -> HTTPResponse {
        await router().response(to: HTTPRequest(method: method, target: target))
    }

    private func json(_ response: HTTPResponse) throws -> JSONValue { try JSONParser.parse(response.body) }

    @Test func dispatchesByMethodAndPattern() async throws {
        #expect(await respond(.post, "/v1/messages").status == .accepted)
        #expect(await respond(.get, "/v1/messages?status=queued").body == Array("list".utf8))
        #expect(await respond(.get, "/v1/messages/msg_123").body == Array("get msg_123".utf8))
        #expect(await respond(.delete, "/v1/messages/msg_9").body == Array("delete msg_9".utf8))
        #expect(await respond(.post, "/v1/messages/batch").body == Array("batch".utf8))
        #expect(await respond(.get, "/").body == Array("root".utf8))
    }

    @Test func aLiteralSegmentOwnsItsPath() async throws {
        let response = await respond(.get, "/v1/messages/batch")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "POST")
        #expect(await respond(.get, "/v1/messages/batches").body == Array("get batches".utf8))
    }

    @Test func parametersArePercentDecoded() async throws {
        #expect(await respond(.get, "/v1/messages/a%20b%2Fc").body == Array("get a b/c".utf8))
    }

    @Test func unknownPathsAre404Problems() async throws {
        for target in ["/v2/messages", "/v1/messages/", "/v1/messages/a/b", "/v1", "//", "*"] {
            let response = await respond(.get, target)
            #expect(response.status == .notFound, "\(target)")
            #expect(response.headers["Content-Type"] == "application/problem+json")
            let body = try json(response)
            #expect(body["type"] == "about:blank")
            #expect(body["title"] == "Not Found")
            #expect(body["status"] == 404)
        }
    }

    @Test func otherMethodsAre405WithAllow() async throws {
        for method: HTTPMethod in [.put, .patch, .trace, .connect, "BREW", .delete, .options] {
            let response = await respond(method, "/v1/messages")
            #expect(response.status == .methodNotAllowed, "\(method)")
            #expect(response.headers["Allow"] == "GET, HEAD, POST")
            #expect(try json(response)["status"] == 405)
        }
        let item = await respond(.post, "/v1/messages/x")
        #expect(item.headers["Allow"] == "GET, HEAD, DELETE")
    }

    @Test func headUsesGetRoutes() async throws {
        #expect(await respond(.head, "/v1/messages/m1").body == Array("get m1".utf8))
        #expect(await respond(.head, "/v1/messages/batch").status == .methodNotAllowed)
    }

    @Test func optionsIsServedOnlyByARouteThatTakesIt() async throws {
        let response = await respond(.options, "/v1/messages/m1")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "GET, HEAD, DELETE")
        #expect(await respond(.options, "*").status == .notFound)
        #expect(await respond(.options, "/nothing").status == .notFound)
    }

    @Test func respondersCarryTheMatchedPattern() async throws {
        let routes = Mutex<[String?]>([])
        var router = Router()
        router.add(.get, "/v1/messages/{id}") { _, responder in
            routes.withLock { $0.append(responder.route) }
            responder.respond(HTTPResponse())
        }
        _ = await router.response(to: HTTPRequest(method: .get, target: "/v1/messages/1"))
        #expect(routes.withLock { $0 } == ["/v1/messages/{id}"])
    }

    @Test func aResponderAnswersOnce() {
        let count = Mutex(0)
        let responder = HTTPResponder { _ in count.withLock { $0 += 1 } }
        responder.respond(HTTPResponse())
        responder.respond(HTTPResponse(status: .internalServerError))
        #expect(count.withLock { $0 } == 1)
    }
}

import Synchronization
