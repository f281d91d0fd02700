/* pool: acquire/release, wait queue and connect backoff of a pool shard. No I/O here. */
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Connect retries, by how the last attempt failed.
 *
 * Refused (nothing listens on the port: the server is restarting, the
 * usual case behind a managed instance's SSL toggle): the kernel answered
 * at once and the server did no work, so while clients wait the pool tries
 * again every REFUSED_RETRY_MS. A waiting query then runs within about that
 * long of the server listening again, instead of up to a whole backoff step
 * later (up to 500 ms, which with one worker was the recovery time).
 *
 * Anything else (the login, TLS or the server's greeting failed, or nothing
 * answered in connect_timeout_ms): the server accepted and spent work on
 * it, or the path to it is broken; retrying fast would hammer a server that
 * is starting or overloaded. Those back off exponentially, from
 * BACKOFF_BASE_MS to BACKOFF_MAX_MS. So do refusals while no client waits:
 * keeping min_idle warm is not worth a connect every few milliseconds for
 * as long as a backend is down.
 *
 * Both are jittered (+-25%) so that workers and replicas do not retry in
 * step; each pool probes with one connection at a time either way. */
#define REFUSED_RETRY_MS 25
#define BACKOFF_BASE_MS 100
#define BACKOFF_MAX_MS 500 /* a long shun is what users of other poolers complain of */

const char *pool_conn_state_str(enum pool_conn_state state)
{
	switch (state) {
	case POOL_CONN_CONNECTING: return "connecting";
	case POOL_CONN_IDLE: return "idle";
	case POOL_CONN_ACTIVE: return "active";
	case POOL_CONN_RESETTING: return "resetting";
	case POOL_CONN_STATE_COUNT: break;
	}
	return "unknown";
}

const char *pool_close_reason_str(enum pool_close_reason reason)
{
	switch (reason) {
	case POOL_CLOSE_IDLE_TIMEOUT: return "idle_timeout";
	case POOL_CLOSE_MAX_AGE: return "max_age";
	case POOL_CLOSE_TICKET_REFRESH: return "ticket_refresh";
	case POOL_CLOSE_RELOAD: return "reload";
	case POOL_CLOSE_REASON_COUNT: break;
	}
	return "unknown";
}

/* next_random: xorshift32, for jitter only. */
static uint32_t next_random(struct pool *p)
{
	uint32_t x = p->jitter_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	p->jitter_state = x;
	return x;
}

/* show_idle tells the other shards whether this one has an idle
 * connection, when that changes (see pool_shared_set_idle). */
static void show_idle(struct pool *p)
{
	bool has = p->counts[POOL_CONN_IDLE] > 0;
	if (has == p->idle_shown || p->shared->n_slots == 0)
		return;
	p->idle_shown = has;
	pool_shared_set_idle(p->shared, p->shard, has);
}

void pool_init(struct pool *p, const uint64_t *now_ms, size_t min_idle, size_t max_conns,
	       uint32_t seed)
{
	memset(p, 0, sizeof(*p));
	p->now_ms = now_ms;
	for (int i = 0; i < POOL_CONN_STATE_COUNT; i++)
		list_init(&p->conns[i]);
	list_init(&p->waiters);
	p->min_idle = min_idle;
	p->max_conns = max_conns;
	p->jitter_state = seed ? seed : 1;
	pool_shared_init(&p->alone, 0);
	p->shared = &p->alone;
}

void pool_share(struct pool *p, struct pool_shared *ps, size_t shard)
{
	p->shared = ps;
	p->shard = shard;
}

bool pool_reserve(struct pool *p)
{
	size_t total = atomic_load(&p->shared->total);
	do {
		if (total >= p->max_conns)
			return false;
	} while (!atomic_compare_exchange_weak(&p->shared->total, &total, total + 1));
	return true;
}

void pool_unreserve(struct pool *p)
{
	atomic_fetch_sub(&p->shared->total, 1);
}

/* The transitions a pool connection may take; anything else is a bug. */
static bool transition_allowed(enum pool_conn_state from, enum pool_conn_state to)
{
	switch (from) {
	case POOL_CONN_CONNECTING: return to == POOL_CONN_IDLE || to == POOL_CONN_ACTIVE;
	case POOL_CONN_IDLE: return to == POOL_CONN_ACTIVE;
	case POOL_CONN_ACTIVE: return to == POOL_CONN_RESETTING || to == POOL_CONN_IDLE;
	case POOL_CONN_RESETTING: return to == POOL_CONN_IDLE || to == POOL_CONN_ACTIVE;
	case POOL_CONN_STATE_COUNT: break;
	}
	return false;
}

/* link puts |pc| on the list of |state|. */
static void link_in(struct pool *p, struct pool_conn *pc, enum pool_conn_state state)
{
	pc->state = state;
	pc->linked = true;
	list_add_tail(&p->conns[state], &pc->node);
	p->counts[state]++;
}

void pool_conn_add(struct pool *p, struct pool_conn *pc)
{
	pc->born_ms = *p->now_ms;
	pc->age_jitter = (uint16_t)(next_random(p) >> 16);
	pc->counted = true;
	atomic_fetch_add(&p->shared->total, 1);
	link_in(p, pc, POOL_CONN_CONNECTING);
}

void pool_conn_set_state(struct pool *p, struct pool_conn *pc, enum pool_conn_state to)
{
	if (!pc->linked || !transition_allowed(pc->state, to)) {
		log_error("impossible pool transition", "from=%s to=%s",
			  pool_conn_state_str(pc->state), pool_conn_state_str(to));
		abort();
	}
	list_del(&pc->node);
	p->counts[pc->state]--;
	pc->state = to;
	list_add_tail(&p->conns[to], &pc->node);
	p->counts[to]++;
	if (to == POOL_CONN_IDLE)
		pc->idle_since_ms = *p->now_ms;
	show_idle(p);
}

void pool_conn_give_away(struct pool *p, struct pool_conn *pc)
{
	if (!pc->linked)
		return;
	list_del(&pc->node);
	p->counts[pc->state]--;
	pc->linked = false;
	show_idle(p);
}

void pool_conn_take_in(struct pool *p, struct pool_conn *pc)
{
	link_in(p, pc, POOL_CONN_RESETTING);
}

void pool_conn_remove(struct pool *p, struct pool_conn *pc)
{
	pool_conn_give_away(p, pc);
	if (pc->counted)
		atomic_fetch_sub(&p->shared->total, 1);
	pc->counted = false;
}

uint64_t pool_oldest_deadline(const struct pool *p)
{
	if (list_empty(&p->waiters))
		return UINT64_MAX;
	return list_entry(p->waiters.next, struct pool_waiter, node)->deadline_ms;
}

static void waiter_enqueue(struct pool *p, struct pool_waiter *w, uint64_t deadline_ms)
{
	w->deadline_ms = deadline_ms;
	w->queued = true;
	list_add_tail(&p->waiters, &w->node);
	p->n_waiters++;
}

struct pool_conn *pool_acquire(struct pool *p, struct pool_waiter *w, uint64_t deadline_ms)
{
	struct list *idle = &p->conns[POOL_CONN_IDLE];
	if (list_empty(idle)) {
		waiter_enqueue(p, w, deadline_ms);
		return NULL;
	}
	struct pool_conn *pc = list_entry(idle->prev, struct pool_conn, node);
	pool_conn_set_state(p, pc, POOL_CONN_ACTIVE);
	return pc;
}

struct pool_waiter *pool_conn_ready(struct pool *p, struct pool_conn *pc)
{
	struct pool_waiter *w = pool_waiter_pop(p);
	pool_conn_set_state(p, pc, w ? POOL_CONN_ACTIVE : POOL_CONN_IDLE);
	return w;
}

struct pool_waiter *pool_conn_release(struct pool *p, struct pool_conn *pc)
{
	struct pool_waiter *w = pool_waiter_pop(p);
	if (!w)
		pool_conn_set_state(p, pc, POOL_CONN_IDLE);
	return w; /* handed over as it is: still ACTIVE */
}

void pool_waiter_cancel(struct pool *p, struct pool_waiter *w)
{
	if (!w->queued)
		return;
	list_del(&w->node);
	w->queued = false;
	p->n_waiters--;
}

struct pool_waiter *pool_waiter_pop(struct pool *p)
{
	if (list_empty(&p->waiters))
		return NULL;
	struct pool_waiter *w = list_entry(p->waiters.next, struct pool_waiter, node);
	pool_waiter_cancel(p, w);
	return w;
}

struct pool_waiter *pool_waiter_pop_expired(struct pool *p, uint64_t now_ms)
{
	if (list_empty(&p->waiters))
		return NULL;
	struct pool_waiter *w = list_entry(p->waiters.next, struct pool_waiter, node);
	if (w->deadline_ms > now_ms)
		return NULL;
	pool_waiter_cancel(p, w);
	return w;
}

size_t pool_total(const struct pool *p)
{
	size_t n = 0;
	for (int i = 0; i < POOL_CONN_STATE_COUNT; i++)
		n += p->counts[i];
	return n;
}

size_t pool_process_total(const struct pool *p)
{
	return atomic_load(&p->shared->total);
}

/* connects_needed: how many connections the pool lacks now, as if it were
 * not backing off (while failing, one probe at a time). One being reset is
 * idle a round trip from now: counted, so that clients connecting one after
 * another (a PHP request each) reuse it rather than open one more each time
 * the next arrives during the previous one's reset. */
static size_t connects_needed(const struct pool *p)
{
	size_t total = pool_process_total(p);
	if (total >= p->max_conns)
		return 0;
	size_t connecting = p->counts[POOL_CONN_CONNECTING];
	size_t want_ready = p->min_idle + p->n_waiters;
	size_t have_ready =
		p->counts[POOL_CONN_IDLE] + p->counts[POOL_CONN_RESETTING] + connecting;
	size_t want = want_ready > have_ready ? want_ready - have_ready : 0;
	/* While failing, probe with one connection at a time. */
	if (p->consecutive_failures > 0)
		want = connecting == 0 && want > 0 ? 1 : 0;
	size_t room = p->max_conns - total;
	return want < room ? want : room;
}

/* next_attempt_ms: when the next connect may start. Decided now rather than
 * at the failure, so that a client who starts waiting after a refusal gets
 * the short retry too. */
static uint64_t next_attempt_ms(const struct pool *p)
{
	if (p->last_refused && p->n_waiters > 0 && p->refused_retry_ms < p->next_connect_ms)
		return p->refused_retry_ms;
	return p->next_connect_ms;
}

size_t pool_connects_wanted(const struct pool *p, uint64_t now_ms)
{
	if (now_ms < next_attempt_ms(p))
		return 0;
	return connects_needed(p);
}

uint64_t pool_retry_due_ms(const struct pool *p)
{
	if (p->consecutive_failures == 0 || connects_needed(p) == 0)
		return UINT64_MAX;
	return next_attempt_ms(p);
}

/* jittered: |delay_ms| +-25%. */
static uint64_t jittered(struct pool *p, uint64_t delay_ms)
{
	return delay_ms * 3 / 4 + next_random(p) % (delay_ms / 2 + 1);
}

void pool_connect_failed(struct pool *p, uint64_t now_ms, enum pool_failure failure,
			 const char *reason)
{
	p->consecutive_failures++;
	uint32_t shift = p->consecutive_failures < 7 ? p->consecutive_failures - 1 : 6;
	uint64_t delay = (uint64_t)BACKOFF_BASE_MS << shift;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	p->next_connect_ms = now_ms + jittered(p, delay);
	p->last_refused = failure == POOL_FAILURE_REFUSED;
	p->refused_retry_ms = now_ms + jittered(p, REFUSED_RETRY_MS);
	snprintf(p->last_error, sizeof(p->last_error), "%s", reason);
}

void pool_connect_succeeded(struct pool *p)
{
	p->consecutive_failures = 0;
	p->next_connect_ms = 0;
	p->last_refused = false;
	p->refused_retry_ms = 0;
	p->last_error[0] = '\0';
}

bool pool_conn_too_old(const struct pool *p, const struct pool_conn *pc)
{
	if (p->max_age_ms == 0)
		return false;
	/* The limit falls in (3/4, 1] of max_age_ms, by the connection's draw. */
	uint64_t spread = p->max_age_ms / 4 * pc->age_jitter / 65536;
	return *p->now_ms - pc->born_ms >= p->max_age_ms - spread;
}

bool pool_conn_renewal_due(const struct pool *p, const struct pool_conn *pc)
{
	return p->counts[POOL_CONN_CONNECTING] == 0 && p->consecutive_failures == 0 &&
	       pool_conn_too_old(p, pc);
}

struct pool_conn *pool_next_to_close(struct pool *p, enum pool_close_reason *out_reason)
{
	struct list *idle = &p->conns[POOL_CONN_IDLE], *pos, *tmp;
	list_for_each_safe(pos, tmp, idle)
	{
		struct pool_conn *pc = list_entry(pos, struct pool_conn, node);
		if (pool_conn_renewal_due(p, pc)) {
			*out_reason = POOL_CLOSE_MAX_AGE;
			return pc;
		}
	}
	if (p->idle_timeout_ms == 0 || p->counts[POOL_CONN_IDLE] <= p->min_idle)
		return NULL;
	/* The list is in the order they became idle: the head waited longest. */
	struct pool_conn *lru = list_entry(idle->next, struct pool_conn, node);
	if (*p->now_ms - lru->idle_since_ms < p->idle_timeout_ms)
		return NULL;
	*out_reason = POOL_CLOSE_IDLE_TIMEOUT;
	return lru;
}
