// libcurl through the system library (Debian libcurl4-openssl-dev).
// curl_easy_setopt and curl_easy_getinfo are variadic: one typed wrapper per argument type.
#ifndef CMAILGATE_CURL_SHIM_H
#define CMAILGATE_CURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode cmg_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode cmg_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode cmg_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode cmg_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode cmg_curl_setopt_write_callback(CURL *h, curl_write_callback v) { return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, v); }
static inline CURLcode cmg_curl_setopt_opensocket_callback(CURL *h, curl_opensocket_callback v) { return curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, v); }
static inline CURLcode cmg_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode cmg_curl_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode cmg_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
// Macros and unions that Swift does not import.
static inline CURLcode cmg_curl_global_init_default(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }
static inline CURLcode cmg_curl_message_result(const CURLMsg *m) { return m->data.result; }
static inline curl_socket_t cmg_curl_socket_bad(void) { return CURL_SOCKET_BAD; }
static inline long cmg_curl_error_size(void) { return CURL_ERROR_SIZE; }
#endif
