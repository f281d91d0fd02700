/* tls_cache: a worker's stash of TLS sessions for one backend: single-use, fresh, never offered twice. */
#ifndef WP_TLS_CACHE_H
#define WP_TLS_CACHE_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MariaDB and MySQL (OpenSSL) send two TLS 1.3 tickets per full handshake
 * and one per resumption; a few more absorb a burst of new connections. */
#define TLS_CACHE_STASH 8

struct tls_ticket {
	SSL_SESSION *session; /* owned */
	uint64_t seq;	      /* arrival order: a refusal drops this and older */
	uint64_t received_ms;
	uint64_t expires_ms;
};

struct tls_cache {
	struct tls_ticket stash[TLS_CACHE_STASH]; /* oldest first */
	size_t n;
	uint64_t next_seq;
	const uint64_t *clock_ms; /* the owning worker's clock */
	bool enabled;
	uint64_t max_age_ms;	  /* cap on a ticket's life; 0: none */
	uint64_t refresh_after_ms; /* no refresh before this */
	uint64_t expired;	  /* tickets dropped unused at expiry */
	uint64_t evicted;	  /* tickets pushed out by newer ones */
};

/* tls_cache_init: |clock_ms| is read whenever a ticket arrives; tickets
 * live at most |max_age_ms| (0: the server's word). */
void tls_cache_init(struct tls_cache *c, bool enabled, uint64_t max_age_ms,
		    const uint64_t *clock_ms);
void tls_cache_cleanup(struct tls_cache *c);

/* tls_cache_install makes |ctx| (a client context) hand new sessions to the
 * cache bound to each SSL with tls_cache_bind. */
void tls_cache_install(SSL_CTX *ctx);
void tls_cache_bind(SSL *ssl, struct tls_cache *c);

/* tls_cache_put takes ownership of |session|. Sessions that cannot be
 * resumed are freed; a full stash evicts its oldest ticket. */
void tls_cache_put(struct tls_cache *c, SSL_SESSION *session, uint64_t now_ms);

/* tls_cache_take returns the freshest unexpired session to offer, with a
 * reference the caller owns, and its sequence number. Single-use sessions
 * (TLS 1.3) leave the stash, so no ticket is ever offered twice; TLS 1.2
 * sessions stay for reuse. Expired tickets are dropped on the way. NULL
 * when the stash has nothing to offer or the cache is disabled. */
SSL_SESSION *tls_cache_take(struct tls_cache *c, uint64_t now_ms, uint64_t *out_seq);

/* tls_cache_refused: the server did not resume the session of |seq|. Every
 * ticket that arrived with or before it dates from the same or an older
 * server epoch (a restart rotates the server's ticket keys): all go. */
void tls_cache_refused(struct tls_cache *c, uint64_t seq);

/* tls_cache_refresh_due: the freshest ticket is past half its lifetime, so
 * one new connection now (resuming with it, and bringing new tickets) keeps
 * the next one from paying a full handshake. True at most once per half
 * lifetime, whatever the refresh brings (TLS 1.2 resumption brings none). */
bool tls_cache_refresh_due(struct tls_cache *c, uint64_t now_ms);

#endif
