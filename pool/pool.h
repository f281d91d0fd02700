/* pool: one worker's shard of the connections to one backend as one user. */
#ifndef WP_POOL_H
#define WP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "list.h"
#include "pool_shared.h"

/* How a connect failed, which decides how soon the pool tries again. */
enum pool_failure {
	POOL_FAILURE_REFUSED = 0, /* TCP connect refused: nothing listens (a restart) */
	POOL_FAILURE_OTHER = 1,	  /* greeting, TLS or login failed, a timeout, a local error */
};

/* Who may use a backend connection. The finer protocol phase (greeting, TLS,
 * auth...) belongs to the io layer; this is the ownership the pool tracks. */
enum pool_conn_state {
	POOL_CONN_CONNECTING = 0, /* being opened: TCP, TLS and auth in progress */
	POOL_CONN_IDLE = 1,	  /* authenticated and ready; its receive stays armed */
	POOL_CONN_ACTIVE = 2,	  /* lent to exactly one client */
	POOL_CONN_RESETTING = 3,  /* given back; COM_RESET_CONNECTION in flight */
	POOL_CONN_STATE_COUNT = 4,
};
const char *pool_conn_state_str(enum pool_conn_state state);

/* Why the pool's owner closes a connection on purpose (a lost one is not). */
enum pool_close_reason {
	POOL_CLOSE_IDLE_TIMEOUT = 0,   /* idle for idle_timeout_ms while more than min_idle were */
	POOL_CLOSE_MAX_AGE = 1,	       /* free and older than its share of max_age_ms */
	POOL_CLOSE_TICKET_REFRESH = 2, /* replaced so that fresh TLS tickets arrive */
	POOL_CLOSE_RELOAD = 3,	       /* a reload changed its settings, user or max_connections */
	POOL_CLOSE_REASON_COUNT = 4,
};
const char *pool_close_reason_str(enum pool_close_reason reason);

/* Embedded in the io layer's backend connection. */
struct pool_conn {
	struct list node; /* on the list of its state */
	enum pool_conn_state state;
	bool linked;	  /* on a list of a pool */
	bool counted;	  /* holds one of the pool's process-wide count (pool_shared.total) */
	uint64_t born_ms;       /* added to the pool (its connect began) */
	uint64_t idle_since_ms; /* it last became IDLE */
	uint16_t age_jitter;	/* drawn at birth: where in the max_age spread it falls */
};

/* Embedded in a client that waits for a connection. */
struct pool_waiter {
	struct list node;
	uint64_t deadline_ms;
	bool queued;
};

struct pool {
	const uint64_t *now_ms; /* the owner's clock (CLOCK_MONOTONIC ms), read on transitions */
	struct pool_shared *shared; /* the process-wide side: |alone| until pool_share */
	struct pool_shared alone;
	size_t shard;		    /* this shard's slot in |shared| */
	bool idle_shown;	    /* what |shared| was last told: it has idle connections */
	struct list conns[POOL_CONN_STATE_COUNT]; /* IDLE: least recently used first */
	size_t counts[POOL_CONN_STATE_COUNT];
	struct list waiters; /* FIFO; equal timeouts keep deadlines sorted */
	size_t n_waiters;
	size_t min_idle;  /* of this shard */
	size_t max_conns; /* over the process: every shard's connections count */
	uint64_t idle_timeout_ms; /* 0: idle connections above min_idle stay */
	uint64_t max_age_ms;	  /* 0: a connection lives as long as it works */
	/* Connect failures: backoff before the next attempt (see pool.c). */
	uint32_t consecutive_failures;
	uint64_t next_connect_ms;  /* the exponential backoff's next attempt */
	bool last_refused;	   /* the last failure was POOL_FAILURE_REFUSED */
	uint64_t refused_retry_ms; /* after a refusal: the next attempt while clients wait */
	uint32_t jitter_state;
	char last_error[256]; /* "" while the last connect succeeded */
};

/* pool_init: an empty pool reading the clock at |now_ms| (borrowed: it must
 * outlive the pool); idle_timeout_ms and max_age_ms start at 0 (off). */
void pool_init(struct pool *p, const uint64_t *now_ms, size_t min_idle, size_t max_conns,
	       uint32_t seed);

/* pool_share makes |p| one shard (slot |shard|) of the process-wide pool
 * |ps|, whose count max_conns bounds. Before any connection is added. */
void pool_share(struct pool *p, struct pool_shared *ps, size_t shard);

/* pool_reserve takes one place of the process-wide max_conns for a
 * connection about to be opened; false at the limit. The caller gives it
 * back with pool_unreserve once pool_conn_add counted the connection (or
 * none was made): reserved and added, the place is held twice for a moment,
 * so no other shard can take it meanwhile. */
bool pool_reserve(struct pool *p) __attribute__((warn_unused_result));
void pool_unreserve(struct pool *p);

/* pool_conn_add registers a connection being opened (CONNECTING) and
 * counts it over the process, whatever the limit (pool_reserve checks it). */
