/* tls_cache: the shared ticket stash, who may open a connection now, and BoringSSL's new-session callback. */
#include "tls_cache.h"

#include <string.h>

static int cache_ex_index = -1;

const char *tls_reuse_str(enum tls_reuse reuse)
{
	switch (reuse) {
	case TLS_REUSE_UNKNOWN: return "unknown";
	case TLS_REUSE_ACCEPTED: return "accepted";
	case TLS_REUSE_REFUSED: return "refused";
	}
	return "?";
}

const char *tls_admit_str(enum tls_admit admit)
{
	switch (admit) {
	case TLS_ADMIT_FREE: return "free";
	case TLS_ADMIT_TICKET: return "ticket";
	case TLS_ADMIT_PILOT: return "pilot";
	case TLS_ADMIT_WAIT: return "wait";
	}
	return "?";
}

/* detach_at removes ticket |i| from the stash and returns its session,
 * whose reference the caller now owns. */
static SSL_SESSION *detach_at(struct tls_cache *c, size_t i)
{
	SSL_SESSION *s = c->stash[i].session;
	memmove(&c->stash[i], &c->stash[i + 1], (c->n - i - 1) * sizeof(c->stash[0]));
	c->n--;
	if (c->reserved > c->n)
		c->reserved = c->n; /* a reservation cannot outlive every ticket */
	return s;
}

static void drop_at(struct tls_cache *c, size_t i)
{
	SSL_SESSION_free(detach_at(c, i));
}

static void drop_all(struct tls_cache *c)
{
	while (c->n > 0)
		drop_at(c, c->n - 1);
}

/* drop_through drops the ticket of |seq| and every older one. */
static void drop_through(struct tls_cache *c, uint64_t seq)
{
	size_t keep = 0;
	while (keep < c->n && c->stash[keep].seq <= seq)
		keep++;
	while (keep-- > 0)
		drop_at(c, 0);
}

static void drop_expired(struct tls_cache *c, uint64_t now_ms)
{
	for (size_t i = c->n; i-- > 0;) {
		if (c->stash[i].expires_ms <= now_ms) {
			drop_at(c, i);
			c->expired++;
		}
	}
}

static void reset_locked(struct tls_cache *c, bool enabled, uint64_t max_age_ms)
{
	drop_all(c);
	c->enabled = enabled;
	c->max_age_ms = max_age_ms;
	c->refresh_after_ms = 0;
	c->reuse = TLS_REUSE_UNKNOWN;
	c->probes_refused = 0;
	c->verified = false;
	c->plaintext = false;
	c->reserved = 0;
	/* |pilot| stays: a claim still out is released by its connection. */
}

void tls_cache_init(struct tls_cache *c, bool enabled, uint64_t max_age_ms,
		    uint64_t (*clock_ms)(void))
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->enabled = enabled;
	c->max_age_ms = max_age_ms;
	c->clock_ms = clock_ms;
}

void tls_cache_cleanup(struct tls_cache *c)
{
	drop_all(c);
	pthread_mutex_destroy(&c->lock);
}

void tls_cache_reset(struct tls_cache *c, bool enabled, uint64_t max_age_ms)
{
	pthread_mutex_lock(&c->lock);
	reset_locked(c, enabled, max_age_ms);
	pthread_mutex_unlock(&c->lock);
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
	pthread_mutex_lock(&c->lock);
	if (!c->enabled || !SSL_SESSION_is_resumable(session)) {
		pthread_mutex_unlock(&c->lock);
		SSL_SESSION_free(session);
		return;
	}
	if (c->n == TLS_CACHE_STASH) {
		drop_at(c, 0);
		c->evicted++;
	}
	uint64_t expires = now_ms + session_lifetime_ms(session);
	if (c->max_age_ms && expires > now_ms + c->max_age_ms)
		expires = now_ms + c->max_age_ms;
	c->stash[c->n++] = (struct tls_ticket){
		.session = session,
		.seq = ++c->next_seq,
		.received_ms = now_ms,
		.expires_ms = expires,
	};
	c->verified = true;
	c->plaintext = false;
	pthread_mutex_unlock(&c->lock);
}

/* pick chooses the ticket to offer: the newest, except while reuse is
 * being learned, when a ticket resumed on its only offer is offered again
 * (the probe). */
static size_t pick(const struct tls_cache *c)
{
	if (c->reuse == TLS_REUSE_UNKNOWN) {
		for (size_t i = c->n; i-- > 0;) {
			const struct tls_ticket *t = &c->stash[i];
			if (t->resumes == 1 && t->offers == 1)
				return i;
		}
	}
	return c->n - 1;
}

/* stays says whether a TLS 1.3 ticket stays in the stash once offered:
 * always where reuse is accepted, never where refused, and while learning
 * for its first offer and the probe. */
static bool stays(const struct tls_cache *c, const struct tls_ticket *t)
{
	switch (c->reuse) {
	case TLS_REUSE_ACCEPTED: return true;
	case TLS_REUSE_REFUSED: return false;
	case TLS_REUSE_UNKNOWN: break;
	}
	return t->offers == 0 || (t->offers == 1 && t->resumes == 1);
}

