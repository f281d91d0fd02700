/* admin_status: liveness, readiness and the /status document, as JSON (jansson). */
#include <jansson.h>
#include <string.h>

#include "admin.h"
#include "worker.h"

static char *dump(json_t *doc)
{
	char *body = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(doc);
	if (!body)
		return NULL;
	/* A trailing newline, for curl on a terminal. */
	size_t len = strlen(body);
	char *out = realloc(body, len + 2);
	if (!out) {
		free(body);
		return NULL;
	}
	memcpy(out + len, "\n", 2);
	return out;
}

static uint64_t heartbeat_age_ms(const struct admin_snapshot *snap, int worker)
{
	uint64_t hb = snap->heartbeat_ms[worker];
	return snap->now_ms > hb ? snap->now_ms - hb : 0;
}

char *admin_render_health(const struct admin_snapshot *snap, bool *healthy)
{
	json_t *workers = json_array();
	*healthy = true;
	for (int i = 0; i < snap->rt->n_workers; i++) {
		uint64_t age = heartbeat_age_ms(snap, i);
		bool stuck = age > ADMIN_WORKER_STALL_MS;
		*healthy = *healthy && !stuck;
		json_array_append_new(workers, json_pack("{s:i, s:I, s:b}", "id", i,
							 "heartbeat_age_ms", (json_int_t)age,
							 "stuck", stuck));
	}
	return dump(json_pack("{s:s, s:o}", "status", *healthy ? "ok" : "fail", "workers",
			      workers));
}

/* member_ready: up, or never tried while nothing is kept warm for it
 * (min_idle = 0: the first client will try). */
static bool member_ready(const struct admin_snapshot *snap, size_t b)
{
	enum backend_health h = snap->total.backends[b].health;
	return h == BACKEND_UP || (h == BACKEND_UNKNOWN && snap->rt->cfg.backends[b].min_idle == 0);
}

/* add_reason appends |reason| once (listeners may share a backend). */
static void add_reason(json_t *reasons, json_t *reason)
{
	size_t i;
	json_t *seen;
	json_array_foreach(reasons, i, seen)
	{
		if (json_equal(seen, reason)) {
			json_decref(reason);
			return;
		}
	}
	json_array_append_new(reasons, reason);
}

static json_t *member_reason(const struct admin_snapshot *snap, size_t b)
{
	const struct stats_backend *sb = &snap->total.backends[b];
	const char *name = snap->rt->cfg.backends[b].name;
	if (sb->health == BACKEND_UNKNOWN)
		return json_sprintf("backend %s: not connected yet", name);
	return json_sprintf("backend %s is down: %s", name, sb->health_reason);
}

/* listener_reasons: a listener is ready when one of its members is; a group
 * with every member down lists them all. */
static void listener_reasons(const struct admin_snapshot *snap, const struct cfg_listener *l,
			     json_t *reasons)
{
	for (size_t k = 0; k < l->n_members; k++)
		if (member_ready(snap, l->members[k]))
			return;
	if (l->n_members == 1) {
		add_reason(reasons, member_reason(snap, l->members[0]));
		return;
	}
	for (size_t k = 0; k < l->n_members; k++) {
		json_t *why = member_reason(snap, l->members[k]);
		add_reason(reasons, json_sprintf("group %s: no member is up: %s", l->backend,
						 json_string_value(why)));
		json_decref(why);
	}
}

/* readiness_reasons lists what keeps warmpool from taking traffic: empty
 * when ready. */
static json_t *readiness_reasons(const struct admin_snapshot *snap)
{
	const struct cfg *cfg = &snap->rt->cfg;
	json_t *reasons = json_array();
	if (atomic_load(&snap->rt->draining))
		json_array_append_new(reasons, json_string("draining: SIGTERM received"));
	for (size_t l = 0; l < cfg->n_listeners; l++) {
		if (snap->total.listeners[l].workers_listening < (uint64_t)snap->rt->n_workers)
			json_array_append_new(reasons, json_sprintf("listener %s is not accepting",
								    cfg->listeners[l].name));
	}
	for (size_t l = 0; l < cfg->n_listeners; l++)
		listener_reasons(snap, &cfg->listeners[l], reasons);
	return reasons;
}

