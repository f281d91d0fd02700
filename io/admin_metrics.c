/* admin_metrics: the snapshot in Prometheus text format (warmpool_ prefix, base units). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "worker.h"

/* jemalloc's control interface, when the daemon links it (not under ASan):
 * weak, so that the same code runs either way. */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
	__attribute__((weak));

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *f, const char *name, const char *labels, double value)
{
	if (labels && labels[0])
		fprintf(f, "%s{%s} %.15g\n", name, labels, value);
	else
		fprintf(f, "%s %.15g\n", name, value);
}

static void counter(FILE *f, const char *name, const char *help, double value)
{
	family(f, name, "counter", help);
	sample(f, name, NULL, value);
}

static void gauge(FILE *f, const char *name, const char *help, double value)
{
	family(f, name, "gauge", help);
	sample(f, name, NULL, value);
}

/* histogram writes one labelled series: cumulative buckets, sum, count. */
static void histogram(FILE *f, const char *name, const char *labels, const struct metric_hist *h)
{
	const char *sep = labels && labels[0] ? "," : "";
	uint64_t cumulative = 0;
	for (size_t i = 0; i < METRIC_HIST_BUCKETS; i++) {
		cumulative += h->buckets[i];
		if (i < METRIC_HIST_BUCKETS - 1)
			fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels ? labels : "", sep,
				metric_hist_bounds[i], (unsigned long long)cumulative);
		else
			fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels ? labels : "",
				sep, (unsigned long long)cumulative);
	}
	char series[160];
	snprintf(series, sizeof(series), "%s_sum", name);
	sample(f, series, labels, h->sum_seconds);
	snprintf(series, sizeof(series), "%s_count", name);
	sample(f, series, labels, (double)h->count);
}

static void write_process(FILE *f)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long size = 0, resident = 0;
	FILE *statm = fopen("/proc/self/statm", "r");
	if (statm) {
		if (fscanf(statm, "%llu %llu", &size, &resident) != 2)
			size = resident = 0;
		fclose(statm);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	size_t fds = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		for (struct dirent *e; (e = readdir(d));)
			fds += e->d_name[0] != '.';
		closedir(d);
		fds--; /* opendir's own descriptor */
	}
	struct rlimit rl = {0};
	getrlimit(RLIMIT_NOFILE, &rl);
	counter(f, "process_cpu_seconds_total", "User and system CPU time spent, in seconds.", cpu);
	gauge(f, "process_resident_memory_bytes", "Resident memory size in bytes.",
	      (double)(resident * (unsigned long long)page));
	gauge(f, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
	      (double)(size * (unsigned long long)page));
	gauge(f, "process_open_fds", "Open file descriptors.", (double)fds);
	gauge(f, "process_max_fds", "Limit of open file descriptors.", (double)rl.rlim_cur);
}

static void write_jemalloc(FILE *f)
{
	if (!mallctl)
		return;
	uint64_t epoch = 1;
	size_t len = sizeof(epoch);
	mallctl("epoch", &epoch, &len, &epoch, len); /* refresh the cached statistics */
	static const char *const stats[][2] = {
		{"allocated", "Bytes allocated by the application."},
		{"active", "Bytes in active pages allocated by the application."},
		{"resident", "Bytes in physically resident data pages mapped by jemalloc."},
		{"mapped", "Bytes in active extents mapped by jemalloc."},
		{"retained", "Bytes in virtual memory mappings retained, not returned to the OS."},
	};
	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		char ctl[32], name[64];
		size_t value = 0;
		len = sizeof(value);
		snprintf(ctl, sizeof(ctl), "stats.%s", stats[i][0]);
		if (mallctl(ctl, &value, &len, NULL, 0) != 0)
			continue;
		snprintf(name, sizeof(name), "warmpool_jemalloc_%s_bytes", stats[i][0]);
		gauge(f, name, stats[i][1], (double)value);
	}
}

