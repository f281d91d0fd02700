/* backend: finding, creating, filling and ticking a worker's pool shards. */
#include "backend.h"

#include <stdio.h>
#include <string.h>

#include "backend_tls.h"
#include "balance.h"
#include "client.h"
#include "handoff.h"
#include "log.h"
#include "server.h"
#include "worker.h"

/* share splits a total over the workers: worker i gets total/n, plus one
 * for the first total%n workers; at least |floor| each. */
static size_t share(int total, int n_workers, int worker_id, size_t floor)
{
	size_t n = (size_t)total / (size_t)n_workers + ((size_t)worker_id < (size_t)total % (size_t)n_workers);
	return n < floor ? floor : n;
}

const struct cfg_backend *backend_pool_cfg(const struct backend_pool *bp)
{
	return &bp->w->rt->cfg.backends[bp->backend_idx];
}

/* size_pool sets the backend's limits: this worker's share of min_idle
 * (which sums to min_idle over the process), and max_connections, which
 * bounds the pool's connections over the process (pool_reserve). Only the
 * default profile of a configured user is kept warm; others open on demand. */
static void size_pool(struct backend_pool *bp)
{
	struct worker *w = bp->w;
	const struct cfg_backend *b = backend_pool_cfg(bp);
	bool warm = !bp->profile_caps && !bp->retired_user;
	bp->pool.min_idle = warm ? share(b->min_idle, w->rt->n_workers, w->id, 0) : 0;
	bp->pool.max_conns = b->max_connections > 0 ? (size_t)b->max_connections : 1;
	bp->pool.idle_timeout_ms = (uint64_t)b->idle_timeout_ms;
	bp->pool.max_age_ms = (uint64_t)b->max_age_ms;
}

struct backend_pool *backend_pool_get(struct worker *w, size_t backend_idx,
				      const struct cfg_user *user, uint32_t profile_caps)
{
	for (size_t i = 0; i < w->n_pools; i++) {
		struct backend_pool *bp = w->pools[i];
		if (bp->backend_idx == backend_idx && strcmp(bp->user.name, user->name) == 0 &&
		    bp->profile_caps == profile_caps)
			return bp;
	}
	struct backend_pool *bp = xcalloc(1, sizeof(*bp));
	bp->w = w;
	bp->backend_idx = backend_idx;
	bp->user.name = xstrdup(user->name);
	bp->user.password = xstrdup(user->password);
	bp->profile_caps = profile_caps;
	pool_init(&bp->pool, &w->now_ms, 0, 1, (uint32_t)(w->id * 7919 + w->n_pools * 104729 + 1));
	pool_share(&bp->pool, handoff_shared_get(w->rt, backend_idx, user->name, profile_caps),
		   (size_t)w->id);
	size_pool(bp);
	w->pools = xrealloc(w->pools, (w->n_pools + 1) * sizeof(*w->pools));
	w->pools[w->n_pools++] = bp;
	return bp;
}

void backend_pool_free(struct backend_pool *bp)
{
	explicit_bzero(bp->user.password, strlen(bp->user.password));
	xfree(bp->user.password);
	xfree(bp->user.name);
	xfree(bp);
}

size_t backend_count(struct worker *w, size_t backend_idx, unsigned what)
{
	size_t n = 0;
	for (size_t i = 0; i < w->n_pools; i++) {
		const struct pool *p = &w->pools[i]->pool;
		if (w->pools[i]->backend_idx != backend_idx)
			continue;
		for (unsigned s = 0; s < POOL_CONN_STATE_COUNT; s++)
			n += (what & BACKEND_COUNT_STATE(s)) ? p->counts[s] : 0;
		n += (what & BACKEND_COUNT_WAITERS) ? p->n_waiters : 0;
	}
	return n;
}

/* Logged in: idle, lent or being reset. */
#define LIVE                                                                     \
	(BACKEND_COUNT_STATE(POOL_CONN_IDLE) | BACKEND_COUNT_STATE(POOL_CONN_ACTIVE) | \
	 BACKEND_COUNT_STATE(POOL_CONN_RESETTING))

