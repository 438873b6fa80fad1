import CMailgateOpenSSL

/// An OpenSSL client context (`SSL_CTX`): protocol floor, trust store and verify mode,
/// made once per configuration and shared by every connection.
///
/// `@unchecked Sendable`: OpenSSL ≥ 1.1 lets many threads create sessions from one
/// context; the context is never changed after `init`.
final class TLSContext: @unchecked Sendable {
    let handle: OpaquePointer
    let verifiesCertificate: Bool

    /// - Parameters:
    ///   - verifiesCertificate: check the chain against the system store (plus
    ///     `additionalTrustAnchorsFile`) and fail the handshake when it does not verify.
    init(verifiesCertificate: Bool, additionalTrustAnchorsFile: String?) throws(SMTPError) {
        guard let handle = SSL_CTX_new(TLS_client_method()) else {
            throw .tlsHandshakeFailed(reason: "cannot create TLS context: \(OpenSSLErrors.drain())")
        }
        self.handle = handle
        self.verifiesCertificate = verifiesCertificate
        _ = cmg_ssl_ctx_set_min_proto_version(handle, TLS1_2_VERSION)
        guard verifiesCertificate else {
            SSL_CTX_set_verify(handle, SSL_VERIFY_NONE, nil)
            return
        }
        SSL_CTX_set_verify(handle, SSL_VERIFY_PEER, nil)
        guard SSL_CTX_set_default_verify_paths(handle) == 1 else {
            throw .tlsHandshakeFailed(reason: "cannot load the system trust store: \(OpenSSLErrors.drain())")
        }
        if let file = additionalTrustAnchorsFile, SSL_CTX_load_verify_locations(handle, file, nil) != 1 {
            throw .tlsHandshakeFailed(reason: "cannot load trust anchors from \(file): \(OpenSSLErrors.drain())")
        }
    }

    deinit {
        SSL_CTX_free(handle)
    }
}

/// OpenSSL's per-thread error queue, read into one line of text.
enum OpenSSLErrors {
    /// Empties the queue and returns its entries, or "unknown error" when empty.
    static func drain() -> String {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "unknown error" : messages.joined(separator: "; ")
    }
}
