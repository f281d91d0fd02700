/* pool_shared: what the shards of one pool share over the process: its connection count and the lend requests between shards. */
#ifndef WP_POOL_SHARED_H
#define WP_POOL_SHARED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one shard (one worker) asks of the others. Under pool_shared.lock. */
struct pool_lend_slot {
	size_t wanted;	      /* lends asked for and not claimed yet */
	size_t incoming;      /* lends claimed for it and not arrived yet */
	uint64_t deadline_ms; /* its oldest waiting client's deadline: who asked first */
	bool gone;	      /* its worker stopped: nothing is lent to it any more */
	/* It has an idle connection: worth waking for a request. Written by its
	 * worker as its idle count leaves or reaches 0, read without the lock. */
	_Atomic bool has_idle;
};

/* Every worker's shard of one (backend, user, profile) pool points at the
 * same one; it lives as long as the process (shards keep a pointer). The
 * count is exact: every connection is counted from pool_conn_add (or
 * pool_reserve) to pool_conn_remove (or pool_unreserve), including while it
 * moves between shards. */
struct pool_shared {
	_Atomic size_t total; /* connections of the pool over the process, any state */
	/* Sum of the slots' |wanted|: read without the lock on the release
	 * path, where it is almost always 0 and nothing more is done. */
	_Atomic size_t lends_wanted;
	pthread_mutex_t lock; /* the slots; only on the cross-shard path */
	struct pool_lend_slot *slots; /* one per shard */
	size_t n_slots;
};

/* pool_shared_init: an empty pool for |n_slots| shards (0: a pool alone,
 * which never lends); pool_shared_cleanup frees it. */
void pool_shared_init(struct pool_shared *ps, size_t n_slots);
void pool_shared_cleanup(struct pool_shared *ps);

/* pool_shared_publish records that shard |slot| has |unmet| waiting
 * clients its own connections do not cover, the oldest due at
 * |deadline_ms|. Lends already on their way count against them. True when
 * more lends are wanted than before: the other shards should look. */
bool pool_shared_publish(struct pool_shared *ps, size_t slot, size_t unmet, uint64_t deadline_ms);

/* pool_shared_claim: shard |slot| has a free connection and its own
 * oldest waiter is due at |local_deadline_ms| (UINT64_MAX: none). It takes
 * the request of the shard whose oldest waiter is due first, if that one
 * asked more than |slack_ms| before its own waiter: the caller then owes
 * that shard (|out_slot|) a connection, and must deliver it or call
 * pool_shared_lend_failed. False: keep the connection. */
bool pool_shared_claim(struct pool_shared *ps, size_t slot, uint64_t local_deadline_ms,
		       uint64_t slack_ms, size_t *out_slot);

/* pool_shared_retire_slot: shard |slot|'s worker stops; its requests are
 * dropped and no new one is taken, failed lends included. */
void pool_shared_retire_slot(struct pool_shared *ps, size_t slot);

/* pool_shared_lend_arrived: a claimed connection reached shard |slot|;
 * pool_shared_lend_failed: it closed on its way, and the request stands
 * again at once (the caller wakes the other shards). */
void pool_shared_lend_arrived(struct pool_shared *ps, size_t slot);
void pool_shared_lend_failed(struct pool_shared *ps, size_t slot);

/* pool_shared_lends_wanted and pool_shared_set_idle are sequentially
 * consistent, as is the store of lends_wanted: a shard that makes a
 * connection idle and then asks whether lends are wanted, and a shard that
 * asks for a lend and then looks for shards with idle connections to wake,
 * cannot both miss the other (on x86 the load is a plain move). */
static inline size_t pool_shared_lends_wanted(struct pool_shared *ps)
{
	return atomic_load(&ps->lends_wanted);
}

static inline void pool_shared_set_idle(struct pool_shared *ps, size_t slot, bool has_idle)
{
	atomic_store(&ps->slots[slot].has_idle, has_idle);
}

static inline bool pool_shared_has_idle(struct pool_shared *ps, size_t slot)
{
	return atomic_load(&ps->slots[slot].has_idle);
}

#endif
