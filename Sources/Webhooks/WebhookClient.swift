import CMailgateCurl
import Foundation
import MailQueue

/// `curl_global_init` runs once per process, the first time a client is made
/// (a Swift global is initialised exactly once, thread-safely).
private let curlGlobalInitialization: CURLcode = cmg_curl_global_init_default()

/// Wraps the multi handle to hand it to the client's thread, which alone uses it
/// (except `curl_multi_wakeup`, which libcurl allows from any thread).
private struct CurlMultiHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}

/// Posts Standard Webhooks events over HTTP(S) with libcurl's multi interface:
/// hundreds of POSTs in flight on one thread of its own, connections kept alive
/// and reused, every connection's address checked by the address guard.
///
/// POST from any thread or task; the completion runs on the client's thread, so
/// it must return quickly (hand the outcome on, never block). Redirects are not
/// followed (a 3xx is an answer like any other), proxies from the environment are
/// ignored, and only http and https are spoken.
public final class WebhookClient: Sendable {
    public struct Configuration: Sendable {
        /// One POST's time limit, connecting included (`MAILGATE_WEBHOOK_TIMEOUT`).
        public var timeout: Duration
        /// `mailgate/<version>`.
        public var userAgent: String
        /// Signs each POST; nil sends no `webhook-signature` header.
        public var signer: WebhookSigner?
        /// Checked on every address a connection is opened to.
        public var addressGuard: AddressGuard
        /// How much of a response body is kept (for logs); the rest is discarded.
        public var responseBodyLimit: Int
        /// Past this many response body bytes the transfer is cut off and judged
        /// by its status alone, so an endless body cannot hold a POST until its timeout.
        public var responseDiscardLimit: Int
        /// Called on the client's thread after each round of completions (all the
        /// POSTs that one pass of the loop saw end), so that a consumer can take
        /// them in one go rather than waking once per POST.
        public var completionRoundEnded: (@Sendable () -> Void)?

        public init(
            timeout: Duration, userAgent: String, signer: WebhookSigner?, addressGuard: AddressGuard,
            responseBodyLimit: Int = 4096, responseDiscardLimit: Int = 256 * 1024,
            completionRoundEnded: (@Sendable () -> Void)? = nil
        ) {
            self.timeout = timeout
            self.userAgent = userAgent
            self.signer = signer
            self.addressGuard = addressGuard
            self.responseBodyLimit = responseBodyLimit
            self.responseDiscardLimit = responseDiscardLimit
            self.completionRoundEnded = completionRoundEnded
        }
    }

    private let inbox: CurlInbox
    private let thread: DedicatedThread

    /// Starts the client's thread.
    public init(configuration: Configuration) throws(WebhookClientError) {
        guard curlGlobalInitialization == CURLE_OK else {
            throw WebhookClientError("curl_global_init failed: \(String(cString: curl_easy_strerror(curlGlobalInitialization)))")
        }
        guard let multi = curl_multi_init() else { throw WebhookClientError("curl_multi_init failed") }
        let handle = CurlMultiHandle(pointer: multi)
        let inbox = CurlInbox(multi: multi)
        self.inbox = inbox
        thread = DedicatedThread(name: "mailgate-webhook-curl") {
            CurlTransferLoop(multi: handle.pointer, inbox: inbox, configuration: configuration).run()
        }
    }

    deinit {
        inbox.close()
    }

    /// Starts a POST; `completion` gets its outcome on the client's thread
    /// (`.canceled` at once when the client is shut down).
    public func post(_ request: WebhookRequest, completion: @escaping @Sendable (WebhookPostOutcome) -> Void) {
        if !inbox.submit(CurlInbox.Submission(request: request, completion: completion)) {
            completion(.canceled)
        }
    }

    /// POSTs and waits for the outcome.
    public func post(_ request: WebhookRequest) async -> WebhookPostOutcome {
        await withCheckedContinuation { continuation in
            post(request) { continuation.resume(returning: $0) }
        }
    }

    /// Cancels every POST still in flight (each completes with `.canceled` before
    /// this returns) and stops the client's thread. POSTs made later are canceled at once.
    public func shutdown() async {
        inbox.close()
        await thread.finished()
    }
}
