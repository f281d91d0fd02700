/* tls_cache: the process's stash of TLS sessions for one backend, shared by every worker. */
#ifndef WP_TLS_CACHE_H
#define WP_TLS_CACHE_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MariaDB and MySQL (OpenSSL) send two TLS 1.3 tickets per full handshake
 * and one per resumption; a few more absorb a burst of new connections. */
#define TLS_CACHE_STASH 8

/* Whether the backend resumes a TLS 1.3 ticket more than once. Learned
 * from the connections themselves: a ticket is offered a second time once
 * its first offer resumed (the probe). */
enum tls_reuse {
	TLS_REUSE_UNKNOWN = 0,	/* not learned yet: one connection opens at a time */
	TLS_REUSE_ACCEPTED = 1, /* it does (OpenSSL's stateless tickets): one ticket serves a burst */
	TLS_REUSE_REFUSED = 2,	/* it does not: every ticket is offered once */
};
const char *tls_reuse_str(enum tls_reuse reuse);

/* What a pool may do before it opens one connection to the backend
 * (tls_cache_admit). Every answer but FREE and WAIT is a claim the
 * connection holds until tls_cache_release. */
enum tls_admit {
	TLS_ADMIT_FREE = 0,   /* open it: the stash has what it needs (or resumption is off) */
	TLS_ADMIT_TICKET = 1, /* open it: a single-use ticket is set aside for it */
	TLS_ADMIT_PILOT = 2,  /* open it alone: it brings tickets, or checks them, or teaches reuse */
	TLS_ADMIT_WAIT = 3,   /* not now: the pilot's release says when (tls_cache_release) */
};
const char *tls_admit_str(enum tls_admit admit);

struct tls_ticket {
	SSL_SESSION *session; /* owned */
	uint64_t seq;	      /* arrival order: a refusal drops this and older */
	uint64_t received_ms;
	uint64_t expires_ms;
	unsigned offers;  /* times handed out */
	unsigned resumes; /* times the server resumed it */
};

/* Every worker reads and writes it, so every function takes |lock|, briefly:
 * only on the connect path (a ticket arrives, is offered, a handshake ends),
 * never per query. */
struct tls_cache {
	pthread_mutex_t lock;
	struct tls_ticket stash[TLS_CACHE_STASH]; /* oldest first */
	size_t n;
	uint64_t next_seq;
	uint64_t (*clock_ms)(void); /* CLOCK_MONOTONIC in ms: when a ticket arrives */
	bool enabled;
	uint64_t max_age_ms;	   /* cap on a ticket's life; 0: none */
	uint64_t refresh_after_ms; /* no refresh before this */
	enum tls_reuse reuse;
	unsigned probes_refused; /* in a row, while learning */
	bool verified;	  /* the stash's tickets came from the server as it runs now */
	bool plaintext;	  /* the last greeting offered no TLS: nothing to wait for */
	bool pilot;	  /* a TLS_ADMIT_PILOT claim is out */
	size_t reserved;  /* TLS_ADMIT_TICKET claims out */
	bool waiting;	  /* someone got TLS_ADMIT_WAIT since the last release */
	uint64_t expired; /* tickets dropped unused at expiry */
	uint64_t evicted; /* tickets pushed out by newer ones */
};

/* tls_cache_init: |clock_ms| is read whenever a ticket arrives; tickets
 * live at most |max_age_ms| (0: the server's word). */
void tls_cache_init(struct tls_cache *c, bool enabled, uint64_t max_age_ms,
		    uint64_t (*clock_ms)(void));
void tls_cache_cleanup(struct tls_cache *c);
/* tls_cache_reset forgets every ticket and what was learned, keeping the
 * lock: a reload changed how warmpool reaches the backend. */
void tls_cache_reset(struct tls_cache *c, bool enabled, uint64_t max_age_ms);

/* tls_cache_install makes |ctx| (a client context) hand new sessions to the
 * cache bound to each SSL with tls_cache_bind. */
void tls_cache_install(SSL_CTX *ctx);
void tls_cache_bind(SSL *ssl, struct tls_cache *c);

/* tls_cache_put takes ownership of |session|. Sessions that cannot be
 * resumed are freed; a full stash evicts its oldest ticket. A ticket comes
 * from the server as it runs now: the stash counts as verified. */
void tls_cache_put(struct tls_cache *c, SSL_SESSION *session, uint64_t now_ms);

/* tls_cache_take returns the session to offer, with a reference the caller
 * owns, and its sequence number (for tls_cache_outcome). TLS 1.2 sessions,
 * and TLS 1.3 tickets of a server that accepts reuse, stay in the stash;
 * other TLS 1.3 tickets leave it, so none is offered twice, except the one
 * probe that learns reuse. Expired tickets are dropped on the way. NULL
 * when the stash has nothing to offer or the cache is disabled. */
SSL_SESSION *tls_cache_take(struct tls_cache *c, uint64_t now_ms, uint64_t *out_seq);

/* tls_cache_outcome: the server did or did not resume the session of |seq|.
 * A refusal drops that ticket and every older one (a restart rotated the
 * server's keys). A refusal of a ticket the server resumed before means it
 * refuses reuse, or restarted in between: two such refused probes in a row
 * make the answer REFUSED; after ACCEPTED, reuse is learned again. */
void tls_cache_outcome(struct tls_cache *c, uint64_t seq, bool resumed);

/* tls_cache_admit says whether one more connection may open now (above);
 * WAIT marks the cache so that the next release reports it. */
enum tls_admit tls_cache_admit(struct tls_cache *c, uint64_t now_ms);
/* tls_cache_release ends a claim: a TICKET claim once its ticket was
 * offered, a PILOT claim once its connection logged in or closed. True when
 * someone was told to wait since: the caller wakes them. */
bool tls_cache_release(struct tls_cache *c, enum tls_admit claim);

/* tls_cache_suspect: a live connection was lost, or a connect failed: the
 * server may have restarted, so the next connection checks the tickets
 * alone before the others trust them. */
void tls_cache_suspect(struct tls_cache *c);
/* tls_cache_note_greeting: the server's greeting offered TLS or not
 * (ssl_mode=preferred): while it does not, connections open without waiting
 * for a pilot; once it does again, a pilot brings tickets first. */
void tls_cache_note_greeting(struct tls_cache *c, bool offers_tls);

/* tls_cache_refresh_due: the freshest ticket is past half its lifetime, so
 * one new connection now (resuming with it, and bringing new tickets) keeps
 * the next one from paying a full handshake. True at most once per half
 * lifetime, whatever the refresh brings (TLS 1.2 resumption brings none). */
bool tls_cache_refresh_due(struct tls_cache *c, uint64_t now_ms);

/* tls_cache_reuse reads what was learned (for /status and /metrics). */
enum tls_reuse tls_cache_reuse(struct tls_cache *c);

#endif