/* open_one opens a connection if the backend's session stash lets it (a
 * burst waits for the first connection's tickets); false when it must wait. */
static bool open_one(struct backend_pool *bp)
{
	enum tls_admit claim = backend_tls_admit(bp);
	if (claim == TLS_ADMIT_WAIT)
		return false;
	struct server *s = server_open(bp);
	if (s)
		s->tls_claim = claim;
	else
		backend_tls_release(bp, &claim);
	return true;
}

/* open_wanted opens what the pool wants now, within connect_concurrency. */
static void open_wanted(struct backend_pool *bp)
{
	struct worker *w = bp->w;
	size_t n = pool_connects_wanted(&bp->pool, w->now_ms);
	if (n == 0)
		return;
	/* connect_concurrency bounds the handshakes in flight to the backend,
	 * over every pool of this worker; the rest start as these finish. */
	size_t cap = share(backend_pool_cfg(bp)->connect_concurrency, w->rt->n_workers, w->id, 1);
	size_t busy = backend_count(w, bp->backend_idx, BACKEND_COUNT_STATE(POOL_CONN_CONNECTING));
	size_t room = busy < cap ? cap - busy : 0;
	if (n > room)
		n = room;
	size_t opened = 0;
	/* Each open holds a place of max_connections over the process. */
	while (opened < n && pool_reserve(&bp->pool)) {
		bool started = open_one(bp);
		pool_unreserve(&bp->pool);
		if (!started)
			break;
		opened++;
	}
	struct stats_backend *st = &w->stats.backends[bp->backend_idx];
	if (busy + opened > st->connecting_peak)
		st->connecting_peak = busy + opened;
}

void backend_pool_fill(struct backend_pool *bp)
{
	open_wanted(bp);
	worker_retry_at(bp->w, pool_retry_due_ms(&bp->pool)); /* backing off: come back then */
	handoff_publish(bp); /* the waiters not covered ask the other workers */
}

void backend_pools_refill(struct worker *w)
{
	handoff_take_inbox(w);
	for (size_t i = 0; i < w->n_pools; i++) {
		handoff_lend_idle(w->pools[i]);
		backend_pool_fill(w->pools[i]);
	}
}

void backend_pools_prewarm(struct worker *w)
{
	const struct cfg *cfg = &w->rt->cfg;
	for (size_t b = 0; b < cfg->n_backends; b++) {
		for (size_t u = 0; u < cfg->n_users; u++)
			backend_pool_fill(backend_pool_get(w, b, &cfg->users[u], 0));
	}
}

static const char *const retire_messages[POOL_CLOSE_REASON_COUNT] = {
	[POOL_CLOSE_IDLE_TIMEOUT] = "idle for idle_timeout_ms above min_idle",
	[POOL_CLOSE_MAX_AGE] = "older than max_age_ms: replaced",
	[POOL_CLOSE_TICKET_REFRESH] = "refreshing TLS tickets",
	[POOL_CLOSE_RELOAD] = "settings changed by a reload",
};

/* retire closes |pc| on purpose and counts it by |why|; the pool forgets it
 * at once (server_on_close), which refills to min_idle if need be. */
static void retire(struct backend_pool *bp, struct pool_conn *pc, enum pool_close_reason why)
{
	bp->w->stats.backends[bp->backend_idx].closed_total[why]++;
	server_retire(container_of(pc, struct server, pc), retire_messages[why]);
}

/* retire_if_due closes a connection coming free instead of lending it
 * again: its server is closing it, a reload made it obsolete, or it is due
 * for renewal. */
static bool retire_if_due(struct backend_pool *bp, struct pool_conn *pc)
{
	struct server *s = container_of(pc, struct server, pc);
	if (s->leaving) {
		server_retire(s, "backend going away: its server ended the last command with a kill");
		return true;
	}
	if (s->stale)
		retire(bp, pc, POOL_CLOSE_RELOAD);
	else if (pool_conn_renewal_due(&bp->pool, pc))
		retire(bp, pc, POOL_CLOSE_MAX_AGE);
	else
		return false;
	return true;
}

