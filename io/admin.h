/* admin: the HTTP endpoint operators and orchestrators use (/healthz /readyz /metrics /status). */
#ifndef WP_ADMIN_H
#define WP_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats.h"

struct runtime;
struct admin;

/* A worker whose loop has not turned for this long fails /healthz. Loops
 * turn at least every tick (100 ms), so this is many missed ticks. */
#define ADMIN_WORKER_STALL_MS 2000

/* admin_start serves the endpoint on its own thread (libmicrohttpd's), off
 * the workers. NULL with |why| when the port cannot be bound; it is not
 * started at all (NULL, no error) when admin_port is 0. */
struct admin *admin_start(struct runtime *rt, char *why, size_t why_len);
void admin_stop(struct admin *a);

/* What one request sees: every worker's last published statistics. */
struct admin_snapshot {
	struct runtime *rt;
	uint64_t now_ms;
	struct worker_stats total;
	struct worker_stats *workers; /* rt->n_workers of them */
	uint64_t *heartbeat_ms;	      /* live heartbeats, per worker */
	uint64_t admin_evicted_total; /* the endpoint's own (admin_guard): set by route */
	enum tls_reuse *tls_reuse;    /* per backend, as learned; NULL: not known */
	size_t *pool_connections;     /* per backend, over the process (handoff.c); NULL: not known */
};
void admin_snapshot_take(struct admin_snapshot *snap, struct runtime *rt);
void admin_snapshot_free(struct admin_snapshot *snap);

/* Renderers (admin_metrics.c, admin_status.c): each returns a malloc'ed
 * body. admin_render_health and admin_render_ready also say the verdict. */
char *admin_render_metrics(const struct admin_snapshot *snap);
char *admin_render_status(const struct admin_snapshot *snap);
char *admin_render_health(const struct admin_snapshot *snap, bool *healthy);
char *admin_render_ready(const struct admin_snapshot *snap, bool *ready);
/* admin_render_ready_brief: the same verdict, without the reasons. */
char *admin_render_ready_brief(const struct admin_snapshot *snap, bool *ready);

#endif
