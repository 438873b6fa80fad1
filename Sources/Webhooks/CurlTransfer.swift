import CMailgateCurl
#if canImport(Glibc)
import Glibc
#endif

/// One POST on its easy handle: what libcurl's callbacks write into while it runs.
/// It lives on the client's thread only; libcurl reaches it through the context
/// pointers (`Unmanaged`), which stay valid because the loop keeps the transfer
/// in its table until the handle is removed from the multi handle.
final class CurlTransfer {
    let request: WebhookRequest
    let completion: @Sendable (WebhookPostOutcome) -> Void
    let addressGuard: AddressGuard
    private let bodyLimit: Int
    private let discardLimit: Int

    /// The first `bodyLimit` bytes of the response body.
    private(set) var responseBody: [UInt8] = []
    /// Body bytes seen in all; past `discardLimit` the transfer is cut off.
    private var responseBytes = 0
    /// True when the write callback stopped the transfer at `discardLimit`.
    private(set) var wasCutOff = false
    /// Why the guard refused an address, if it refused any.
    private(set) var refusal: String?
    /// libcurl writes its detailed error message here (CURLOPT_ERRORBUFFER).
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// The header list given to CURLOPT_HTTPHEADER, freed with the transfer.
    var headerList: UnsafeMutablePointer<curl_slist>?

    init(
        request: WebhookRequest, completion: @escaping @Sendable (WebhookPostOutcome) -> Void,
        addressGuard: AddressGuard, bodyLimit: Int, discardLimit: Int
    ) {
        self.request = request
        self.completion = completion
        self.addressGuard = addressGuard
        self.bodyLimit = bodyLimit
        self.discardLimit = max(bodyLimit, discardLimit)
        let size = Int(cmg_curl_error_size())
        errorBuffer = .allocate(capacity: size)
        errorBuffer.initialize(repeating: 0, count: size)
    }

    deinit {
        errorBuffer.deallocate()
        curl_slist_free_all(headerList)
    }

    /// libcurl's error message for this transfer, or its generic text for `code`.
    func errorMessage(_ code: CURLcode) -> String {
        let detailed = String(cString: errorBuffer)
        return detailed.isEmpty ? String(cString: curl_easy_strerror(code)) : detailed
    }

    /// Keeps the head of the body and counts the rest; false once the receiver has
    /// sent more than `discardLimit` (the answer is known; the rest is not worth reading).
    fileprivate func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let room = bodyLimit - responseBody.count
        if room > 0 { responseBody.append(contentsOf: bytes.prefix(room)) }
        responseBytes += bytes.count
        if responseBytes > discardLimit {
            wasCutOff = true
            return false
        }
        return true
    }

    /// Opens the socket libcurl asked for, unless the guard refuses its address.
    fileprivate func openSocket(_ address: UnsafeMutablePointer<curl_sockaddr>) -> curl_socket_t {
        let family = address.pointee.family
        let socketAddress = UnsafeRawPointer(address)
            .advanced(by: MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!)
            .assumingMemoryBound(to: sockaddr.self)
        guard let ip = IPAddress(socketAddress: socketAddress) else {
            refusal = "address family \(family) is not IPv4 or IPv6"
            return cmg_curl_socket_bad()
        }
        if let reason = addressGuard.refusal(for: ip) {
            refusal = reason
            return cmg_curl_socket_bad()
        }
        let type = address.pointee.socktype | Int32(SOCK_CLOEXEC.rawValue)
        let descriptor = socket(family, type, address.pointee.protocol)
        return descriptor < 0 ? cmg_curl_socket_bad() : descriptor
    }
}

/// CURLOPT_WRITEFUNCTION: the response body, in pieces. Returning less than it was
/// given makes libcurl stop the transfer (CURLE_WRITE_ERROR).
let curlTransferWrite: curl_write_callback = { data, size, count, context in
    let total = size * count
    guard let data, let context else { return total }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.receive(UnsafeRawBufferPointer(start: data, count: total)) ? total : 0
}

/// CURLOPT_OPENSOCKETFUNCTION: every address libcurl is about to connect to passes
/// the address guard here, after resolution and on every attempt, so a name that
/// resolves to a private address (DNS rebinding included) never gets a connection.
let curlTransferOpenSocket: curl_opensocket_callback = { context, purpose, address in
    guard let context, let address else { return cmg_curl_socket_bad() }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.openSocket(address)
}
