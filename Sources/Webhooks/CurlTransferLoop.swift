import CMailgateCurl
#if canImport(Glibc)
import Glibc
#endif

/// The client's thread: one libcurl multi handle driving every POST in flight,
/// so hundreds of them share one thread and its poll. It alone touches the multi
/// handle and the easy handles (libcurl's rule: a handle is used by one thread),
/// and it keeps finished easy handles for the next POSTs.
final class CurlTransferLoop {
    /// At most this many idle easy handles are kept for reuse.
    static let idleHandleLimit = 512

    private let multi: UnsafeMutableRawPointer
    private let inbox: CurlInbox
    private let configuration: WebhookClient.Configuration
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var idle: [UnsafeMutableRawPointer] = []

    init(multi: UnsafeMutableRawPointer, inbox: CurlInbox, configuration: WebhookClient.Configuration) {
        self.multi = multi
        self.inbox = inbox
        self.configuration = configuration
    }

    /// Runs until the client shuts down; then cancels what is left and frees every handle.
    func run() {
        while true {
            let (submissions, isClosed) = inbox.take()
            if isClosed {
                for submission in submissions { submission.completion(.canceled) }
                break
            }
            var completed = 0
            for submission in submissions where !start(submission) { completed += 1 }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            completed += finishCompleted()
            if completed > 0 { configuration.completionRoundEnded?() }
            // Sleeps until a socket is ready, a libcurl timer is due, or `inbox` wakes it.
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        cancelActive()
        configuration.completionRoundEnded?()
        for handle in idle { curl_easy_cleanup(handle) }
        idle.removeAll()
        inbox.detach()
        curl_multi_cleanup(multi)
    }

    /// Adds a POST to the multi handle; false when it could not start (it has then
    /// completed with the error).
    private func start(_ submission: CurlInbox.Submission) -> Bool {
        guard let handle = idle.popLast() ?? curl_easy_init() else {
            submission.completion(.failed(WebhookTransportError(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "no easy handle")))
            return false
        }
        let transfer = CurlTransfer(
            request: submission.request, completion: submission.completion, addressGuard: configuration.addressGuard,
            bodyLimit: configuration.responseBodyLimit, discardLimit: configuration.responseDiscardLimit
        )
        var result = configure(handle, for: transfer)
        if result == CURLE_OK {
            let added = curl_multi_add_handle(multi, handle)
            result = added == CURLM_OK ? CURLE_OK : CURLE_FAILED_INIT
        }
        guard result == CURLE_OK else {
            recycle(handle)
            transfer.completion(.failed(WebhookTransportError(code: Int(result.rawValue), message: transfer.errorMessage(result))))
            return false
        }
        active[handle] = transfer
        return true
    }

    /// Sets every option of one POST on a fresh (or reset) easy handle.
    private func configure(_ handle: UnsafeMutableRawPointer, for transfer: CurlTransfer) -> CURLcode {
        let request = transfer.request
        let lines = WebhookHeaders.lines(
            eventID: request.eventID, timestamp: time(nil), body: request.body,
            signer: configuration.signer, userAgent: configuration.userAgent
        )
        for line in lines {
            guard let list = curl_slist_append(transfer.headerList, line) else { return CURLE_OUT_OF_MEMORY }
            transfer.headerList = list
        }
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        let timeout = configuration.timeout.components
        let timeoutMilliseconds = max(1, Int(timeout.seconds) * 1000 + Int(timeout.attoseconds / 1_000_000_000_000_000))
        let results = [
            cmg_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer),
            cmg_curl_setopt_string(handle, CURLOPT_URL, request.url),
            // Only http and https, never followed elsewhere, never through a proxy
            // from the environment (which would connect past the address guard).
            cmg_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
            cmg_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0),
            cmg_curl_setopt_string(handle, CURLOPT_PROXY, ""),
            cmg_curl_setopt_string(handle, CURLOPT_NOPROXY, "*"),
            // No SIGALRM for DNS timeouts: signals and threads do not mix.
            cmg_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
            cmg_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds),
            cmg_curl_setopt_long(handle, CURLOPT_POST, 1),
            cmg_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, request.body.count),
            Self.setBody(request.body, on: handle),
            cmg_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, transfer.headerList),
            cmg_curl_setopt_write_callback(handle, curlTransferWrite),
            cmg_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context),
            cmg_curl_setopt_opensocket_callback(handle, curlTransferOpenSocket),
            cmg_curl_setopt_pointer(handle, CURLOPT_OPENSOCKETDATA, context),
        ]
        return results.first { $0 != CURLE_OK } ?? CURLE_OK
    }

    /// COPYPOSTFIELDS copies, so the request's bytes need not outlive this call.
    private static func setBody(_ body: [UInt8], on handle: UnsafeMutableRawPointer) -> CURLcode {
        guard !body.isEmpty else { return cmg_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "") }
        return body.withUnsafeBytes { bytes in
            cmg_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        }
    }

    /// Ends every transfer libcurl reports done; returns how many.
    private func finishCompleted() -> Int {
        var queued: Int32 = 0
        var finished = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
            let result = cmg_curl_message_result(message)
            finish(handle, result: result)
            finished += 1
        }
        return finished
    }

    private func finish(_ handle: UnsafeMutableRawPointer, result: CURLcode) {
        curl_multi_remove_handle(multi, handle)
        guard let transfer = active.removeValue(forKey: handle) else { return }
        var status = 0
        _ = cmg_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        recycle(handle)
        transfer.completion(Self.outcome(of: transfer, result: result, status: status))
    }

    /// A status line that arrived counts even when the body was cut off; a refused
    /// address counts only when nothing answered at all.
    static func outcome(of transfer: CurlTransfer, result: CURLcode, status: Int) -> WebhookPostOutcome {
        if status > 0 && (result == CURLE_OK || transfer.wasCutOff) {
            return .answered(status: status, body: transfer.responseBody)
        }
        if status == 0, let refusal = transfer.refusal {
            return .refused(reason: refusal)
        }
        return .failed(WebhookTransportError(code: Int(result.rawValue), message: transfer.errorMessage(result)))
    }

    private func recycle(_ handle: UnsafeMutableRawPointer) {
        if idle.count < Self.idleHandleLimit {
            curl_easy_reset(handle)
            idle.append(handle)
        } else {
            curl_easy_cleanup(handle)
        }
    }

    private func cancelActive() {
        for (handle, transfer) in active {
            curl_multi_remove_handle(multi, handle)
            curl_easy_cleanup(handle)
            transfer.completion(.canceled)
        }
        active.removeAll()
    }
}