void backend_server_leaving(struct backend_pool *bp)
{
	struct worker *w = bp->w;
	atomic_store(&w->rt->backend_leaving_ms[bp->backend_idx], worker_clock_ms());
	for (int i = 0; i < w->rt->n_workers; i++)
		if (&w->rt->workers[i] != w)
			worker_wake(&w->rt->workers[i]);
	backend_take_leaving(w);
}

void backend_take_leaving(struct worker *w)
{
	for (size_t i = 0; i < w->n_pools; i++) {
		struct backend_pool *bp = w->pools[i];
		uint64_t since = atomic_load(&w->rt->backend_leaving_ms[bp->backend_idx]);
		if (since <= bp->leaving_seen_ms)
			continue;
		bp->leaving_seen_ms = since;
		server_retire_born_before(bp, since);
	}
}

/* A connection coming free goes, in this order: closed if due; lent to
 * another worker whose client asked first (handoff.c); to this worker's
 * oldest waiter; idle. */
void backend_pool_connection_ready(struct backend_pool *bp, struct pool_conn *pc)
{
	if (retire_if_due(bp, pc) || handoff_lend_if_wanted(bp, pc))
		return;
	struct pool_waiter *waiter = pool_conn_ready(&bp->pool, pc);
	handoff_publish(bp);
	if (!waiter) {
		handoff_lend_idle(bp); /* asked for meanwhile: see pool_shared_set_idle */
		return;
	}
	struct client *c = container_of(waiter, struct client, waiter);
	struct server *s = container_of(pc, struct server, pc);
	server_link_client(s, c);
}

void backend_pool_connection_released(struct backend_pool *bp, struct pool_conn *pc)
{
	if (retire_if_due(bp, pc) || handoff_lend_if_wanted(bp, pc))
		return;
	struct pool_waiter *waiter = pool_conn_release(&bp->pool, pc);
	handoff_publish(bp);
	if (waiter)
		server_link_client(container_of(pc, struct server, pc),
				   container_of(waiter, struct client, waiter));
	else
		handoff_lend_idle(bp);
}

static struct stats_backend *backend_stats(struct backend_pool *bp)
{
	return &bp->w->stats.backends[bp->backend_idx];
}

/* reroute_waiters sends the clients queued for a backend now down to a
 * member of their group that is not (the pick never lands back here, so the
 * list walked is not appended to); clients of single-backend listeners, or
 * of groups all down, keep waiting. */
static void reroute_waiters(struct worker *w, size_t backend_idx)
{
	for (size_t i = 0; i < w->n_pools; i++) {
		struct backend_pool *bp = w->pools[i];
		if (bp->backend_idx != backend_idx)
			continue;
		struct list *pos, *tmp;
		list_for_each_safe(pos, tmp, &bp->pool.waiters)
		{
			struct client *c = container_of(list_entry(pos, struct pool_waiter, node),
							struct client, waiter);
			if (w->rt->cfg.listeners[c->listener_idx].n_members > 1 &&
			    balance_group_up(w, c->listener_idx))
				client_reroute(c);
		}
	}
}

void backend_connect_started(struct backend_pool *bp)
{
	struct stats_backend *st = backend_stats(bp);
	if (st->health == BACKEND_DOWN)
		stats_backend_set_health(st, BACKEND_PROBING, NULL, bp->w->now_ms);
}

