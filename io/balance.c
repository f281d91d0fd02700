/* balance: which member of a listener's group serves a client's next backend connection. */
#include "balance.h"

#include "backend.h"
#include "worker.h"

/* member_usable: this worker does not see the backend down. */
static bool member_usable(struct worker *w, size_t backend_idx)
{
	enum backend_health h = w->stats.backends[backend_idx].health;
	return h != BACKEND_DOWN && h != BACKEND_PROBING;
}

/* outstanding: this worker's connections to a backend in use, plus the clients waiting for one. */
static size_t outstanding(struct worker *w, size_t backend_idx)
{
	return backend_count(w, backend_idx,
			     BACKEND_COUNT_STATE(POOL_CONN_ACTIVE) |
				     BACKEND_COUNT_STATE(POOL_CONN_RESETTING) | BACKEND_COUNT_WAITERS);
}

/* usable_for_pick: not down, and not the member to avoid. */
static bool usable_for_pick(struct worker *w, size_t backend_idx, size_t avoid)
{
	return backend_idx != avoid && member_usable(w, backend_idx);
}

static size_t pick_least_outstanding(struct worker *w, const struct cfg_listener *l,
				     bool healthy_only, size_t avoid)
{
	size_t best = l->members[0];
	double best_load = -1;
	size_t start = (size_t)(w->picks++ % l->n_members); /* ties go round */
	for (size_t k = 0; k < l->n_members; k++) {
		size_t b = l->members[(start + k) % l->n_members];
		if (healthy_only && !usable_for_pick(w, b, avoid))
			continue;
		double load = (double)outstanding(w, b) / w->rt->cfg.backends[b].weight;
		if (best_load < 0 || load < best_load) {
			best = b;
			best_load = load;
		}
	}
	return best;
}

/* pick_round_robin is nginx's smooth weighted round robin: every usable
 * member gains its weight, the richest is picked and pays the total. */
static size_t pick_round_robin(struct worker *w, size_t listener_idx, bool healthy_only,
			       size_t avoid)
{
	const struct cfg_listener *l = &w->rt->cfg.listeners[listener_idx];
	int64_t *current = w->rr_current[listener_idx], total = 0;
	size_t best = 0;
	bool found = false;
	for (size_t k = 0; k < l->n_members; k++) {
		const struct cfg_backend *b = &w->rt->cfg.backends[l->members[k]];
		if (healthy_only && !usable_for_pick(w, l->members[k], avoid))
			continue;
		current[k] += b->weight;
		total += b->weight;
		if (!found || current[k] > current[best]) {
			best = k;
			found = true;
		}
	}
	current[best] -= total;
	return l->members[best];
}

size_t balance_pick(struct worker *w, size_t listener_idx, size_t avoid)
{
	const struct cfg_listener *l = &w->rt->cfg.listeners[listener_idx];
	if (l->n_members == 1)
		return l->members[0];
	bool any_usable = false;
	for (size_t k = 0; k < l->n_members && !any_usable; k++)
		any_usable = usable_for_pick(w, l->members[k], avoid);
	/* All down: wait on one anyway; it is served when that one returns. */
	if (l->balance == CFG_BALANCE_ROUND_ROBIN)
		return pick_round_robin(w, listener_idx, any_usable, avoid);
	return pick_least_outstanding(w, l, any_usable, avoid);
}

bool balance_group_up(struct worker *w, size_t listener_idx)
{
	const struct cfg_listener *l = &w->rt->cfg.listeners[listener_idx];
	for (size_t k = 0; k < l->n_members; k++)
		if (member_usable(w, l->members[k]))
			return true;
	return false;
}
