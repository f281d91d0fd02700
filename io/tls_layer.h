/* tls_layer: TLS over memory BIOs; it never owns a descriptor and never parses MySQL. */
#ifndef WP_TLS_LAYER_H
#define WP_TLS_LAYER_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "metric.h"
#include "tls_cache.h"

struct tls_conn;

enum tls_role {
	TLS_ROLE_SERVER = 0, /* warmpool facing a client */
	TLS_ROLE_CLIENT = 1, /* warmpool facing a backend */
};

enum tls_io {
	TLS_IO_OK = 0,	  /* progress made, or more input needed */
	TLS_IO_EOF = 1,	  /* the peer sent close_notify */
	TLS_IO_ERROR = 2, /* fatal: see tls_conn_error */
};

struct tls_conn_opts {
	enum tls_role role;
	const char *sni;	  /* client: sent as server name (not for IP literals) */
	const char *verify_name;  /* client: the certificate must match it; NULL: no check */
	struct tls_cache *cache;  /* client: sessions to offer and to keep; NULL: none */
	struct metric_tls *metrics; /* counts this handshake; may be NULL */
};

/* tls_conn_new starts a session on |ctx|; a client offers the cache's
 * freshest session. Returns NULL if BoringSSL cannot allocate. */
struct tls_conn *tls_conn_new(SSL_CTX *ctx, const struct tls_conn_opts *opts);
void tls_conn_free(struct tls_conn *t);

/* tls_conn_start sends the ClientHello (client role); ciphertext goes to
 * |cipher_out|. */
enum tls_io tls_conn_start(struct tls_conn *t, struct buf *cipher_out);

/* tls_conn_input feeds ciphertext from the socket, advances the handshake,
 * appends any plaintext to |plain_out| and any ciphertext to send (handshake
 * messages, alerts) to |cipher_out|. */
enum tls_io tls_conn_input(struct tls_conn *t, const uint8_t *cipher, size_t cipher_len,
			   struct buf *plain_out, struct buf *cipher_out);

/* tls_conn_write encrypts |plain| into |cipher_out|. Only after the handshake. */
bool tls_conn_write(struct tls_conn *t, const uint8_t *plain, size_t plain_len,
		    struct buf *cipher_out);

bool tls_conn_established(const struct tls_conn *t);
/* tls_conn_resumed: the handshake resumed a session. */
bool tls_conn_resumed(const struct tls_conn *t);
/* tls_conn_offered_ticket: a fingerprint (first bytes of SHA-256) of the
 * ticket or session id offered, 0 when none was. Not secret: the ticket
 * travels in clear in the ClientHello. */
uint64_t tls_conn_offered_ticket(const struct tls_conn *t);
double tls_conn_handshake_seconds(const struct tls_conn *t);
const char *tls_conn_version(const struct tls_conn *t);
/* tls_conn_output_capacity: the bytes the session keeps allocated for
 * ciphertext between writes (bounded: see TLS_OUTPUT_KEEP). */
size_t tls_conn_output_capacity(const struct tls_conn *t);
/* tls_conn_error describes why the session failed (verification included). */
const char *tls_conn_error(const struct tls_conn *t);

#endif