void backend_connect_succeeded(struct backend_pool *bp, const char *tls_version)
{
	struct stats_backend *st = backend_stats(bp);
	const struct cfg_backend *b = backend_pool_cfg(bp);
	st->connects_total++;
	int tls = tls_version != NULL;
	if (st->tls_on >= 0 && st->tls_on != tls)
		log_warn("backend TLS changed", "backend=%s tls=%s ssl_mode=%s", b->name,
			 tls ? tls_version : "off", cfg_ssl_mode_str(b->ssl_mode));
	st->tls_on = tls;
	st->connected_ms = bp->w->now_ms;
	snprintf(st->tls_version, sizeof(st->tls_version), "%s", tls ? tls_version : "");
	if (st->health != BACKEND_UP && st->health != BACKEND_UNKNOWN)
		log_info("backend up", "backend=%s down_ms=%llu", b->name,
			 (unsigned long long)(bp->w->now_ms - st->health_since_ms));
	stats_backend_set_health(st, BACKEND_UP, NULL, bp->w->now_ms);
}

void backend_connect_failed(struct backend_pool *bp, const char *reason)
{
	struct stats_backend *st = backend_stats(bp);
	st->connect_failures_total++;
	bp->w->stats.errors_total[STATS_ERR_BACKEND_CONNECT]++;
	if (backend_count(bp->w, bp->backend_idx, LIVE) > 0)
		return;
	bool was_down = st->health == BACKEND_DOWN || st->health == BACKEND_PROBING;
	if (!was_down)
		log_warn("backend down", "backend=%s reason=\"%s\"", backend_pool_cfg(bp)->name,
			 reason);
	stats_backend_set_health(st, BACKEND_DOWN, reason, bp->w->now_ms);
	reroute_waiters(bp->w, bp->backend_idx);
}

void backend_pool_fail_waiters(struct backend_pool *bp, uint16_t code, const char *sqlstate,
			       const char *message)
{
	struct pool_waiter *waiter;
	while ((waiter = pool_waiter_pop(&bp->pool))) {
		struct client *c = container_of(waiter, struct client, waiter);
		client_fail(c, code, sqlstate, message);
	}
}

/* expire_waiters answers the clients whose wait is over: the backend is
 * unavailable (connects fail, or none answers: no live connection here
 * while the pool could open more), or it is up and every connection the
 * pool may have over the process is busy (this worker may hold none). */
static void expire_waiters(struct backend_pool *bp)
{
	struct worker *w = bp->w;
	const struct cfg_backend *b = backend_pool_cfg(bp);
	struct pool_waiter *waiter;
	while ((waiter = pool_waiter_pop_expired(&bp->pool, w->now_ms))) {
		struct client *c = container_of(waiter, struct client, waiter);
		char msg[512];
		bool at_limit = pool_process_total(&bp->pool) >= bp->pool.max_conns;
		if (bp->pool.last_error[0] ||
		    (!at_limit && backend_count(w, bp->backend_idx, LIVE) == 0)) {
			snprintf(msg, sizeof(msg),
				 "warmpool: backend '%s' unavailable for %d ms: %s", b->name,
				 w->rt->cfg.client_wait_timeout_ms,
				 bp->pool.last_error[0] ? bp->pool.last_error
							: "new connections to it do not complete");
			log_warn("client wait timed out: backend down", "conn=c%llu backend=%s",
				 (unsigned long long)c->conn.id, b->name);
			w->stats.errors_total[STATS_ERR_WAIT_TIMEOUT]++;
			client_fail(c, ER_BACKEND_UNAVAILABLE, "HY000", msg);
		} else {
			snprintf(msg, sizeof(msg),
				 "warmpool: no free connection to backend '%s' within %d ms "
				 "(%zu open over all workers, max_connections %zu)",
				 b->name, w->rt->cfg.client_wait_timeout_ms,
				 pool_process_total(&bp->pool), bp->pool.max_conns);
			log_warn("client wait timed out: pool exhausted", "conn=c%llu backend=%s",
				 (unsigned long long)c->conn.id, b->name);
			w->stats.errors_total[STATS_ERR_WAIT_TIMEOUT]++;
			client_fail(c, ER_CON_COUNT_ERROR, "08004", msg);
		}
	}
}

static void check_opening(struct backend_pool *bp)
{
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &bp->pool.conns[POOL_CONN_CONNECTING])
	{
		struct pool_conn *pc = list_entry(pos, struct pool_conn, node);
		server_check_deadline(container_of(pc, struct server, pc),
				      bp->w->now_ms);
	}
}