static void write_clients(FILE *f, const struct admin_snapshot *snap)
{
	const struct worker_stats *t = &snap->total;
	const struct cfg *cfg = &snap->rt->cfg;
	char labels[256];
	family(f, "warmpool_client_connections", "gauge",
	       "Client connections by state: handshaking (not authenticated yet), waiting "
	       "(queued for a backend connection), linked (holding one), idle (neither).");
	uint64_t busy = t->clients_handshaking + t->clients_waiting + t->clients_linked;
	sample(f, "warmpool_client_connections", "state=\"handshaking\"",
	       (double)t->clients_handshaking);
	sample(f, "warmpool_client_connections", "state=\"waiting\"", (double)t->clients_waiting);
	sample(f, "warmpool_client_connections", "state=\"linked\"", (double)t->clients_linked);
	sample(f, "warmpool_client_connections", "state=\"idle\"",
	       (double)(t->clients > busy ? t->clients - busy : 0));
	gauge(f, "warmpool_client_connections_max", "max_clients: the limit over all workers.",
	      cfg->max_clients);
	family(f, "warmpool_client_connections_accepted_total", "counter",
	       "Client connections accepted, by listener.");
	for (size_t l = 0; l < cfg->n_listeners; l++) {
		snprintf(labels, sizeof(labels), "listener=\"%s\"", cfg->listeners[l].name);
		sample(f, "warmpool_client_connections_accepted_total", labels,
		       (double)t->listeners[l].accepted_total);
	}
	family(f, "warmpool_listener_up", "gauge",
	       "1 when every worker accepts on the listener, 0 otherwise (draining).");
	for (size_t l = 0; l < cfg->n_listeners; l++) {
		snprintf(labels, sizeof(labels), "listener=\"%s\"", cfg->listeners[l].name);
		sample(f, "warmpool_listener_up", labels,
		       t->listeners[l].workers_listening == (uint64_t)snap->rt->n_workers);
	}
	counter(f, "warmpool_retried_reads_total",
		"Read-only statements re-sent after their backend connection died (retry_reads).",
		(double)t->retried_reads_total);
	counter(f, "warmpool_retried_aborted_total",
		"Statements the server aborted as it shut down (ERR 1053: rolled back), re-sent on "
		"a new backend connection.",
		(double)t->retried_aborted_total);
	counter(f, "warmpool_retried_begins_total",
		"Lone BEGIN or START TRANSACTION statements lost with their backend connection "
		"outside a transaction, re-sent on a new one.",
		(double)t->retried_begins_total);
	counter(f, "warmpool_commit_markers_failed_total",
		"Commit marker rows (replay_commit_marker) the server refused to write: those "
		"COMMITs went without one.",
		(double)t->commit_markers_failed_total);
	family(f, "warmpool_replays_total", "counter",
	       "Transactions lost with their backend connection, by what followed "
	       "(replay_transactions).");
	for (int k = 0; k < REPLAY_OUTCOME_COUNT; k++) {
		snprintf(labels, sizeof(labels), "outcome=\"%s\"",
			 replay_outcome_str((enum replay_outcome)k));
		sample(f, "warmpool_replays_total", labels, (double)t->replays_total[k]);
	}
	counter(f, "warmpool_client_received_bytes_total", "Bytes received from clients.",
		(double)t->client_bytes_received_total);
	counter(f, "warmpool_client_sent_bytes_total", "Bytes sent to clients.",
		(double)t->client_bytes_sent_total);
	counter(f, "warmpool_backend_received_bytes_total", "Bytes received from backends.",
		(double)t->backend_bytes_received_total);
	counter(f, "warmpool_backend_sent_bytes_total", "Bytes sent to backends.",
		(double)t->backend_bytes_sent_total);
	counter(f, "warmpool_ring_waits_total",
		"Event loop turns, each one io_uring_enter that waits for completions.",
		(double)t->ring_waits_total);
	counter(f, "warmpool_ring_completions_total",
		"io_uring completions handled (per turn: divide by warmpool_ring_waits_total).",
		(double)t->ring_completions_total);
	family(f, "warmpool_errors_total", "counter", "Errors by kind (see README).");
	for (int k = 0; k < STATS_ERR_COUNT; k++) {
		snprintf(labels, sizeof(labels), "kind=\"%s\"", stats_error_str((enum stats_error)k));
		sample(f, "warmpool_errors_total", labels, (double)t->errors_total[k]);
	}
	family(f, "warmpool_pins_total", "counter",
	       "Clients pinned to their backend connection, by reason.");
	for (int r = 1; r < MY_PIN_REASON_COUNT; r++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"",
			 my_pin_reason_str((enum my_pin_reason)r));
		sample(f, "warmpool_pins_total", labels, (double)t->pins_total[r]);
	}
	family(f, "warmpool_holds_total", "counter",
	       "Backend connections held for a client without a pin, by kind.");
	for (int k = 0; k < STATS_HOLD_COUNT; k++) {
		snprintf(labels, sizeof(labels), "kind=\"%s\"", stats_hold_str((enum stats_hold)k));
		sample(f, "warmpool_holds_total", labels, (double)t->holds_total[k]);
	}
	family(f, "warmpool_wait_seconds", "histogram",
	       "Time clients waited for a backend connection (0 when one was idle).");
	histogram(f, "warmpool_wait_seconds", NULL, &t->wait_seconds);
}