void pool_conn_add(struct pool *p, struct pool_conn *pc);
/* pool_conn_set_state moves |pc| between state lists; it aborts on a
 * transition the pool never makes (a bug, not a runtime condition). */
void pool_conn_set_state(struct pool *p, struct pool_conn *pc, enum pool_conn_state to);
/* pool_conn_remove forgets |pc| whatever its state (closed or failed),
 * also while it moves between shards, and uncounts it. Idempotent. */
void pool_conn_remove(struct pool *p, struct pool_conn *pc);

/* pool_conn_give_away takes |pc| off this shard's lists to move it to
 * another shard; it stays counted. pool_conn_take_in puts a connection
 * given away by another shard on this one's lists, as RESETTING (about to
 * be ready: pool_conn_ready hands it out). */
void pool_conn_give_away(struct pool *p, struct pool_conn *pc);
void pool_conn_take_in(struct pool *p, struct pool_conn *pc);

/* pool_oldest_deadline: the deadline of the longest-waiting client of this
 * shard, UINT64_MAX when none waits. */
uint64_t pool_oldest_deadline(const struct pool *p);

/* pool_acquire lends an idle connection (now ACTIVE), or queues |w| with
 * |deadline_ms| and returns NULL. The most recently used idle connection
 * goes first (a stack, as PgBouncer does): a light load keeps reusing a few
 * and leaves the rest idle long enough for idle_timeout_ms to close them;
 * handing them out in turn would keep every one of them looking busy. */
struct pool_conn *pool_acquire(struct pool *p, struct pool_waiter *w, uint64_t deadline_ms);

/* pool_conn_ready is called when a connection becomes usable (connected,
 * or reset after use). If a client waits, the connection becomes ACTIVE and
 * that waiter is returned for the caller to wake; otherwise it goes IDLE and
 * NULL is returned. */
struct pool_waiter *pool_conn_ready(struct pool *p, struct pool_conn *pc);

/* pool_conn_release gives back an ACTIVE connection that needs no reset
 * (transaction mode, at a transaction boundary): to the oldest waiter, which
 * is returned, or to the idle list. */
struct pool_waiter *pool_conn_release(struct pool *p, struct pool_conn *pc);

void pool_waiter_cancel(struct pool *p, struct pool_waiter *w);
/* pool_waiter_pop_expired dequeues the oldest waiter past its deadline. */
struct pool_waiter *pool_waiter_pop_expired(struct pool *p, uint64_t now_ms);
/* pool_waiter_pop dequeues the oldest waiter (to fail it, for example). */
struct pool_waiter *pool_waiter_pop(struct pool *p);

/* pool_conn_too_old: max_age_ms is on and |pc| has outlived its share of it.
 * Each connection's limit is drawn once between 3/4 and all of max_age_ms,
 * so connections opened together are not all replaced together. */
bool pool_conn_too_old(const struct pool *p, const struct pool_conn *pc);

/* pool_conn_renewal_due: |pc| is too old and may be replaced now: one
 * renewal at a time (nothing of this pool is being opened) and not while
 * connects fail (closing it would leave nothing in its place). */
bool pool_conn_renewal_due(const struct pool *p, const struct pool_conn *pc);

/* pool_next_to_close returns an IDLE connection the owner should close now,
 * with why, or NULL: first one due for renewal (max age), then the least
 * recently used while more than min_idle are idle and it has been idle for
 * idle_timeout_ms. The owner closes it (and removes it) before asking again.
 * Connections lent to a client are never returned. */
struct pool_conn *pool_next_to_close(struct pool *p, enum pool_close_reason *out_reason);

/* pool_total: this shard's connections; pool_process_total: the pool's
 * over the process (every shard, and those moving between shards). */
size_t pool_total(const struct pool *p);
size_t pool_process_total(const struct pool *p);
/* pool_connects_wanted says how many connections to start opening now:
 * enough for min_idle plus the waiters not already covered by connections
 * being opened or reset, within the room max_conns leaves over the process,
 * and none while backing off. */
size_t pool_connects_wanted(const struct pool *p, uint64_t now_ms);
/* pool_retry_due_ms: while backing off with a connection wanted, when
 * pool_connects_wanted will say so (the owner sets a timer for it);
 * UINT64_MAX when not backing off or when nothing is wanted (a probe is in
 * flight, or no client waits and min_idle is met). */
uint64_t pool_retry_due_ms(const struct pool *p);

/* pool_connect_failed records a failed open, with |reason| for logs and
 * clients, and schedules the next attempt: while clients wait, about
 * 25 ms after a refused connect; otherwise with jittered exponential
 * backoff (100 ms doubling to 500 ms). The policy is argued in pool.c. */
void pool_connect_failed(struct pool *p, uint64_t now_ms, enum pool_failure failure,
			 const char *reason);
void pool_connect_succeeded(struct pool *p);

#endif
