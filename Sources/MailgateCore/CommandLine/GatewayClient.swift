import CMailgateCurl
import Foundation

/// A small blocking client of the gateway's API for `mailgate send`, over libcurl's
/// easy interface (so https URLs work as well as http).
public struct GatewayClient: Sendable {
    public let baseURL: String
    public let apiKey: String?

    public init(baseURL: String, apiKey: String?) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
    }

    /// What the gateway answered.
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    /// POSTs a JSON body to `path`; throws when no HTTP answer came at all.
    public func post(path: String, json: [UInt8], timeout: Duration = .seconds(60)) throws(GatewayClientError) -> Response {
        _ = GatewayClient.globalInit
        guard let handle = curl_easy_init() else { throw GatewayClientError("libcurl could not start") }
        defer { curl_easy_cleanup(handle) }
        var headers: UnsafeMutablePointer<curl_slist>?
        for header in ["Content-Type: application/json", "Accept: application/json", "Expect:"]
            + (apiKey.map { ["Authorization: Bearer \($0)"] } ?? [])
        {
            headers = curl_slist_append(headers, header)
        }
        defer { curl_slist_free_all(headers) }
        let sink = ResponseSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        var errorBuffer = [CChar](repeating: 0, count: Int(cmg_curl_error_size()))
        let code: CURLcode = json.withUnsafeBufferPointer { body in
            errorBuffer.withUnsafeMutableBufferPointer { errors in
                _ = cmg_curl_setopt_string(handle, CURLOPT_URL, baseURL + path)
                _ = cmg_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
                _ = cmg_curl_setopt_long(handle, CURLOPT_POST, 1)
                _ = cmg_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress))
                _ = cmg_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
                _ = cmg_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
                _ = cmg_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout.components.seconds * 1000))
                _ = cmg_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
                _ = cmg_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque())
                _ = cmg_curl_setopt_write_callback(handle) { data, size, count, context in
                    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
                    let length = size * count
                    if let data, sink.bytes.count + length <= ResponseSink.limit {
                        sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
                    }
                    return length
                }
                return curl_easy_perform(handle)
            }
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw GatewayClientError("cannot reach \(baseURL): \(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)")
        }
        var status = 0
        _ = cmg_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, body: sink.bytes)
    }

    private static let globalInit: Void = { _ = cmg_curl_global_init_default() }()
}

/// The response body, collected by libcurl's write callback (capped).
private final class ResponseSink {
    static let limit = 1 << 20
    var bytes: [UInt8] = []
}

/// Why a call to the gateway failed before any answer.
public struct GatewayClientError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