char *admin_render_ready(const struct admin_snapshot *snap, bool *ready)
{
	json_t *reasons = readiness_reasons(snap);
	*ready = json_array_size(reasons) == 0;
	return dump(json_pack("{s:s, s:o}", "status", *ready ? "ready" : "not ready", "reasons",
			      reasons));
}

char *admin_render_ready_brief(const struct admin_snapshot *snap, bool *ready)
{
	json_t *reasons = readiness_reasons(snap);
	*ready = json_array_size(reasons) == 0;
	json_decref(reasons);
	return dump(json_pack("{s:s}", "status", *ready ? "ready" : "not ready"));
}

static json_t *tls_json(const struct metric_tls *m)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:f}", "full", (json_int_t)m->full,
			 "resumed", (json_int_t)m->resumed, "offered", (json_int_t)m->offered,
			 "refused", (json_int_t)m->refused, "failed", (json_int_t)m->failed,
			 "full_p50_ms", metric_hist_quantile(&m->full_seconds, 0.5) * 1000,
			 "resumed_p50_ms", metric_hist_quantile(&m->resumed_seconds, 0.5) * 1000);
}

static json_t *backend_json(const struct admin_snapshot *snap, size_t b)
{
	const struct cfg_backend *cb = &snap->rt->cfg.backends[b];
	const struct stats_backend *sb = &snap->total.backends[b];
	json_t *conns = json_object();
	for (int st = 0; st < POOL_CONN_STATE_COUNT; st++)
		json_object_set_new(conns, pool_conn_state_str((enum pool_conn_state)st),
				    json_integer((json_int_t)sb->conns[st]));
	json_t *closed = json_object();
	for (int r = 0; r < POOL_CLOSE_REASON_COUNT; r++)
		json_object_set_new(closed, pool_close_reason_str((enum pool_close_reason)r),
				    json_integer((json_int_t)sb->closed_total[r]));
	uint64_t since = sb->health == BACKEND_UNKNOWN ? snap->now_ms : sb->health_since_ms;
	return json_pack(
		"{s:s, s:s, s:i, s:s, s:i, s:i, s:i, s:i, s:s, s:s, s:f, s:s?, s:s, s:o, s:I, s:I, "
		"s:I, s:I, s:I, s:o, s:I, s:o, s:s?, s:o?, s:I}",
		"name", cb->name, "host", cb->host, "port", cb->port, "ssl_mode",
		cfg_ssl_mode_str(cb->ssl_mode), "min_idle", cb->min_idle, "max_connections",
		cb->max_connections, "idle_timeout_ms", cb->idle_timeout_ms, "max_age_ms",
		cb->max_age_ms, "health", backend_health_str(sb->health), "health_reason",
		sb->health_reason, "health_for_seconds", (double)(snap->now_ms - since) / 1000,
		"tls", sb->tls_on < 0 ? NULL : sb->tls_on ? sb->tls_version : "off",
		"server_version", sb->server_version, "connections", conns, "waiting",
		(json_int_t)sb->waiting, "queries", (json_int_t)sb->queries_total, "connects",
		(json_int_t)sb->connects_total, "connect_failures",
		(json_int_t)sb->connect_failures_total, "lost", (json_int_t)sb->lost_total,
		"closed", closed, "connecting_peak", (json_int_t)sb->connecting_peak,
		"tls_handshakes", tls_json(&sb->tls), "tls_ticket_reuse",
		snap->tls_reuse ? tls_reuse_str(snap->tls_reuse[b]) : NULL,
		/* Counted as they open and close (pool_shared): what max_connections
		 * bounds, lent connections on their way included. */
		"pool_connections",
		snap->pool_connections ? json_integer((json_int_t)snap->pool_connections[b]) : NULL,
		"handoffs", (json_int_t)sb->handoffs_borrowed_total);
}