/* PER_BACKEND writes one family with a value per backend; |expr| reads
 * the backend's statistics as |sb|. */
#define PER_BACKEND(f, snap, metric, type, help, expr)                                    \
	do {                                                                              \
		family(f, metric, type, help);                                            \
		for (size_t b_ = 0; b_ < (snap)->rt->cfg.n_backends; b_++) {              \
			const struct stats_backend *sb = &(snap)->total.backends[b_];     \
			char l_[160];                                                     \
			snprintf(l_, sizeof(l_), "backend=\"%s\"",                      \
				 (snap)->rt->cfg.backends[b_].name);                      \
			sample(f, metric, l_, (double)(expr));                            \
		}                                                                         \
	} while (0)

/* write_tls_stash: what the shared session stash learned and told the pools. */
static void write_tls_stash(FILE *f, const struct admin_snapshot *snap)
{
	const struct cfg *cfg = &snap->rt->cfg;
	char labels[256];
	if (snap->tls_reuse) {
		family(f, "warmpool_tls_ticket_reuse", "gauge",
		       "Whether the backend resumes a TLS 1.3 ticket more than once: 1 for what "
		       "was learned.");
		for (size_t b = 0; b < cfg->n_backends; b++) {
			for (int r = TLS_REUSE_UNKNOWN; r <= TLS_REUSE_REFUSED; r++) {
				snprintf(labels, sizeof(labels), "backend=\"%s\",state=\"%s\"",
					 cfg->backends[b].name, tls_reuse_str((enum tls_reuse)r));
				sample(f, "warmpool_tls_ticket_reuse", labels,
				       snap->tls_reuse[b] == (enum tls_reuse)r);
			}
		}
	}
	family(f, "warmpool_tls_connect_admissions_total", "counter",
	       "The session stash's answers when a pool opens a connection: free, ticket "
	       "(a single-use ticket set aside), pilot (opens alone), wait (for the pilot).");
	for (size_t b = 0; b < cfg->n_backends; b++) {
		for (int a = TLS_ADMIT_FREE; a <= TLS_ADMIT_WAIT; a++) {
			snprintf(labels, sizeof(labels), "backend=\"%s\",answer=\"%s\"",
				 cfg->backends[b].name, tls_admit_str((enum tls_admit)a));
			sample(f, "warmpool_tls_connect_admissions_total", labels,
			       (double)snap->total.backends[b].tls_admits[a]);
		}
	}
}