/* refresh_tickets replaces the oldest idle connection to a backend whose
 * freshest ticket is half-way to expiry: the replacement resumes with it and
 * brings new tickets, so a quiet pool still resumes later. */
static void refresh_tickets(struct worker *w, size_t backend_idx)
{
	if (!w->rt->cfg.backends[backend_idx].tls_ticket_refresh ||
	    !tls_cache_refresh_due(&w->rt->tls_caches[backend_idx], w->now_ms))
		return;
	for (size_t i = 0; i < w->n_pools; i++) {
		struct backend_pool *bp = w->pools[i];
		struct list *idle = &bp->pool.conns[POOL_CONN_IDLE];
		if (bp->backend_idx != backend_idx || list_empty(idle))
			continue;
		retire(bp, container_of(idle->next, struct pool_conn, node),
		       POOL_CLOSE_TICKET_REFRESH);
		return;
	}
}

/* close_expired closes the idle connections past idle_timeout_ms (down to
 * min_idle) and at most one past max_age_ms per tick: its replacement may
 * not start at once (connect_concurrency), and the pool must not empty
 * meanwhile. */
static void close_expired(struct backend_pool *bp)
{
	enum pool_close_reason why;
	struct pool_conn *pc;
	while ((pc = pool_next_to_close(&bp->pool, &why))) {
		retire(bp, pc, why);
		if (why == POOL_CLOSE_MAX_AGE)
			break;
	}
}

void backend_pools_tick(struct worker *w)
{
	for (size_t b = 0; b < w->rt->cfg.n_backends; b++)
		refresh_tickets(w, b);
	handoff_take_inbox(w);
	for (size_t i = 0; i < w->n_pools; i++) {
		struct backend_pool *bp = w->pools[i];
		expire_waiters(bp);
		check_opening(bp);
		close_expired(bp);
		handoff_lend_idle(bp);
		backend_pool_fill(bp);
	}
}

/* mark_stale retires idle connections now and the others when they are
 * given back. */
static void mark_stale(struct backend_pool *bp)
{
	for (int st = 0; st < POOL_CONN_STATE_COUNT; st++) {
		struct list *pos, *tmp;
		list_for_each_safe(pos, tmp, &bp->pool.conns[st])
		{
			struct pool_conn *pc = list_entry(pos, struct pool_conn, node);
			container_of(pc, struct server, pc)->stale = true;
			if (st == POOL_CONN_IDLE)
				retire(bp, pc, POOL_CLOSE_RELOAD);
		}
	}
}

/* trim_idle closes idle connections above a lowered max_connections
 * (counted over the process: every worker trims while it is exceeded). */
static void trim_idle(struct backend_pool *bp)
{
	struct list *idle = &bp->pool.conns[POOL_CONN_IDLE];
	while (pool_process_total(&bp->pool) > bp->pool.max_conns && !list_empty(idle))
		retire(bp, container_of(idle->next, struct pool_conn, node), POOL_CLOSE_RELOAD);
}

/* adopt_user takes the user's new password, or retires the pool when the
 * user is gone (its clients keep their connections until they leave). */
static void adopt_user(struct backend_pool *bp)
{
	const struct cfg_user *u = cfg_find_user(&bp->w->rt->cfg, bp->user.name);
	bp->retired_user = u == NULL;
	if (!u || strcmp(u->password, bp->user.password) == 0)
		return;
	explicit_bzero(bp->user.password, strlen(bp->user.password));
	xfree(bp->user.password);
	bp->user.password = xstrdup(u->password);
}

void backend_pools_apply_config(struct worker *w)
{
	for (size_t i = 0; i < w->n_pools; i++) {
		struct backend_pool *bp = w->pools[i];
		adopt_user(bp);
		size_pool(bp);
		if (w->rt->backend_changed[bp->backend_idx] || bp->retired_user)
			mark_stale(bp);
		trim_idle(bp);
	}
	backend_pools_prewarm(w); /* pools of new users; refill the others */
}
