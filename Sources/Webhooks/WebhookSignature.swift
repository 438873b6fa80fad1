import CMailgateOpenSSL
import Foundation

/// Standard Webhooks signing (standardwebhooks.com): the signature is
/// `v1,` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), where the key is
/// the base64-decoded part of the `whsec_` secret. HMAC comes from OpenSSL's
/// libcrypto, which the gateway links for TLS anyway.
public struct WebhookSigner: Sendable {
    private let key: [UInt8]

    public init(key: [UInt8]) { self.key = key }

    /// The `webhook-signature` header value for one POST.
    public func signature(eventID: String, timestamp: Int, body: [UInt8]) -> String {
        var signed = Array("\(eventID).\(timestamp).".utf8)
        signed.append(contentsOf: body)
        return "v1," + Data(HMACSHA256.authenticate(signed, key: key)).base64EncodedString()
    }
}

/// HMAC-SHA256 and SHA-256 through libcrypto.
public enum HMACSHA256 {
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBufferPointer { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                HMAC(EVP_sha256(), keyBuffer.baseAddress, Int32(keyBuffer.count), messageBuffer.baseAddress, messageBuffer.count, &digest, &length)
            }
        }
        precondition(result != nil, "HMAC-SHA256 failed")
        return Array(digest.prefix(Int(length)))
    }
}

/// SHA-256 digests (idempotency keys compare request bodies by it).
public enum SHA256Digest {
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        bytes.withUnsafeBufferPointer { buffer in
            _ = SHA256(buffer.baseAddress, buffer.count, &digest)
        }
        return digest
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output = [UInt8]()
        output.reserveCapacity(64)
        for byte in hash(bytes) {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