static void write_backends(FILE *f, const struct admin_snapshot *snap)
{
	const struct cfg *cfg = &snap->rt->cfg;
	char labels[256];
	PER_BACKEND(f, snap, "warmpool_backend_up", "gauge",
		    "1 when some worker has a working connection to the backend.",
		    sb->health == BACKEND_UP);
	family(f, "warmpool_backend_health", "gauge",
	       "The backend's health state: 1 for the current one.");
	for (size_t b = 0; b < cfg->n_backends; b++) {
		for (int h = BACKEND_UNKNOWN; h <= BACKEND_DOWN; h++) {
			snprintf(labels, sizeof(labels), "backend=\"%s\",state=\"%s\"",
				 cfg->backends[b].name, backend_health_str((enum backend_health)h));
			sample(f, "warmpool_backend_health", labels,
			       snap->total.backends[b].health == (enum backend_health)h);
		}
	}
	PER_BACKEND(f, snap, "warmpool_pool_handoffs_total", "counter",
		    "Backend connections lent by one worker to another, whose client asked first "
		    "while the pool was at max_connections (counted as they arrive).",
		    sb->handoffs_borrowed_total);
	PER_BACKEND(f, snap, "warmpool_backend_health_transitions_total", "counter",
		    "Changes of health state (summed over workers).", sb->transitions_total);
	PER_BACKEND(f, snap, "warmpool_backend_tls", "gauge",
		    "1 when the last backend connection used TLS, 0 plaintext, -1 none yet.",
		    sb->tls_on);
	family(f, "warmpool_backend_connections", "gauge", "Backend connections by pool state.");
	for (size_t b = 0; b < cfg->n_backends; b++) {
		for (int st = 0; st < POOL_CONN_STATE_COUNT; st++) {
			snprintf(labels, sizeof(labels), "backend=\"%s\",state=\"%s\"",
				 cfg->backends[b].name, pool_conn_state_str((enum pool_conn_state)st));
			sample(f, "warmpool_backend_connections", labels,
			       (double)snap->total.backends[b].conns[st]);
		}
	}
	PER_BACKEND(f, snap, "warmpool_wait_queue_length", "gauge",
		    "Clients queued for a connection to the backend.", sb->waiting);
	PER_BACKEND(f, snap, "warmpool_queries_total", "counter",
		    "Commands relayed to the backend.", sb->queries_total);
	PER_BACKEND(f, snap, "warmpool_backend_connects_total", "counter",
		    "Backend connections opened and logged in.", sb->connects_total);
	PER_BACKEND(f, snap, "warmpool_backend_connect_failures_total", "counter",
		    "Backend connection attempts that failed.", sb->connect_failures_total);
	PER_BACKEND(f, snap, "warmpool_backend_connections_lost_total", "counter",
		    "Backend connections that died (restart, kill, network), each replaced.",
		    sb->lost_total);
	family(f, "warmpool_backend_connections_closed_total", "counter",
	       "Backend connections warmpool closed on purpose, by reason.");
	for (size_t b = 0; b < cfg->n_backends; b++) {
		for (int r = 0; r < POOL_CLOSE_REASON_COUNT; r++) {
			snprintf(labels, sizeof(labels), "backend=\"%s\",reason=\"%s\"",
				 cfg->backends[b].name,
				 pool_close_reason_str((enum pool_close_reason)r));
			sample(f, "warmpool_backend_connections_closed_total", labels,
			       (double)snap->total.backends[b].closed_total[r]);
		}
	}
	PER_BACKEND(f, snap, "warmpool_tls_sessions_offered_total", "counter",
		    "Backend TLS handshakes that offered a session ticket.", sb->tls.offered);
	PER_BACKEND(f, snap, "warmpool_tls_sessions_refused_total", "counter",
		    "Offered tickets the backend did not accept.", sb->tls.refused);
	write_tls_stash(f, snap);
}

