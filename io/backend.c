/* backend: finding, creating, filling and ticking a worker's pool shards. */
#include "backend.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
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

struct backend_pool *backend_pool_get(struct worker *w, size_t backend_idx,
				      const struct cfg_user *user, uint32_t profile_caps)
{
	for (size_t i = 0; i < w->n_pools; i++) {
		struct backend_pool *bp = w->pools[i];
		if (bp->backend_idx == backend_idx && bp->user == user &&
		    bp->profile_caps == profile_caps)
			return bp;
	}
	const struct cfg_backend *b = &w->rt->cfg.backends[backend_idx];
	struct backend_pool *bp = xcalloc(1, sizeof(*bp));
	bp->w = w;
	bp->backend_idx = backend_idx;
	bp->user = user;
	bp->profile_caps = profile_caps;
	/* Only the default profile is kept warm; others open on demand. */
	size_t min_idle = profile_caps ? 0 : share(b->min_idle, w->rt->n_workers, w->id, 0);
	size_t max_conns = share(b->max_connections, w->rt->n_workers, w->id, 1);
	pool_init(&bp->pool, min_idle, max_conns, (uint32_t)(w->id * 7919 + w->n_pools * 104729 + 1));
	w->pools = xrealloc(w->pools, (w->n_pools + 1) * sizeof(*w->pools));
	w->pools[w->n_pools++] = bp;
	return bp;
}

void backend_pool_fill(struct backend_pool *bp)
{
	size_t n = pool_connects_wanted(&bp->pool, bp->w->now_ms);
	for (size_t i = 0; i < n; i++)
		server_open(bp);
}

void backend_pools_prewarm(struct worker *w)
{
	const struct cfg *cfg = &w->rt->cfg;
	for (size_t b = 0; b < cfg->n_backends; b++) {
		for (size_t u = 0; u < cfg->n_users; u++)
			backend_pool_fill(backend_pool_get(w, b, &cfg->users[u], 0));
	}
}

void backend_pool_connection_ready(struct backend_pool *bp, struct pool_conn *pc)
{
	struct pool_waiter *waiter = pool_conn_ready(&bp->pool, pc);
	if (!waiter)
		return;
	struct client *c = container_of(waiter, struct client, waiter);
	struct server *s = container_of(pc, struct server, pc);
	server_link_client(s, c);
}

void backend_pool_connection_released(struct backend_pool *bp, struct pool_conn *pc)
{
	struct pool_waiter *waiter = pool_conn_release(&bp->pool, pc);
	if (waiter)
		server_link_client(container_of(pc, struct server, pc),
				   container_of(waiter, struct client, waiter));
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

static void expire_waiters(struct backend_pool *bp)
{
	struct worker *w = bp->w;
	const struct cfg_backend *b = backend_pool_cfg(bp);
	struct pool_waiter *waiter;
	while ((waiter = pool_waiter_pop_expired(&bp->pool, w->now_ms))) {
		struct client *c = container_of(waiter, struct client, waiter);
		char msg[512];
		if (bp->pool.last_error[0]) {
			snprintf(msg, sizeof(msg),
				 "warmpool: backend '%s' unavailable for %d ms: %s", b->name,
				 w->rt->cfg.client_wait_timeout_ms, bp->pool.last_error);
			log_warn("client wait timed out: backend down", "conn=c%llu backend=%s",
				 (unsigned long long)c->conn.id, b->name);
			client_fail(c, ER_BACKEND_UNAVAILABLE, "HY000", msg);
		} else {
			snprintf(msg, sizeof(msg),
				 "warmpool: no free connection to backend '%s' within %d ms "
				 "(%zu in use, max %zu on this worker)",
				 b->name, w->rt->cfg.client_wait_timeout_ms,
				 bp->pool.counts[POOL_CONN_ACTIVE], bp->pool.max_conns);
			log_warn("client wait timed out: pool exhausted", "conn=c%llu backend=%s",
				 (unsigned long long)c->conn.id, b->name);
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
	    !tls_cache_refresh_due(&w->tls_caches[backend_idx], w->now_ms))
		return;
	for (size_t i = 0; i < w->n_pools; i++) {
		struct backend_pool *bp = w->pools[i];
		struct list *idle = &bp->pool.conns[POOL_CONN_IDLE];
		if (bp->backend_idx != backend_idx || list_empty(idle))
			continue;
		struct server *s = container_of(container_of(idle->next, struct pool_conn, node),
						struct server, pc);
		conn_close(&s->conn, LOG_INFO, "refreshing TLS tickets");
		return;
	}
}

void backend_pools_tick(struct worker *w)
{
	for (size_t b = 0; b < w->rt->cfg.n_backends; b++)
		refresh_tickets(w, b);
	for (size_t i = 0; i < w->n_pools; i++) {
		struct backend_pool *bp = w->pools[i];
		expire_waiters(bp);
		check_opening(bp);
		backend_pool_fill(bp);
	}
}
