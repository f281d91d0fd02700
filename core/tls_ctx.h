/* tls_ctx: BoringSSL contexts for the frontend (server side) and each backend (client side). */
#ifndef WP_TLS_CTX_H
#define WP_TLS_CTX_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"

/* tls_ctx_new_server loads a listener's certificate chain and key, and its
 * ticket key file if any. Session tickets are on: one context serves every
 * worker, so a client resumes whichever worker accepts it. NULL with
 * the reason in |why| on failure. The caller owns the result (SSL_CTX_free). */
SSL_CTX *tls_ctx_new_server(const struct cfg_listener *l, char *why, size_t why_len);

/* tls_ctx_new_backend builds the client context for |b|: TLS 1.2 or later,
 * the CA loaded and peer verification on whenever ssl_ca is set, and the
 * client certificate when configured. Returns NULL only on failure (also for
 * ssl_mode=disabled, where the context is still built: a later reload may
 * turn TLS on, and it costs nothing). */
SSL_CTX *tls_ctx_new_backend(const struct cfg_backend *b, char *why, size_t why_len);

/* tls_ctx_load_ticket_keys reads 48 bytes (raw, or 96 hex digits with an
 * optional newline) from |path|. */
bool tls_ctx_load_ticket_keys(const char *path, uint8_t out[48], char *why, size_t why_len);

/* tls_ctx_error_str describes the newest BoringSSL error queue entry and
 * clears the queue. */
const char *tls_ctx_error_str(char *buf, size_t buf_len);

#endif