/* tls_peers iterates backends then listeners with their TLS metrics. */
static const struct metric_tls *tls_peer(const struct admin_snapshot *snap, size_t i,
					 const char **side, const char **name)
{
	const struct cfg *cfg = &snap->rt->cfg;
	if (i < cfg->n_backends) {
		*side = "backend";
		*name = cfg->backends[i].name;
		return &snap->total.backends[i].tls;
	}
	i -= cfg->n_backends;
	*side = "listener";
	*name = cfg->listeners[i].name;
	return &snap->total.listeners[i].tls;
}

static void write_tls(FILE *f, const struct admin_snapshot *snap)
{
	size_t n = snap->rt->cfg.n_backends + snap->rt->cfg.n_listeners;
	char labels[256];
	const char *side, *name;
	family(f, "warmpool_tls_handshakes_total", "counter",
	       "Completed TLS handshakes, by side (backend: warmpool is the client; listener: "
	       "the server) and kind (full or resumed).");
	for (size_t i = 0; i < n; i++) {
		const struct metric_tls *m = tls_peer(snap, i, &side, &name);
		snprintf(labels, sizeof(labels), "side=\"%s\",peer=\"%s\",kind=\"full\"", side, name);
		sample(f, "warmpool_tls_handshakes_total", labels, (double)m->full);
		snprintf(labels, sizeof(labels), "side=\"%s\",peer=\"%s\",kind=\"resumed\"", side,
			 name);
		sample(f, "warmpool_tls_handshakes_total", labels, (double)m->resumed);
	}
	family(f, "warmpool_tls_handshake_failures_total", "counter", "TLS handshakes that failed.");
	for (size_t i = 0; i < n; i++) {
		const struct metric_tls *m = tls_peer(snap, i, &side, &name);
		snprintf(labels, sizeof(labels), "side=\"%s\",peer=\"%s\"", side, name);
		sample(f, "warmpool_tls_handshake_failures_total", labels, (double)m->failed);
	}
	family(f, "warmpool_tls_handshake_seconds", "histogram",
	       "TLS handshake latency, by side and kind.");
	for (size_t i = 0; i < n; i++) {
		const struct metric_tls *m = tls_peer(snap, i, &side, &name);
		snprintf(labels, sizeof(labels), "side=\"%s\",peer=\"%s\",kind=\"full\"", side, name);
		histogram(f, "warmpool_tls_handshake_seconds", labels, &m->full_seconds);
		snprintf(labels, sizeof(labels), "side=\"%s\",peer=\"%s\",kind=\"resumed\"", side,
			 name);
		histogram(f, "warmpool_tls_handshake_seconds", labels, &m->resumed_seconds);
	}
}

char *admin_render_metrics(const struct admin_snapshot *snap)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	if (!f)
		return NULL;
	family(f, "warmpool_info", "gauge", "Build information; the value is always 1.");
	fprintf(f, "warmpool_info{version=\"%s\"} 1\n", WARMPOOL_VERSION);
	gauge(f, "warmpool_workers", "Worker threads.", snap->rt->n_workers);
	gauge(f, "warmpool_draining", "1 after SIGTERM, while clients finish.",
	      atomic_load(&snap->rt->draining));
	gauge(f, "process_start_time_seconds", "Start time of the process since the Unix epoch.",
	      (double)snap->rt->started_unix);
	family(f, "warmpool_admin_connections_evicted_total", "counter",
	       "Admin connections closed to make room for a new one (all 256 were taken).");
	sample(f, "warmpool_admin_connections_evicted_total", NULL,
	       (double)snap->admin_evicted_total);
	write_process(f);
	write_jemalloc(f);
	write_clients(f, snap);
	write_backends(f, snap);
	write_tls(f, snap);
	fclose(f);
	return body;
}
