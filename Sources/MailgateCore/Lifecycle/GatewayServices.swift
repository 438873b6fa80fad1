import Delivery
import HTTPServer
import MailQueue
import ServiceLifecycle
import Webhooks

/// The HTTP server as a service: on shutdown (the signal handler has already
/// closed the listener) it waits for requests in flight, then gives clients
/// holding keep-alive connections a moment to hear 503 with `Connection: close`
/// rather than find the connection gone. The server stays up, still answering
/// 503, while the other services drain; the gateway shuts it down after the
/// whole group has finished.
struct HTTPServerService: Service {
    /// How long open connections are kept for their 503 when nothing else is draining.
    static let connectionGrace: Duration = .seconds(3)

    let server: HTTPServer
    let clock: ShutdownClock

    func run() async throws {
        try? await gracefulShutdown()
        let graceEnds = ContinuousClock.now + min(clock.remaining, Self.connectionGrace)
        server.beginDraining()
        _ = await server.waitUntilIdle(timeout: min(clock.remaining, .seconds(10)))
        _ = await server.waitUntilConnectionsClose(timeout: graceEnds - ContinuousClock.now)
    }
}

/// The delivery engine as a service: on shutdown, transactions in flight end.
struct DeliveryLifecycleService: Service {
    let delivery: DeliveryService
    let clock: ShutdownClock

    func run() async throws {
        await withGracefulShutdownHandler {
            await delivery.run()
        } onGracefulShutdown: {
            clock.start()
            delivery.beginShutdown(drainTimeout: clock.remaining)
        }
    }
}

/// The webhook outbox drain as a service: on shutdown, POSTs in flight end.
struct WebhookLifecycleService: Service {
    let webhooks: WebhookService
    let clock: ShutdownClock

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await webhooks.run()
        } onGracefulShutdown: {
            clock.start()
            webhooks.stop(gracePeriod: clock.remaining)
        }
    }
}

/// The store as a service, so that it closes last, after everything that writes to it.
struct StoreService: Service {
    let store: any QueueStore

    func run() async throws {
        try? await gracefulShutdown()
        await store.close()
    }
}
