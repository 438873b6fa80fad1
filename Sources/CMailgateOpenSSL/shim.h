// OpenSSL through the system library (Debian libssl-dev): TLS for SMTP, HMAC and
// SHA-256 for webhook signatures and idempotency. Macros become typed functions.
#ifndef CMAILGATE_OPENSSL_SHIM_H
#define CMAILGATE_OPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <openssl/rand.h>

static inline long cmg_ssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline int cmg_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long cmg_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
#endif