SSL_SESSION *tls_cache_take(struct tls_cache *c, uint64_t now_ms, uint64_t *out_seq)
{
	*out_seq = 0;
	pthread_mutex_lock(&c->lock);
	SSL_SESSION *s = NULL;
	if (c->enabled)
		drop_expired(c, now_ms);
	if (c->enabled && c->n > 0) {
		size_t i = pick(c);
		struct tls_ticket *t = &c->stash[i];
		*out_seq = t->seq;
		s = t->session;
		if (!SSL_SESSION_should_be_single_use(s) || stays(c, t)) {
			SSL_SESSION_up_ref(s);
			t->offers++;
		} else {
			detach_at(c, i); /* ownership moves to the caller */
			if (c->reserved > 0)
				c->reserved--; /* the claim it was set aside for */
		}
	}
	pthread_mutex_unlock(&c->lock);
	return s;
}

static struct tls_ticket *find(struct tls_cache *c, uint64_t seq, size_t *out_i)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->stash[i].seq == seq) {
			*out_i = i;
			return &c->stash[i];
		}
	}
	return NULL;
}

static void refused_locked(struct tls_cache *c, uint64_t seq)
{
	size_t i;
	struct tls_ticket *t = find(c, seq, &i);
	c->verified = false;
	/* Only a ticket the server resumed before says anything about reuse. */
	if (!t || t->resumes == 0 || c->reuse == TLS_REUSE_REFUSED) {
		drop_through(c, seq);
		return;
	}
	drop_through(c, seq); /* a restart would have refused these too */
	if (c->reuse == TLS_REUSE_ACCEPTED) {
		c->reuse = TLS_REUSE_UNKNOWN; /* a restart, or a server that changed: learn again */
		c->probes_refused = 0;
	} else if (++c->probes_refused >= 2) {
		/* One refused probe may be a restart between the two offers;
		 * two in a row is a server that refuses reuse. */
		c->reuse = TLS_REUSE_REFUSED;
	}
}

void tls_cache_outcome(struct tls_cache *c, uint64_t seq, bool resumed)
{
	pthread_mutex_lock(&c->lock);
	if (!resumed) {
		refused_locked(c, seq);
	} else {
		size_t i;
		struct tls_ticket *t = find(c, seq, &i);
		c->verified = true;
		if (t && ++t->resumes >= 2 && c->reuse == TLS_REUSE_UNKNOWN) {
			c->reuse = TLS_REUSE_ACCEPTED;
			c->probes_refused = 0;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

static enum tls_admit admit_locked(struct tls_cache *c, uint64_t now_ms)
{
	if (!c->enabled || c->plaintext)
		return TLS_ADMIT_FREE;
	drop_expired(c, now_ms);
	if (c->verified && c->n > 0 && c->reuse == TLS_REUSE_ACCEPTED)
		return TLS_ADMIT_FREE;
	if (c->verified && c->n > 0 && c->reuse == TLS_REUSE_REFUSED) {
		if (c->n <= c->reserved)
			return TLS_ADMIT_WAIT; /* the next logins bring more */
		c->reserved++;
		return TLS_ADMIT_TICKET;
	}
	if (c->pilot)
		return TLS_ADMIT_WAIT;
	c->pilot = true;
	return TLS_ADMIT_PILOT;
}

enum tls_admit tls_cache_admit(struct tls_cache *c, uint64_t now_ms)
{
	pthread_mutex_lock(&c->lock);
	enum tls_admit a = admit_locked(c, now_ms);
	if (a == TLS_ADMIT_WAIT)
		c->waiting = true;
	pthread_mutex_unlock(&c->lock);
	return a;
}

bool tls_cache_release(struct tls_cache *c, enum tls_admit claim)
{
	if (claim != TLS_ADMIT_TICKET && claim != TLS_ADMIT_PILOT)
		return false;
	pthread_mutex_lock(&c->lock);
	if (claim == TLS_ADMIT_PILOT)
		c->pilot = false;
	bool waiting = c->waiting;
	c->waiting = false;
	pthread_mutex_unlock(&c->lock);
	return waiting;
}

void tls_cache_suspect(struct tls_cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->verified = false;
	pthread_mutex_unlock(&c->lock);
}

void tls_cache_note_greeting(struct tls_cache *c, bool offers_tls)
{
	pthread_mutex_lock(&c->lock);
	c->plaintext = !offers_tls;
	pthread_mutex_unlock(&c->lock);
}

bool tls_cache_refresh_due(struct tls_cache *c, uint64_t now_ms)
{
	pthread_mutex_lock(&c->lock);
	bool due = false;
	/* No ticket: the next connect is a full handshake anyway. */
	if (c->enabled && c->n > 0 && now_ms >= c->refresh_after_ms) {
		const struct tls_ticket *t = &c->stash[c->n - 1];
		uint64_t half_life = (t->expires_ms - t->received_ms) / 2;
		if (now_ms >= t->received_ms + half_life) {
			c->refresh_after_ms = now_ms + half_life;
			due = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return due;
}

enum tls_reuse tls_cache_reuse(struct tls_cache *c)
{
	pthread_mutex_lock(&c->lock);
	enum tls_reuse r = c->reuse;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* BoringSSL calls this for every new session (each TLS 1.3 ticket). */
static int on_new_session(SSL *ssl, SSL_SESSION *session)
{
	struct tls_cache *c = SSL_get_ex_data(ssl, cache_ex_index);
	if (!c)
		return 0; /* not ours to keep: BoringSSL frees it */
	tls_cache_put(c, session, c->clock_ms());
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
