/* reload: config compatibility, the three-barrier swap, and what changed. */
#include "reload.h"

#include <string.h>

#include "backend.h"
#include "handoff.h"
#include "log.h"
#include "worker.h"

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* needs_restart says what the new config changes that a running process
 * cannot: sockets it listens on, the worker count, the set of backends. */
static bool needs_restart(const struct cfg *old, const struct cfg *next, char *why, size_t len)
{
	/* The setting, not the count: under auto, a backend moved away from
	 * (or to) this host changes the count only at the next start. */
	if (old->workers_setting != next->workers_setting) {
		snprintf(why, len, "workers changed");
		return true;
	}
	if (!same(old->admin_address, next->admin_address) || old->admin_port != next->admin_port) {
		snprintf(why, len, "admin_address or admin_port changed");
		return true;
	}
	if (old->n_listeners != next->n_listeners || old->n_backends != next->n_backends) {
		snprintf(why, len, "listeners or backends were added or removed");
		return true;
	}
	for (size_t i = 0; i < old->n_listeners; i++) {
		const struct cfg_listener *a = &old->listeners[i], *b = &next->listeners[i];
		if (!same(a->name, b->name) || !same(a->address, b->address) || a->port != b->port ||
		    !same(a->backend, b->backend) || a->backlog != b->backlog ||
		    a->n_members != b->n_members ||
		    memcmp(a->members, b->members, a->n_members * sizeof(*a->members)) != 0) {
			snprintf(why, len, "[listener %s]: name, address, port, backend, group members "
				 "or backlog changed", a->name);
			return true;
		}
	}
	for (size_t i = 0; i < old->n_backends; i++) {
		if (!same(old->backends[i].name, next->backends[i].name)) {
			snprintf(why, len, "[backend %s] was renamed or moved", old->backends[i].name);
			return true;
		}
	}
	return false;
}

/* backend_moved: where and how warmpool connects changed, so connections
 * and session tickets of the old settings must go. */
static bool backend_moved(const struct cfg_backend *a, const struct cfg_backend *b)
{
	return !same(a->host, b->host) || a->port != b->port || a->ssl_mode != b->ssl_mode ||
	       !same(a->ssl_ca, b->ssl_ca) || !same(a->ssl_cert, b->ssl_cert) ||
	       !same(a->ssl_key, b->ssl_key) || !same(a->ssl_server_name, b->ssl_server_name) ||
	       a->tls_resumption != b->tls_resumption || a->tls_max_version != b->tls_max_version ||
	       a->tls_ticket_max_age_ms != b->tls_ticket_max_age_ms;
}

/* load_next reads and checks the file; false with |why|. */
static bool load_next(struct runtime *rt, struct runtime *next, char *why, size_t len)
{
	if (!cfg_load(rt->cfg.path, &next->cfg, why, len))
		return false;
	char inner[400];
	if (needs_restart(&rt->cfg, &next->cfg, inner, sizeof(inner))) {
		snprintf(why, len, "%s: needs a restart", inner);
		return false;
	}
	return runtime_build(next, why, len);
}

void reload(struct runtime *rt)
{
	if (atomic_load(&rt->draining)) {
		log_warn("SIGHUP ignored: draining", NULL);
		return;
	}
	struct runtime next = {0};
	char why[512];
	if (!load_next(rt, &next, why, sizeof(why))) {
		log_error("reload rejected; the running configuration stays", "error=\"%s\"", why);
		runtime_free(&next);
		return;
	}
	size_t moved = 0;
	bool *changed = xcalloc(rt->cfg.n_backends, sizeof(*changed));
	for (size_t i = 0; i < rt->cfg.n_backends; i++)
		moved += changed[i] = backend_moved(&rt->cfg.backends[i], &next.cfg.backends[i]);

	/* Barrier 1: every worker parked. 2: config swapped. 3: applied. The
	 * barrier lives as long as the workers (initialized in main.c). */
	for (int i = 0; i < rt->n_workers; i++)
		worker_request_park(&rt->workers[i]);
	pthread_barrier_wait(&rt->park);
	pthread_rwlock_wrlock(&rt->cfg_lock);
	runtime_swap(rt, &next);
	runtime_user_slots_sync(rt);
	rt->backend_changed = changed;
	if (moved > 0)
		handoffs_moved(rt);
	runtime_tls_caches_reset(rt, changed);
	atomic_store(&log_min_level, rt->cfg.log_level);
	pthread_rwlock_unlock(&rt->cfg_lock);
	pthread_barrier_wait(&rt->park);
	pthread_barrier_wait(&rt->park);
	rt->backend_changed = NULL;
	xfree(changed);
	runtime_free(&next); /* the old config, no longer referenced */
	log_info("configuration reloaded", "config=%s users=%zu backends_moved=%zu log_level=%s",
		 rt->cfg.path, rt->cfg.n_users, moved, log_level_str(rt->cfg.log_level));
}

void reload_park(struct worker *w)
{
	pthread_barrier_wait(&w->rt->park);
	pthread_barrier_wait(&w->rt->park);
	backend_pools_apply_config(w);
	pthread_barrier_wait(&w->rt->park);
}
