/* handoff: lending backend connections between workers: requests, the move off one ring and onto another. */
#include "handoff.h"

#include <string.h>

#include "alloc.h"
#include "backend.h"
#include "log.h"
#include "runtime.h"
#include "server.h"
#include "worker.h"

/* A waiter of this worker that asked up to this much later than another
 * worker's still gets a connection that comes free here first (see
 * pool_shared_claim and README "One pool over the workers"). */
#define HANDOFF_SLACK_MS 5

void handoffs_init(struct runtime *rt)
{
	struct handoffs *h = &rt->handoffs;
	pthread_mutex_init(&h->lock, NULL);
	h->pools = NULL;
	atomic_init(&h->moves, 0);
	h->inboxes = xcalloc((size_t)rt->n_workers, sizeof(*h->inboxes));
	for (int i = 0; i < rt->n_workers; i++) {
		pthread_mutex_init(&h->inboxes[i].lock, NULL);
		list_init(&h->inboxes[i].servers);
	}
}

void handoffs_free(struct runtime *rt)
{
	struct handoffs *h = &rt->handoffs;
	/* Every inbox is empty by now: a worker closes its inbox when it stops
	 * (handoff_stop), and a lend finds it closed after that. */
	for (int i = 0; h->inboxes && i < rt->n_workers; i++)
		pthread_mutex_destroy(&h->inboxes[i].lock);
	xfree(h->inboxes);
	h->inboxes = NULL;
	while (h->pools) {
		struct handoff_pool *next = h->pools->next;
		pool_shared_cleanup(&h->pools->shared);
		xfree(h->pools);
		h->pools = next;
	}
	pthread_mutex_destroy(&h->lock);
}

struct pool_shared *handoff_shared_get(struct runtime *rt, size_t backend_idx, const char *user,
				       uint32_t profile_caps)
{
	struct handoffs *h = &rt->handoffs;
	pthread_mutex_lock(&h->lock);
	struct handoff_pool *hp = h->pools;
	while (hp && (hp->backend_idx != backend_idx || hp->profile_caps != profile_caps ||
		      strcmp(hp->user, user) != 0))
		hp = hp->next;
	if (!hp) {
		size_t len = strlen(user) + 1;
		hp = xcalloc(1, sizeof(*hp) + len);
		memcpy(hp->user, user, len);
		hp->backend_idx = backend_idx;
		hp->profile_caps = profile_caps;
		pool_shared_init(&hp->shared, (size_t)rt->n_workers);
		hp->next = h->pools;
		h->pools = hp;
	}
	pthread_mutex_unlock(&h->lock);
	return &hp->shared;
}

void handoffs_moved(struct runtime *rt)
{
	atomic_fetch_add(&rt->handoffs.moves, 1);
}

size_t handoff_backend_total(struct runtime *rt, size_t backend_idx)
{
	size_t n = 0;
	pthread_mutex_lock(&rt->handoffs.lock);
	for (struct handoff_pool *hp = rt->handoffs.pools; hp; hp = hp->next)
		if (hp->backend_idx == backend_idx)
			n += atomic_load(&hp->shared.total);
	pthread_mutex_unlock(&rt->handoffs.lock);
	return n;
}

static struct handoff_pool *handoff_pool_of(struct backend_pool *bp)
{
	return container_of(bp->pool.shared, struct handoff_pool, shared);
}

/* wake_lenders wakes the other workers that have an idle connection of
 * the pool to lend; the others lend as their connections come free. */
static void wake_lenders(struct worker *w, struct pool_shared *ps)
{
	for (int i = 0; i < w->rt->n_workers; i++)
		if (i != w->id && pool_shared_has_idle(ps, (size_t)i))
			worker_wake(&w->rt->workers[i]);
}

void handoff_publish(struct backend_pool *bp)
{
	struct pool *p = &bp->pool;
	size_t opening = p->counts[POOL_CONN_CONNECTING];
	size_t unmet = p->n_waiters > opening ? p->n_waiters - opening : 0;
	uint64_t deadline = pool_oldest_deadline(p);
	if (unmet == bp->lend_unmet && (unmet == 0 || deadline == bp->lend_deadline_ms))
		return; /* nothing new to say: the usual case, with no lock */
	bp->lend_unmet = unmet;
	bp->lend_deadline_ms = deadline;
	if (pool_shared_publish(p->shared, p->shard, unmet, deadline))
		wake_lenders(bp->w, p->shared);
}

/* lend takes |pc| off the pool and stops its receive; it leaves for worker
 * |to| once nothing is in flight on it (handoff_server_quiet): a ring's
 * operations complete on that ring, so none may outlive the move. */
static void lend(struct backend_pool *bp, struct pool_conn *pc, size_t to)
{
	struct server *s = container_of(pc, struct server, pc);
	pool_conn_give_away(&bp->pool, pc);
	s->lent_to = to;
	s->lent_pool = handoff_pool_of(bp);
	s->lent_moves = atomic_load(&bp->w->rt->handoffs.moves);
	s->lending = true;
	log_debug("lending a backend connection", "conn=s%llu backend=%s to_worker=%zu",
		  (unsigned long long)s->conn.id, backend_pool_cfg(bp)->name, to);
	conn_pause_recv(&s->conn);
	if (s->conn.pending == 0)
		handoff_server_quiet(s);
}

