/* backend: a worker's pool shards per (backend, user, wire profile), opened and kept warm. */
#ifndef WP_BACKEND_H
#define WP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "pool.h"

struct worker;
struct client;

/* Client capabilities that change what the server sends back, so a client
 * only ever gets a connection opened with the same ones. A profile holds
 * the ADDED ones the client set and the DROPPED ones it did not: warmpool
 * asks for multi-results by default, and a client without them must get
 * ERR 1312 for a CALL that returns rows, as from the server. Profile 0, what
 * every common driver sends, is the one kept warm. (CLIENT_PS_MULTI_RESULTS
 * stays asked for: PyMySQL and others do not set it, and a profile of its
 * own would split their pools for the prepared CALL alone.) */
#define BACKEND_PROFILE_ADDED (CLIENT_FOUND_ROWS | CLIENT_IGNORE_SPACE)
#define BACKEND_PROFILE_DROPPED CLIENT_MULTI_RESULTS

static inline uint32_t backend_profile_of(uint32_t client_caps)
{
	return (client_caps & BACKEND_PROFILE_ADDED) | (~client_caps & BACKEND_PROFILE_DROPPED);
}

/* backend_profile_caps: the capabilities to ask of a server for |profile|,
 * from |wanted| (what it offers of warmpool's defaults). */
static inline uint32_t backend_profile_caps(uint32_t profile, uint32_t wanted)
{
	return (wanted | (profile & BACKEND_PROFILE_ADDED)) & ~(profile & BACKEND_PROFILE_DROPPED);
}

struct backend_pool {
	struct pool pool;
	struct worker *w;
	size_t backend_idx;
	struct cfg_user user; /* own copy of name and password: a reload may drop the user */
	bool retired_user;    /* the user left the config: no new connections */
	uint32_t profile_caps;
	uint64_t leaving_seen_ms; /* the last rt->backend_leaving_ms acted on */
	/* What handoff_publish last told the other workers: waiting clients
	 * not covered here, and the oldest one's deadline. */
	size_t lend_unmet;
	uint64_t lend_deadline_ms;
};

/* Which connections backend_count sums, by pool state; and the waiters. */
#define BACKEND_COUNT_STATE(s) (1u << (s))
#define BACKEND_COUNT_WAITERS (1u << POOL_CONN_STATE_COUNT)

/* backend_count sums, over this worker's pools for one backend (every
 * user), the connections in the states of |what| (and the waiting clients
 * with BACKEND_COUNT_WAITERS). */
size_t backend_count(struct worker *w, size_t backend_idx, unsigned what);

/* backend_server_leaving: a connection of |bp| was told that its server is
 * shutting down (ERR 1053). No worker sends that server another command:
 * the others are told through rt->backend_leaving_ms and woken, and this
 * one retires its connections to it at once (backend_take_leaving). */
void backend_server_leaving(struct backend_pool *bp);
/* backend_take_leaving retires, in every pool of |w|, the connections that
 * take a command and were opened before a worker last learnt that their
 * server is shutting down (see server_retire_born_before). */
void backend_take_leaving(struct worker *w);

/* backend_pool_get finds or creates the shard; creation never fails. */
struct backend_pool *backend_pool_get(struct worker *w, size_t backend_idx,
				      const struct cfg_user *user, uint32_t profile_caps);
const struct cfg_backend *backend_pool_cfg(const struct backend_pool *bp);
void backend_pool_free(struct backend_pool *bp);

/* backend_pools_prewarm creates the default shard of every backend and user
 * and starts opening min_idle connections. */
void backend_pools_prewarm(struct worker *w);
/* backend_pool_fill opens the connections the pool wants right now; while
 * it backs off, it has the worker call again when that ends. */
void backend_pool_fill(struct backend_pool *bp);
/* backend_pools_refill fills every pool of the worker: woken because
 * the TLS session stash lets waiting connections open (backend_tls.c). */
void backend_pools_refill(struct worker *w);
/* backend_pools_apply_config adopts a reloaded config (reload.c): new
 * passwords and pool sizes, fresh connections for backends
 * whose address or TLS settings changed, pools for new users. */
void backend_pools_apply_config(struct worker *w);
/* backend_pools_tick runs every tick: waiter deadlines, backoff, refill,
 * connect deadlines, idle_timeout_ms and max_age_ms. */
void backend_pools_tick(struct worker *w);

/* Health bookkeeping, called as connections to the backend open and fail:
 * a failure marks the backend down only when this worker has no live
 * connection to it left (one failed connect does not take it out). */
void backend_connect_started(struct backend_pool *bp);
void backend_connect_succeeded(struct backend_pool *bp, const char *tls_version);
void backend_connect_failed(struct backend_pool *bp, const char *reason);

/* backend_pool_fail_waiters answers every waiting client with an error. */
void backend_pool_fail_waiters(struct backend_pool *bp, uint16_t code, const char *sqlstate,
			       const char *message);

/* backend_pool_connection_ready hands a ready connection to the oldest
 * waiter or parks it idle. */
void backend_pool_connection_ready(struct backend_pool *bp, struct pool_conn *pc);
/* backend_pool_connection_released: the same for a connection given back
 * without a reset (transaction mode). */
void backend_pool_connection_released(struct backend_pool *bp, struct pool_conn *pc);

#endif
