/* handoff: backend connections lent between workers, so that a pool's limits hold over the process. */
#ifndef WP_HANDOFF_H
#define WP_HANDOFF_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"
#include "pool_shared.h"

struct runtime;
struct worker;
struct backend_pool;
struct pool_conn;
struct server;

/* One pool's process-wide side, found by its key. */
struct handoff_pool {
	struct handoff_pool *next;
	size_t backend_idx;
	uint32_t profile_caps;
	struct pool_shared shared;
	char user[];
};

/* Connections lent to one worker, on their way in (struct server, by
 * conn.node). |closed| once the worker stops: nothing more is posted. */
struct handoff_inbox {
	pthread_mutex_t lock;
	struct list servers;
	bool closed;
};

/* In the runtime, for every worker; made before the workers start and freed
 * after they have all joined. */
struct handoffs {
	pthread_mutex_t lock; /* |pools|, which only grows */
	struct handoff_pool *pools;
	struct handoff_inbox *inboxes; /* per worker */
	/* Reloads that moved a backend (written while the workers are parked):
	 * a connection on its way during one was on no worker's lists when
	 * they retired the old settings' connections (handoff_server_moved). */
	_Atomic uint64_t moves;
};

/* handoffs_moved counts a reload that moved a backend; only while every
 * worker is parked. */
void handoffs_moved(struct runtime *rt);

void handoffs_init(struct runtime *rt);
/* handoffs_free closes what is still in the inboxes (a lend posted to a
 * worker that stopped first). */
void handoffs_free(struct runtime *rt);

/* handoff_shared_get finds or makes the process-wide side of the pool of
 * (|backend_idx|, |user|, |profile_caps|); it lives until handoffs_free. */
struct pool_shared *handoff_shared_get(struct runtime *rt, size_t backend_idx, const char *user,
				       uint32_t profile_caps);
/* handoff_backend_total: the connections to a backend over the process,
 * every user (for /status); safe from any thread. */
size_t handoff_backend_total(struct runtime *rt, size_t backend_idx);

/* handoff_publish tells the other workers how many of |bp|'s waiting
 * clients its own connections (idle, opening, or lent to it) do not cover,
 * and wakes them when that grew. Takes no lock while none wait. */
void handoff_publish(struct backend_pool *bp);

/* handoff_lend_if_wanted: |pc| has just come free. If another worker's
 * client asked for a connection of this pool before this worker's oldest
 * waiter (by more than a few ms), |pc| is lent to it (true: the caller no
 * longer owns it); false: the caller hands it out as usual. */
bool handoff_lend_if_wanted(struct backend_pool *bp, struct pool_conn *pc);
/* handoff_lend_idle lends |bp|'s idle connections to the workers that
 * asked for them (woken by handoff_publish, or on the tick). */
void handoff_lend_idle(struct backend_pool *bp);

/* handoff_server_quiet: a server being lent has nothing in flight on its
 * ring any more: it is posted to its new worker. */
void handoff_server_quiet(struct server *s);
/* handoff_server_closed: a server being lent closed before it left. */
void handoff_server_closed(struct server *s);

/* handoff_take_inbox adopts the connections lent to |w|. */
void handoff_take_inbox(struct worker *w);
/* handoff_stop: |w| is stopping; no more lends reach it, and those in its
 * inbox are adopted and closed with the rest. */
void handoff_stop(struct worker *w);

#endif