bool handoff_lend_if_wanted(struct backend_pool *bp, struct pool_conn *pc)
{
	struct pool *p = &bp->pool;
	size_t to;
	if (bp->w->stopping ||
	    !pool_shared_claim(p->shared, p->shard, pool_oldest_deadline(p), HANDOFF_SLACK_MS, &to))
		return false;
	lend(bp, pc, to);
	return true;
}

void handoff_lend_idle(struct backend_pool *bp)
{
	struct pool *p = &bp->pool;
	struct list *idle = &p->conns[POOL_CONN_IDLE];
	size_t to;
	/* The most recently used first, as pool_acquire takes them. */
	while (!list_empty(idle) && !bp->w->stopping &&
	       pool_shared_claim(p->shared, p->shard, pool_oldest_deadline(p), HANDOFF_SLACK_MS, &to))
		lend(bp, list_entry(idle->prev, struct pool_conn, node), to);
}

void handoff_server_quiet(struct server *s)
{
	struct worker *from = s->conn.w;
	size_t to = s->lent_to, backend_idx = s->bp->backend_idx;
	struct handoff_inbox *in = &from->rt->handoffs.inboxes[to];
	pthread_mutex_lock(&in->lock);
	bool posted = !in->closed;
	if (posted) {
		conn_move_out(&s->conn);
		list_add_tail(&in->servers, &s->conn.node);
	}
	pthread_mutex_unlock(&in->lock);
	/* Posted, |s| is the other worker's: not touched here again. */
	if (!posted) {
		conn_close(&s->conn, LOG_DEBUG, "lent to a worker that stopped");
		return;
	}
	from->stats.backends[backend_idx].handoffs_lent_total++;
	worker_wake(&from->rt->workers[to]);
}

void handoff_server_closed(struct server *s)
{
	s->lending = false;
	pool_shared_lend_failed(s->bp->pool.shared, s->lent_to);
	wake_lenders(s->conn.w, s->bp->pool.shared);
}

/* adopt makes a lent connection |w|'s: on its lists, in its shard of the
 * same pool |hp| (found by the pool's key: s->bp, the lender's shard, may be
 * gone with its worker), its receive armed on |w|'s ring. The pool is
 * returned; the connection is RESETTING in it, to be handed out. */
static struct backend_pool *adopt(struct worker *w, struct server *s, struct handoff_pool *hp)
{
	const struct cfg_user *u = cfg_find_user(&w->rt->cfg, hp->user);
	struct cfg_user gone = {.name = hp->user, .password = ""};
	struct backend_pool *bp = backend_pool_get(w, hp->backend_idx, u ? u : &gone, hp->profile_caps);
	conn_move_in(&s->conn, w);
	s->bp = bp;
	s->lending = false;
	pool_shared_lend_arrived(&hp->shared, (size_t)w->id);
	pool_conn_take_in(&bp->pool, &s->pc);
	w->stats.backends[hp->backend_idx].handoffs_borrowed_total++;
	if (!u) {
		bp->retired_user = true;
		s->stale = true; /* a reload removed the user on the way: retired when free */
	}
	if (atomic_load(&w->rt->handoffs.moves) != s->lent_moves)
		s->stale = true; /* a reload moved a backend on the way: of the old settings */
	conn_resume_recv(&s->conn);
	return bp;
}

/* born_before_leaving: |s| was opened before its server said it is leaving.
 * backend_take_leaving retires such connections on every worker's lists, but
 * one in transit between workers was on none of them. */
static bool born_before_leaving(struct worker *w, const struct server *s)
{
	return s->pc.born_ms < atomic_load(&w->rt->backend_leaving_ms[s->bp->backend_idx]);
}

/* republish: a lend claimed for this shard arrived, and its claim no longer
 * counts for the shard's waiters. Served one, the request shrinks; but the
 * connection may have gone on to a shard that asked earlier, or been
 * retired, and then this shard's waiter is covered by nothing: its request
 * must stand again, although the shard's own count of waiters, which
 * handoff_publish compares to skip the lock, has not changed. */
static void republish(struct backend_pool *bp)
{
	bp->lend_unmet = SIZE_MAX;
	handoff_publish(bp);
}

/* adopt_posted adopts what was posted to |w|, and hands each connection
 * out (or, |stopping|, closes the inbox and leaves them on |w|'s lists, to be
 * closed with the rest). */
static void adopt_posted(struct worker *w, bool stopping)
{
	struct handoff_inbox *in = &w->rt->handoffs.inboxes[w->id];
	struct list arrived, *n;
	list_init(&arrived);
	pthread_mutex_lock(&in->lock);
	in->closed |= stopping;
	while ((n = list_pop_head(&in->servers)))
		list_add_tail(&arrived, n);
	pthread_mutex_unlock(&in->lock);
	while ((n = list_pop_head(&arrived))) {
		struct server *s = container_of(n, struct server, conn.node);
		struct backend_pool *bp = adopt(w, s, s->lent_pool);
		if (stopping)
			continue;
		if (born_before_leaving(w, s))
			server_retire(s, "backend going away (another connection was told so)");
		else
			backend_pool_connection_ready(bp, &s->pc);
		republish(bp);
	}
}

void handoff_take_inbox(struct worker *w)
{
	adopt_posted(w, false);
}

void handoff_stop(struct worker *w)
{
	adopt_posted(w, true);
	/* Nothing more can come: no worker should keep a lend for it. */
	for (size_t i = 0; i < w->n_pools; i++)
		pool_shared_retire_slot(w->pools[i]->pool.shared, (size_t)w->id);
}
