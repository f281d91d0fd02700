/* tls_cache: the ticket stash and BoringSSL's new-session callback that fills it. */
#include "tls_cache.h"

#include <string.h>

static int cache_ex_index = -1;

static void drop_at(struct tls_cache *c, size_t i)
{
	SSL_SESSION_free(c->stash[i].session);
	memmove(&c->stash[i], &c->stash[i + 1], (c->n - i - 1) * sizeof(c->stash[0]));
	c->n--;
}

void tls_cache_init(struct tls_cache *c, bool enabled, uint64_t max_age_ms,
		    const uint64_t *clock_ms)
{
	memset(c, 0, sizeof(*c));
	c->enabled = enabled;
	c->max_age_ms = max_age_ms;
	c->clock_ms = clock_ms;
}

void tls_cache_cleanup(struct tls_cache *c)
{
	while (c->n > 0)
		drop_at(c, c->n - 1);
}

/* session_lifetime_ms: the shorter of the session's timeout and the
 * server's ticket lifetime hint, less a tenth for clock skew and the time a
 * ClientHello takes to arrive. */
static uint64_t session_lifetime_ms(const SSL_SESSION *s)
{
	uint64_t secs = SSL_SESSION_get_timeout(s);
	uint32_t hint = SSL_SESSION_get_ticket_lifetime_hint(s);
	if (hint > 0 && hint < secs)
		secs = hint;
	return secs * 900;
}

void tls_cache_put(struct tls_cache *c, SSL_SESSION *session, uint64_t now_ms)
{
	if (!c->enabled || !SSL_SESSION_is_resumable(session)) {
		SSL_SESSION_free(session);
		return;
	}
	if (c->n == TLS_CACHE_STASH) {
		drop_at(c, 0);
		c->evicted++;
	}
	c->stash[c->n++] = (struct tls_ticket){
		.session = session,
		.seq = ++c->next_seq,
		.received_ms = now_ms,
		.expires_ms = now_ms + session_lifetime_ms(session),
	};
	struct tls_ticket *t = &c->stash[c->n - 1];
	if (c->max_age_ms && t->expires_ms > now_ms + c->max_age_ms)
		t->expires_ms = now_ms + c->max_age_ms;
}

SSL_SESSION *tls_cache_take(struct tls_cache *c, uint64_t now_ms, uint64_t *out_seq)
{
	*out_seq = 0;
	if (!c->enabled || c->n == 0)
		return NULL;
	struct tls_ticket *t = &c->stash[c->n - 1];
	if (t->expires_ms <= now_ms) {
		/* The newest has expired, so have all the older ones. */
		c->expired += c->n;
		tls_cache_cleanup(c);
		return NULL;
	}
	*out_seq = t->seq;
	SSL_SESSION *s = t->session;
	if (SSL_SESSION_should_be_single_use(s)) {
		c->n--; /* ownership moves to the caller */
		return s;
	}
	SSL_SESSION_up_ref(s);
	return s;
}

void tls_cache_refused(struct tls_cache *c, uint64_t seq)
{
	size_t keep = 0;
	while (keep < c->n && c->stash[keep].seq <= seq)
		keep++;
	while (keep-- > 0)
		drop_at(c, 0);
}

bool tls_cache_refresh_due(struct tls_cache *c, uint64_t now_ms)
{
	if (!c->enabled || c->n == 0 || now_ms < c->refresh_after_ms)
		return false; /* no ticket: the next connect is a full handshake anyway */
	const struct tls_ticket *t = &c->stash[c->n - 1];
	uint64_t half_life = (t->expires_ms - t->received_ms) / 2;
	if (now_ms < t->received_ms + half_life)
		return false;
	c->refresh_after_ms = now_ms + half_life;
	return true;
}

/* BoringSSL calls this for every new session (each TLS 1.3 ticket). */
static int on_new_session(SSL *ssl, SSL_SESSION *session)
{
	struct tls_cache *c = SSL_get_ex_data(ssl, cache_ex_index);
	if (!c)
		return 0; /* not ours to keep: BoringSSL frees it */
	tls_cache_put(c, session, *c->clock_ms);
	return 1; /* we took the reference */
}

void tls_cache_install(SSL_CTX *ctx)
{
	if (cache_ex_index < 0)
		cache_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	SSL_CTX_sess_set_new_cb(ctx, on_new_session);
}

void tls_cache_bind(SSL *ssl, struct tls_cache *c)
{
	SSL_set_ex_data(ssl, cache_ex_index, c);
}
