/* stats: copying and summing worker statistics; health transitions. */
#include "stats.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"

const char *stats_error_str(enum stats_error kind)
{
	static const char *const names[STATS_ERR_COUNT] = {
		"client_protocol", "client_auth",     "client_timeout", "client_refused",
		"wait_timeout",	   "backend_connect", "backend_lost",	"transaction_lost",
	};
	return (unsigned)kind < STATS_ERR_COUNT ? names[kind] : "unknown";
}

const char *stats_hold_str(enum stats_hold kind)
{
	static const char *const names[STATS_HOLD_COUNT] = {"transaction", "long_data", "readback"};
	return (unsigned)kind < STATS_HOLD_COUNT ? names[kind] : "unknown";
}

const char *backend_health_str(enum backend_health health)
{
	switch (health) {
	case BACKEND_UNKNOWN: return "unknown";
	case BACKEND_UP: return "up";
	case BACKEND_PROBING: return "probing";
	case BACKEND_DOWN: return "down";
	}
	return "unknown";
}

void stats_init(struct worker_stats *s, size_t n_backends, size_t n_listeners)
{
	memset(s, 0, sizeof(*s));
	s->n_backends = n_backends;
	s->backends = xcalloc(n_backends ? n_backends : 1, sizeof(*s->backends));
	for (size_t i = 0; i < n_backends; i++)
		s->backends[i].tls_on = -1;
	s->n_listeners = n_listeners;
	s->listeners = xcalloc(n_listeners ? n_listeners : 1, sizeof(*s->listeners));
}

void stats_cleanup(struct worker_stats *s)
{
	xfree(s->backends);
	xfree(s->listeners);
	s->backends = NULL;
	s->listeners = NULL;
}

void stats_copy(struct worker_stats *into, const struct worker_stats *from)
{
	struct stats_backend *backends = into->backends;
	struct stats_listener *listeners = into->listeners;
	*into = *from;
	into->backends = backends;
	into->listeners = listeners;
	memcpy(backends, from->backends, from->n_backends * sizeof(*backends));
	memcpy(listeners, from->listeners, from->n_listeners * sizeof(*listeners));
}

static bool live_and_up(const struct stats_backend *b)
{
	return b->health == BACKEND_UP && b->conns[POOL_CONN_IDLE] + b->conns[POOL_CONN_ACTIVE] +
						  b->conns[POOL_CONN_RESETTING] > 0;
}

/* merge_health applies stats_merge's rule to one worker's view. */
static void merge_health(struct stats_backend *into, const struct stats_backend *from)
{
	bool live = live_and_up(from);
	if ((live && !into->health_live) ||
	    (live == into->health_live && from->last_event_ms > into->last_event_ms)) {
		into->health = from->health;
		into->health_since_ms = from->health_since_ms;
		into->last_event_ms = from->last_event_ms;
		into->health_live = live;
		memcpy(into->health_reason, from->health_reason, sizeof(into->health_reason));
	}
}

static void merge_backend(struct stats_backend *into, const struct stats_backend *from)
{
	metric_tls_merge(&into->tls, &from->tls);
	into->connects_total += from->connects_total;
	into->connect_failures_total += from->connect_failures_total;
	into->lost_total += from->lost_total;
	for (size_t i = 0; i < POOL_CLOSE_REASON_COUNT; i++)
		into->closed_total[i] += from->closed_total[i];
	into->transitions_total += from->transitions_total;
	into->queries_total += from->queries_total;
	into->connecting_peak += from->connecting_peak;
	for (size_t i = 0; i <= TLS_ADMIT_WAIT; i++)
		into->tls_admits[i] += from->tls_admits[i];
	into->handoffs_lent_total += from->handoffs_lent_total;
	into->handoffs_borrowed_total += from->handoffs_borrowed_total;
	merge_health(into, from); /* before summing: it reads |from|'s own gauges */
	for (size_t i = 0; i < POOL_CONN_STATE_COUNT; i++)
		into->conns[i] += from->conns[i];
	into->waiting += from->waiting;
	if (from->tls_on >= 0 && (into->tls_on < 0 || from->connected_ms > into->connected_ms)) {
		into->tls_on = from->tls_on;
		into->connected_ms = from->connected_ms;
		memcpy(into->tls_version, from->tls_version, sizeof(into->tls_version));
		memcpy(into->server_version, from->server_version, sizeof(into->server_version));
	}
}

void stats_merge(struct worker_stats *into, const struct worker_stats *from)
{
	if (from->heartbeat_ms < into->heartbeat_ms || into->heartbeat_ms == 0)
		into->heartbeat_ms = from->heartbeat_ms; /* the stalest worker */
	into->queries_total += from->queries_total;
	into->retried_reads_total += from->retried_reads_total;
	into->retried_aborted_total += from->retried_aborted_total;
	into->retried_begins_total += from->retried_begins_total;
	into->commit_markers_failed_total += from->commit_markers_failed_total;
	for (int k = 0; k < REPLAY_OUTCOME_COUNT; k++)
		into->replays_total[k] += from->replays_total[k];
	into->client_bytes_received_total += from->client_bytes_received_total;
	into->client_bytes_sent_total += from->client_bytes_sent_total;
	into->backend_bytes_received_total += from->backend_bytes_received_total;
	into->backend_bytes_sent_total += from->backend_bytes_sent_total;
	into->ring_waits_total += from->ring_waits_total;
	into->ring_completions_total += from->ring_completions_total;
	for (size_t i = 0; i < STATS_ERR_COUNT; i++)
		into->errors_total[i] += from->errors_total[i];
	for (size_t i = 0; i < MY_PIN_REASON_COUNT; i++)
		into->pins_total[i] += from->pins_total[i];
	for (size_t i = 0; i < STATS_HOLD_COUNT; i++)
		into->holds_total[i] += from->holds_total[i];
	metric_hist_merge(&into->wait_seconds, &from->wait_seconds);
	into->clients += from->clients;
	into->clients_handshaking += from->clients_handshaking;
	into->clients_waiting += from->clients_waiting;
	into->clients_linked += from->clients_linked;
	for (size_t i = 0; i < into->n_backends && i < from->n_backends; i++)
		merge_backend(&into->backends[i], &from->backends[i]);
	for (size_t i = 0; i < into->n_listeners && i < from->n_listeners; i++) {
		metric_tls_merge(&into->listeners[i].tls, &from->listeners[i].tls);
		into->listeners[i].accepted_total += from->listeners[i].accepted_total;
		into->listeners[i].workers_listening += from->listeners[i].workers_listening;
	}
}

void stats_backend_set_health(struct stats_backend *b, enum backend_health health,
			      const char *reason, uint64_t now_ms)
{
	if (health != BACKEND_PROBING) {
		/* A probe keeps the reason and time of the failure before it. */
		b->last_event_ms = now_ms;
		snprintf(b->health_reason, sizeof(b->health_reason), "%s", reason ? reason : "");
	}
	if (b->health == health)
		return;
	bool still_down = (b->health == BACKEND_DOWN || b->health == BACKEND_PROBING) &&
			  (health == BACKEND_DOWN || health == BACKEND_PROBING);
	if (!still_down) { /* probing is part of being down */
		b->health_since_ms = now_ms;
		b->transitions_total++;
	}
	b->health = health;
}