static json_t *listener_json(const struct admin_snapshot *snap, size_t l)
{
	const struct cfg_listener *cl = &snap->rt->cfg.listeners[l];
	const struct stats_listener *sl = &snap->total.listeners[l];
	json_t *members = json_array();
	for (size_t k = 0; k < cl->n_members; k++)
		json_array_append_new(members,
				      json_string(snap->rt->cfg.backends[cl->members[k]].name));
	return json_pack("{s:s, s:s, s:i, s:s, s:o, s:s, s:b, s:b, s:I, s:o}", "name", cl->name,
			 "address", cl->address, "port", cl->port, "backend", cl->backend,
			 "members", members,
			 "pool_mode", cl->pool_mode == CFG_POOL_TRANSACTION ? "transaction" : "session",
			 "tls", cl->tls_cert != NULL, "accepting",
			 sl->workers_listening == (uint64_t)snap->rt->n_workers, "accepted",
			 (json_int_t)sl->accepted_total, "tls_handshakes", tls_json(&sl->tls));
}

static json_t *clients_json(const struct worker_stats *s)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "connected", (json_int_t)s->clients,
			 "handshaking", (json_int_t)s->clients_handshaking, "waiting",
			 (json_int_t)s->clients_waiting, "linked", (json_int_t)s->clients_linked);
}

static json_t *counts_json(const uint64_t *values, int from, int n, const char *(*name)(int))
{
	json_t *o = json_object();
	for (int i = from; i < n; i++)
		json_object_set_new(o, name(i), json_integer((json_int_t)values[i]));
	return o;
}

static const char *pin_name(int r)
{
	return my_pin_reason_str((enum my_pin_reason)r);
}

static const char *hold_name(int k)
{
	return stats_hold_str((enum stats_hold)k);
}

static const char *error_name(int k)
{
	return stats_error_str((enum stats_error)k);
}

/* worker_backends_json: what one worker's pool shards hold, per backend:
 * its connections by state, its waiting clients, and the connections it
 * lent to other workers and borrowed from them (handoff.c). */
static json_t *worker_backends_json(const struct admin_snapshot *snap, int worker)
{
	json_t *o = json_object();
	for (size_t b = 0; b < snap->rt->cfg.n_backends; b++) {
		const struct stats_backend *sb = &snap->workers[worker].backends[b];
		json_t *conns = json_object();
		for (int st = 0; st < POOL_CONN_STATE_COUNT; st++)
			json_object_set_new(conns, pool_conn_state_str((enum pool_conn_state)st),
					    json_integer((json_int_t)sb->conns[st]));
		json_object_set_new(o, snap->rt->cfg.backends[b].name,
				    json_pack("{s:o, s:I, s:I, s:I}", "connections", conns, "waiting",
					      (json_int_t)sb->waiting, "lent",
					      (json_int_t)sb->handoffs_lent_total, "borrowed",
					      (json_int_t)sb->handoffs_borrowed_total));
	}
	return o;
}

char *admin_render_status(const struct admin_snapshot *snap)
{
	const struct runtime *rt = snap->rt;
	json_t *workers = json_array(), *listeners = json_array(), *backends = json_array();
	for (int i = 0; i < rt->n_workers; i++)
		json_array_append_new(workers, json_pack("{s:i, s:I, s:o, s:o}", "id", i,
							 "heartbeat_age_ms",
							 (json_int_t)heartbeat_age_ms(snap, i),
							 "clients", clients_json(&snap->workers[i]),
							 "backends", worker_backends_json(snap, i)));
	for (size_t l = 0; l < rt->cfg.n_listeners; l++)
		json_array_append_new(listeners, listener_json(snap, l));
	for (size_t b = 0; b < rt->cfg.n_backends; b++)
		json_array_append_new(backends, backend_json(snap, b));
	const struct worker_stats *t = &snap->total;
	json_t *reasons = readiness_reasons(snap);
	bool ready = json_array_size(reasons) == 0;
	json_t *doc = json_pack(
		"{s:s, s:f, s:b, s:b, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "version",
		WARMPOOL_VERSION, "uptime_seconds", (double)(snap->now_ms - rt->started_ms) / 1000,
		"draining", atomic_load(&rt->draining), "ready", ready, "readiness", reasons,
		"workers", workers, "listeners", listeners, "backends",
		backends, "queries", (json_int_t)t->queries_total, "clients", clients_json(t),
		"pins", counts_json(t->pins_total, 1, MY_PIN_REASON_COUNT, pin_name), "holds",
		counts_json(t->holds_total, 0, STATS_HOLD_COUNT, hold_name), "errors",
		counts_json(t->errors_total, 0, STATS_ERR_COUNT, error_name));
	return dump(doc);
}
