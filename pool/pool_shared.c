/* pool_shared: a pool's process-wide connection count and the lend requests between its shards. No I/O here. */
#include "pool_shared.h"

#include <string.h>

#include "alloc.h"

void pool_shared_init(struct pool_shared *ps, size_t n_slots)
{
	memset(ps, 0, sizeof(*ps));
	atomic_init(&ps->total, 0);
	atomic_init(&ps->lends_wanted, 0);
	pthread_mutex_init(&ps->lock, NULL);
	ps->n_slots = n_slots;
	ps->slots = n_slots ? xcalloc(n_slots, sizeof(*ps->slots)) : NULL;
}

void pool_shared_cleanup(struct pool_shared *ps)
{
	xfree(ps->slots);
	ps->slots = NULL;
	pthread_mutex_destroy(&ps->lock);
}

/* set_wanted changes a slot's request and the lock-free sum with it. */
static void set_wanted(struct pool_shared *ps, struct pool_lend_slot *s, size_t wanted)
{
	size_t sum = atomic_load_explicit(&ps->lends_wanted, memory_order_relaxed);
	atomic_store(&ps->lends_wanted, sum - s->wanted + wanted); /* see pool_shared_set_idle */
	s->wanted = wanted;
}

bool pool_shared_publish(struct pool_shared *ps, size_t slot, size_t unmet, uint64_t deadline_ms)
{
	pthread_mutex_lock(&ps->lock);
	struct pool_lend_slot *s = &ps->slots[slot];
	size_t before = s->wanted;
	set_wanted(ps, s, unmet > s->incoming && !s->gone ? unmet - s->incoming : 0);
	s->deadline_ms = deadline_ms;
	bool more = s->wanted > before;
	pthread_mutex_unlock(&ps->lock);
	return more;
}

/* first_asker: the slot other than |self| whose oldest waiter is due
 * first among those that want a lend; n_slots when none. */
static size_t first_asker(const struct pool_shared *ps, size_t self)
{
	size_t best = ps->n_slots;
	for (size_t i = 0; i < ps->n_slots; i++) {
		if (i == self || ps->slots[i].wanted == 0)
			continue;
		if (best == ps->n_slots || ps->slots[i].deadline_ms < ps->slots[best].deadline_ms)
			best = i;
	}
	return best;
}

bool pool_shared_claim(struct pool_shared *ps, size_t slot, uint64_t local_deadline_ms,
		       uint64_t slack_ms, size_t *out_slot)
{
	if (pool_shared_lends_wanted(ps) == 0)
		return false;
	pthread_mutex_lock(&ps->lock);
	size_t to = first_asker(ps, slot);
	/* Within the slack the connection stays where it is: moving it costs
	 * a cancel and a wake-up, and a waiter that asked about as early here
	 * is served as fairly. */
	bool lend = to < ps->n_slots &&
		    (local_deadline_ms == UINT64_MAX ||
		     ps->slots[to].deadline_ms + slack_ms < local_deadline_ms);
	if (lend) {
		set_wanted(ps, &ps->slots[to], ps->slots[to].wanted - 1);
		ps->slots[to].incoming++;
		*out_slot = to;
	}
	pthread_mutex_unlock(&ps->lock);
	return lend;
}

void pool_shared_lend_arrived(struct pool_shared *ps, size_t slot)
{
	pthread_mutex_lock(&ps->lock);
	ps->slots[slot].incoming--;
	pthread_mutex_unlock(&ps->lock);
}

void pool_shared_lend_failed(struct pool_shared *ps, size_t slot)
{
	pthread_mutex_lock(&ps->lock);
	struct pool_lend_slot *s = &ps->slots[slot];
	s->incoming--;
	/* Its client still waits (the shard's next publish corrects it if not),
	 * and the shard would not publish again: nothing changed there. */
	if (!s->gone)
		set_wanted(ps, s, s->wanted + 1);
	pthread_mutex_unlock(&ps->lock);
}

void pool_shared_retire_slot(struct pool_shared *ps, size_t slot)
{
	pthread_mutex_lock(&ps->lock);
	ps->slots[slot].gone = true;
	set_wanted(ps, &ps->slots[slot], 0);
	pthread_mutex_unlock(&ps->lock);
}
