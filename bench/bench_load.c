/* bench_load: N client connections per target, on a few threads, for a fixed time, targets alternated in rounds; rates, latency, proxy CPU. */
#include "bench_load.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_conn.h"
#include "bench_sched.h"
#include "bench_util.h"
#include "cfg.h"
#include "tls_ctx.h"

/* After the large statements, the time given to the target before the
 * measurement: a proxy's allocator gives the freed megabytes back over some
 * seconds (jemalloc: dirty pages decay over 10 s), a cost of the large
 * statement, not of the queries after it. */
#define LARGE_SETTLE_S 12.0

/* What one target accumulates over its rounds. */
struct target_result {
	double *latency; /* seconds per request (connect) or per query (throughput) */
	size_t n, cap;
	size_t errors;
	double seconds;	  /* measured wall time, summed over rounds */
	double cpu;	  /* the measured process's CPU over those spans */
	double wakeups;	  /* its threads' voluntary context switches over them */
	double rss_max;	  /* bytes */
	char first_error[256];
	/* restart */
	double stall_max;		       /* the longest gap between two answers */
	double recovery[LOAD_MAX_RESTARTS];    /* restart command done -> next answer */
	double outage[LOAD_MAX_RESTARTS];      /* how long each restart command ran */
	int n_restarts;
};

struct worker_arg {
	const struct load_opts *o;
	const struct bench_target *t;
	double deadline;
	unsigned seed;
	double *latency;
	size_t n, cap;
	size_t errors;
	char first_error[256];
	_Atomic bool *abort;
	double stall_max;		  /* restart: the longest gap between two answers */
	_Atomic uint64_t *last_answer_ns; /* restart: when any connection last got one */
	bool large; /* this connection runs the large statement, then quits */
};

static void record(struct worker_arg *a, double seconds)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4096;
		a->latency = realloc(a->latency, a->cap * sizeof(*a->latency));
		if (!a->latency)
			abort();
	}
	a->latency[a->n++] = seconds;
}

static void error(struct worker_arg *a, const char *why)
{
	if (a->errors++ == 0)
		snprintf(a->first_error, sizeof(a->first_error), "%s", why);
}

/* connect_loop: one request = connect, log in, SELECT 1, quit. */
static void connect_loop(struct worker_arg *a)
{
	while (bench_now() < a->deadline && !atomic_load(a->abort)) {
		struct bench_session s;
		struct bench_sample sample;
		char why[256];
		double t0 = bench_now();
		bool ok = bench_open(a->t, &s, &sample, why, sizeof(why)) && bench_query(&s, "SELECT 1");
		bench_close(&s, ok);
		if (ok)
			record(a, bench_now() - t0);
		else
			error(a, why);
	}
}

static void point_select(struct worker_arg *a, char *sql, size_t len)
{
	int id = 1 + (int)(rand_r(&a->seed) % (unsigned)a->o->table_size);
	snprintf(sql, len, "SELECT c FROM %s WHERE id=%d", a->o->table, id);
}

/* read_write runs one short read-write transaction: two point selects and
 * an update of the indexed counter of another row, as sysbench's
 * oltp_read_write does in miniature. */
static bool read_write(struct worker_arg *a, struct bench_session *s)
{
	char sql[160];
	if (!bench_query(s, "BEGIN"))
		return false;
	for (int i = 0; i < 2; i++) {
		point_select(a, sql, sizeof(sql));
		if (!bench_query(s, sql))
			return false;
	}
	int id = 1 + (int)(rand_r(&a->seed) % (unsigned)a->o->table_size);
	snprintf(sql, sizeof(sql), "UPDATE %s SET k=k+1 WHERE id=%d", a->o->table, id);
	return bench_query(s, sql) && bench_query(s, "COMMIT");
}

/* one_request runs a point select or, with --mix read-write, one
 * read-write transaction; false when a statement failed (the transaction
 * is abandoned there). */
static bool one_request(struct worker_arg *a, struct bench_session *s)
{
	char sql[160];
	if (a->o->read_write)
		return read_write(a, s);
	point_select(a, sql, sizeof(sql));
	return bench_query(s, sql);
}

/* throughput_loop: one connection, point selects (or read-write
 * transactions) back to back. */
static void throughput_loop(struct worker_arg *a)
{
	struct bench_session s;
	struct bench_sample sample;
	char why[256];
	if (!bench_open(a->t, &s, &sample, why, sizeof(why))) {
		error(a, why);
		bench_close(&s, false);
		return;
	}
	while (bench_now() < a->deadline && !atomic_load(a->abort)) {
		double t0 = bench_now();
		if (!one_request(a, &s)) {
			error(a, why);
			break;
		}
		record(a, bench_now() - t0);
	}
	bench_close(&s, true);
}

static void note_answer(struct worker_arg *a, double *last, double now)
{
	if (now - *last > a->stall_max)
		a->stall_max = now - *last;
	*last = now;
	uint64_t ns = (uint64_t)(now * 1e9), seen = atomic_load(a->last_answer_ns);
	while (seen < ns && !atomic_compare_exchange_weak(a->last_answer_ns, &seen, ns))
		;
}

/* restart_loop: paced point selects (or read-write transactions) until
 * told to stop, as an application would run them through a restart: a
 * failed statement or login counts as an error and the connection is
 * opened again, 50 ms later (a failed transaction is not run again). */
static void restart_loop(struct worker_arg *a)
{
	struct bench_session s;
	struct bench_sample sample;
	char why[256];
	bool open = false;
	double last = bench_now();
	while (!atomic_load(a->abort)) {
		if (!open && !(open = bench_open(a->t, &s, &sample, why, sizeof(why)))) {
			error(a, why);
			bench_close(&s, false);
			bench_sleep(0.05);
			continue;
		}
		double t0 = bench_now();
		if (!one_request(a, &s)) {
			error(a, why);
			bench_close(&s, false);
			open = false;
			continue;
		}
		double t1 = bench_now();
		record(a, t1 - t0);
		note_answer(a, &last, t1);
		bench_sleep(a->o->pause);
	}
	if (open)
		bench_close(&s, true);
}

/* large_once sends one statement of o->large_bytes whose result is as
 * large: the TLS output of the backend connection carrying it grows by the
 * statement, that of the client by the result. */
static void large_once(struct worker_arg *a)
{
	struct bench_session s;
	struct bench_sample sample;
	char why[256];
	size_t n = a->o->large_bytes;
	char *sql = malloc(n + 64);
	if (!sql)
		abort();
	int head = snprintf(sql, n + 64, "SELECT LENGTH('");
	memset(sql + head, 'x', n);
	snprintf(sql + head + n, 64, "'), REPEAT('y', %zu)", n);
	bool ok = bench_open(a->t, &s, &sample, why, sizeof(why)) && bench_query(&s, sql);
	if (!ok)
		error(a, why);
	bench_close(&s, ok);
	free(sql);
}

/* connection_task is one client connection's coroutine. */
static void connection_task(void *arg)
{
	struct worker_arg *a = arg;
	if (a->large)
		large_once(a);
	else if (a->o->scenario == LOAD_CONNECT)
		connect_loop(a);
	else if (a->o->scenario == LOAD_RESTART)
		restart_loop(a);
	else
		throughput_loop(a);
}

/* A client thread and the connections it runs. */
struct client_thread {
	pthread_t id;
	void **args;
	size_t n;
};

static void *client_thread_main(void *arg)
{
	struct client_thread *t = arg;
	bench_sched_run(connection_task, t->args, t->n);
	return NULL;
}

static void merge(struct target_result *r, struct worker_arg *a)
{
	if (r->n + a->n > r->cap) {
		r->cap = (r->n + a->n) * 2;
		r->latency = realloc(r->latency, r->cap * sizeof(*r->latency));
		if (!r->latency)
			abort();
	}
	if (a->n) /* none from a connection that only ran the large statement */
		memcpy(r->latency + r->n, a->latency, a->n * sizeof(*a->latency));
	r->n += a->n;
	if (a->errors && !r->errors)
		snprintf(r->first_error, sizeof(r->first_error), "%s", a->first_error);
	r->errors += a->errors;
	free(a->latency);
}

/* A load on one target: its connections and the threads running them. */
struct load_run {
	int n, nt;
	struct client_thread *threads;
	struct worker_arg *args;
	void **slots;
	_Atomic bool abort_flag;
	_Atomic uint64_t last_answer_ns;
	bool joined;
};

/* load_start deals the connections round-robin over the client threads and
 * starts them; they run until |deadline| or load_finish. */
static void load_start(struct load_run *run, const struct load_opts *o,
		       const struct bench_target *t, double deadline, int round, bool large)
{
	run->n = o->connections;
	run->nt = o->client_threads < run->n ? o->client_threads : run->n;
	run->threads = calloc((size_t)run->nt, sizeof(*run->threads));
	run->args = calloc((size_t)run->n, sizeof(*run->args));
	run->slots = calloc((size_t)run->n, sizeof(*run->slots));
	if (!run->threads || !run->args || !run->slots)
		abort();
	run->joined = false;
	atomic_store(&run->abort_flag, false);
	atomic_store(&run->last_answer_ns, 0);
	for (int i = 0; i < run->n; i++) {
		run->args[i] = (struct worker_arg){
			.o = o, .t = t, .deadline = deadline,
			.seed = (unsigned)(i * 7919 + round * 104729 + 1),
			.abort = &run->abort_flag, .last_answer_ns = &run->last_answer_ns,
			.large = large};
	}
	for (int k = 0, used = 0; k < run->nt; k++) {
		struct client_thread *ct = &run->threads[k];
		ct->args = run->slots + used;
		for (int i = k; i < run->n; i += run->nt)
			ct->args[ct->n++] = &run->args[i];
		used += (int)ct->n;
		pthread_create(&ct->id, NULL, client_thread_main, ct);
	}
}

/* load_join waits for the client threads to end by themselves. */
static void load_join(struct load_run *run)
{
	for (int k = 0; !run->joined && k < run->nt; k++)
		pthread_join(run->threads[k].id, NULL);
	run->joined = true;
}

/* load_finish stops the connections, waits for them and adds their
 * samples to |r|. */
static void load_finish(struct load_run *run, struct target_result *r)
{
	atomic_store(&run->abort_flag, true);
	load_join(run);
	for (int i = 0; i < run->n; i++) {
		if (run->args[i].stall_max > r->stall_max)
			r->stall_max = run->args[i].stall_max;
		merge(r, &run->args[i]);
	}
	free(run->threads);
	free(run->args);
	free(run->slots);
}

/* run_once runs every connection against one target for o->seconds. */
static void run_once(const struct load_opts *o, const struct load_target_spec *spec,
		     const struct bench_target *t, struct target_result *r, int round)
{
	struct load_run run;
	if (o->large_first && strcmp(o->large_first, spec->name) == 0) {
		/* All at once, so that they hold different pooled connections;
		 * outside the measured span. */
		load_start(&run, o, t, INFINITY, round, true);
		load_join(&run);
		load_finish(&run, r);
		bench_sleep(LARGE_SETTLE_S);
	}
	double cpu0 = spec->pid ? bench_process_cpu(spec->pid) : 0;
	struct bench_wakeups wake0 = {0};
	bool wake_known = spec->pid && bench_wakeups_read(&wake0, spec->pid);
	double t0 = bench_now();
	load_start(&run, o, t, t0 + o->seconds, round, false);
	load_join(&run);
	double elapsed = bench_now() - t0;
	r->seconds += elapsed;
	if (spec->pid) {
		r->cpu += bench_process_cpu(spec->pid) - cpu0;
		r->wakeups += wake_known ? bench_wakeups_since(&wake0, spec->pid) : NAN;
		double rss = bench_process_rss(spec->pid);
		if (rss > r->rss_max)
			r->rss_max = rss;
	}
	bench_wakeups_cleanup(&wake0);
	size_t before = r->n;
	load_finish(&run, r);
	fprintf(stderr, "warmpool-bench: round %d/%d %-22s %9.0f /s\n", round + 1, o->rounds,
		spec->name, (double)(r->n - before) / elapsed);
}

/* run_restarts keeps the load on one target while the restart commands run
 * in turn, o->interval apart, and times each recovery. */
static bool run_restarts(const struct load_opts *o, const struct load_target_spec *spec,
			 const struct bench_target *t, struct target_result *r)
{
	struct load_run run;
	double t0 = bench_now();
	bool ok = true;
	load_start(&run, o, t, INFINITY, 0, false);
	bench_sleep(o->interval);
	for (int i = 0; ok && i < o->restarts; i++) {
		const char *cmd = o->restart_cmds[(size_t)i % o->n_restart_cmds];
		double c0 = bench_now();
		ok = system(cmd) == 0;
		double c1 = bench_now();
		if (!ok) {
			snprintf(r->first_error, sizeof(r->first_error), "restart command failed: %s", cmd);
			r->errors++;
			break;
		}
		while (bench_now() < c1 + 60 && atomic_load(&run.last_answer_ns) < (uint64_t)(c1 * 1e9))
			bench_sleep(0.001);
		r->outage[i] = c1 - c0;
		r->recovery[i] = (double)atomic_load(&run.last_answer_ns) / 1e9 - c1;
		r->n_restarts = i + 1;
		fprintf(stderr, "warmpool-bench: %s: restart %d/%d took %.2f s, answered again %.0f ms "
				"after\n", spec->name, i + 1, o->restarts, r->outage[i],
			r->recovery[i] * 1e3);
		bench_sleep(o->interval);
	}
	load_finish(&run, r);
	r->seconds = bench_now() - t0;
	return ok;
}

static void print_results(const struct load_opts *o, struct target_result *res)
{
	const char *unit = o->scenario == LOAD_CONNECT ? "conns/s" : o->read_write ? "tps" : "qps";
	printf("\n%-22s %10s %9s %9s %9s %7s %12s %9s %11s\n", "target", unit, "p50_ms", "p95_ms",
	       "p99_ms", "errors", "cpu_us/op", "rss_MB", "wakeups/op");
	FILE *json = o->json_path ? fopen(o->json_path, "w") : NULL;
	if (json)
		fprintf(json, "{\n  \"scenario\": \"%s\",\n  \"mix\": \"%s\",\n"
			      "  \"connections\": %d,\n  \"client_threads\": %d,\n"
			      "  \"seconds\": %.1f,\n  \"rounds\": %d,\n  \"targets\": {",
			o->scenario == LOAD_CONNECT ? "connect" : "throughput",
			o->read_write ? "read-write" : "point", o->connections, o->client_threads,
			o->seconds, o->rounds);
	for (size_t i = 0; i < o->n_targets; i++) {
		struct target_result *r = &res[i];
		double rate = r->seconds > 0 ? (double)r->n / r->seconds : 0;
		double p50 = bench_quantile(r->latency, r->n, 0.5) * 1e3;
		double p95 = bench_quantile(r->latency, r->n, 0.95) * 1e3;
		double p99 = bench_quantile(r->latency, r->n, 0.99) * 1e3;
		double cpu = o->targets[i].pid && r->n ? r->cpu / (double)r->n * 1e6 : NAN;
		double rss = o->targets[i].pid ? r->rss_max / 1048576 : NAN;
		double wakeups = o->targets[i].pid && r->n ? r->wakeups / (double)r->n : NAN;
		printf("%-22s %10.0f %9.3f %9.3f %9.3f %7zu %12.1f %9.1f %11.2f\n", o->targets[i].name,
		       rate, p50, p95, p99, r->errors, cpu, rss, wakeups);
		if (r->errors)
			printf("  first error: %s\n", r->first_error);
		char cpu_s[32], rss_s[32], wake_s[32];
		if (json)
			fprintf(json,
				"%s\n    \"%s\": {\"rate\": %.1f, \"ops\": %zu, \"errors\": %zu, "
				"\"p50_ms\": %.4f, \"p95_ms\": %.4f, \"p99_ms\": %.4f, "
				"\"cpu_us_per_op\": %s, \"rss_mb\": %s, \"wakeups_per_op\": %s, "
				"\"cdf_ms\": [",
				i ? "," : "", o->targets[i].name, rate, r->n, r->errors, p50, p95, p99,
				bench_json_number(cpu, cpu_s, sizeof(cpu_s)),
				bench_json_number(rss, rss_s, sizeof(rss_s)),
				bench_json_number(wakeups, wake_s, sizeof(wake_s)));
		/* The latency CDF in 1% steps (r->latency is sorted by now). */
		for (int q = 1; json && q <= 100; q++)
			fprintf(json, "%s%.4f", q > 1 ? ", " : "",
				r->n ? r->latency[(size_t)((double)(r->n - 1) * q / 100.0)] * 1e3 : 0);
		if (json)
			fprintf(json, "]}");
	}
	printf("\ncpu_us/op, rss_MB and wakeups/op (voluntary context switches of all its\n"
	       "threads) are those of the process named with --pid for the target (the\n"
	       "proxy, or mariadbd for a direct target), over the measured spans.\n");
	if (json) {
		fprintf(json, "\n  }\n}\n");
		fclose(json);
	}
}

/* run_idle opens o->threads connections to one target from this thread,
 * logs each in, and reads the measured process's RSS before and after. */
static void run_idle(const struct load_opts *o, const struct load_target_spec *spec,
		     const struct bench_target *t, struct target_result *r)
{
	size_t n = (size_t)o->connections;
	struct bench_session *s = calloc(n, sizeof(*s));
	double rss0 = spec->pid ? bench_process_rss(spec->pid) : NAN;
	double t0 = bench_now();
	size_t open = 0;
	char why[256];
	for (; open < n; open++) {
		struct bench_sample sample;
		if (!bench_open(t, &s[open], &sample, why, sizeof(why))) {
			snprintf(r->first_error, sizeof(r->first_error), "%s", why);
			r->errors++;
			bench_close(&s[open], false);
			break;
		}
		if (open % 1000 == 999)
			fprintf(stderr, "\rwarmpool-bench: %s: %zu idle connections", spec->name, open + 1);
	}
	double opened = bench_now() - t0;
	struct timespec settle = {.tv_sec = 2};
	nanosleep(&settle, NULL); /* let the target finish its own work */
	double rss1 = spec->pid ? bench_process_rss(spec->pid) : NAN;
	fprintf(stderr, "\rwarmpool-bench: %s: %zu idle connections in %.1f s\n", spec->name, open,
		opened);
	r->n = open;
	r->seconds = opened;
	r->rss_max = rss1;
	/* Bytes per connection; when the RSS did not grow (the allocator reused
	 * what an earlier run freed), the figure says nothing: none. */
	r->cpu = open && rss1 > rss0 ? (rss1 - rss0) / (double)open : NAN;
	for (size_t i = 0; i < open; i++)
		bench_close(&s[i], true);
	free(s);
}

static void print_idle(const struct load_opts *o, struct target_result *res)
{
	printf("\n%-22s %12s %10s %16s\n", "target", "connections", "rss_MB", "bytes_per_conn");
	FILE *json = o->json_path ? fopen(o->json_path, "w") : NULL;
	if (json)
		fprintf(json, "{\n  \"scenario\": \"idle\",\n  \"connections\": %d,\n  \"targets\": {",
			o->connections);
	for (size_t i = 0; i < o->n_targets; i++) {
		struct target_result *r = &res[i];
		char a[32], b[32];
		printf("%-22s %12zu %10.1f %16.0f\n", o->targets[i].name, r->n, r->rss_max / 1048576,
		       r->cpu);
		if (r->errors)
			printf("  first error: %s\n", r->first_error);
		if (json)
			fprintf(json, "%s\n    \"%s\": {\"connections\": %zu, \"rss_mb\": %s, "
				      "\"bytes_per_connection\": %s}",
				i ? "," : "", o->targets[i].name, r->n,
				bench_json_number(r->rss_max / 1048576, a, sizeof(a)),
				bench_json_number(r->cpu, b, sizeof(b)));
	}
	printf("\nrss_MB: the process named with --pid, with every connection open;\n"
	       "bytes_per_conn: its RSS growth over the connections opened.\n");
	if (json) {
		fprintf(json, "\n  }\n}\n");
		fclose(json);
	}
}

static double max_of(const double *v, int n)
{
	double m = 0;
	for (int i = 0; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

static void print_restarts(const struct load_opts *o, struct target_result *res)
{
	printf("\n%-22s %9s %8s %10s %9s %13s %13s\n", "target", "answered", "errors",
	       "stall_max_s", "p99_ms", "recovery_ms", "outage_s");
	FILE *json = o->json_path ? fopen(o->json_path, "w") : NULL;
	if (json)
		fprintf(json, "{\n  \"scenario\": \"restart\",\n  \"mix\": \"%s\",\n"
			      "  \"connections\": %d,\n  \"restarts\": %d,\n  \"pause_ms\": %.0f,\n"
			      "  \"targets\": {",
			o->read_write ? "read-write" : "point", o->connections, o->restarts,
			o->pause * 1e3);
	for (size_t i = 0; i < o->n_targets; i++) {
		struct target_result *r = &res[i];
		double p99 = bench_quantile(r->latency, r->n, 0.99) * 1e3;
		double recovery[LOAD_MAX_RESTARTS];
		memcpy(recovery, r->recovery, sizeof(recovery));
		double rec_p50 = bench_quantile(recovery, (size_t)r->n_restarts, 0.5) * 1e3;
		double rec_max = max_of(r->recovery, r->n_restarts) * 1e3;
		char rec[32];
		snprintf(rec, sizeof(rec), "%.0f/%.0f", rec_p50, rec_max);
		printf("%-22s %9zu %8zu %10.2f %9.3f %13s %13.2f\n", o->targets[i].name, r->n,
		       r->errors, r->stall_max, p99, rec, max_of(r->outage, r->n_restarts));
		if (r->errors)
			printf("  first error: %s\n", r->first_error);
		if (!json)
			continue;
		fprintf(json, "%s\n    \"%s\": {\"answered\": %zu, \"errors\": %zu, "
			      "\"stall_max_s\": %.3f, \"p99_ms\": %.3f, \"recovery_ms\": [",
			i ? "," : "", o->targets[i].name, r->n, r->errors, r->stall_max, p99);
		for (int k = 0; k < r->n_restarts; k++)
			fprintf(json, "%s%.1f", k ? ", " : "", r->recovery[k] * 1e3);
		fprintf(json, "], \"outage_s\": [");
		for (int k = 0; k < r->n_restarts; k++)
			fprintf(json, "%s%.3f", k ? ", " : "", r->outage[k]);
		fprintf(json, "]}");
	}
	printf("\nanswered: queries, or transactions with --mix read-write;\n"
	       "errors: failed queries (transactions) and logins (each is a reconnect for the\n"
	       "application);\n"
	       "stall_max_s: the longest any connection went between two answers;\n"
	       "recovery_ms: median/max, restart command done -> first answer after it;\n"
	       "outage_s: the longest restart command.\n");
	if (json) {
		fprintf(json, "\n  }\n}\n");
		fclose(json);
	}
}

int bench_load(const struct load_opts *o)
{
	struct cfg_backend b = {
		.name = "bench", .ssl_mode = o->ssl_ca ? CFG_SSL_VERIFY_CA : CFG_SSL_REQUIRED,
		.ssl_ca = (char *)o->ssl_ca, .tls_max_version = CFG_TLS_1_3,
	};
	char why[512];
	SSL_CTX *ctx = tls_ctx_new_backend(&b, why, sizeof(why));
	if (!ctx) {
		fprintf(stderr, "warmpool-bench: %s\n", why);
		return 1;
	}
	struct bench_target targets[LOAD_MAX_TARGETS];
	struct target_result *res = calloc(o->n_targets, sizeof(*res));
	for (size_t i = 0; i < o->n_targets; i++) {
		const struct load_target_spec *s = &o->targets[i];
		/* No session cache: a PHP-style client does a full handshake each time. */
		targets[i] = (struct bench_target){s->host, s->port, o->user, o->password,
						   s->tls ? o->server_name : NULL, s->tls, ctx, NULL};
		struct bench_sample sample;
		if (!bench_connect(&targets[i], &sample, why, sizeof(why))) {
			fprintf(stderr, "warmpool-bench: target %s: %s\n", s->name, why);
			return 1;
		}
	}
	bool clean = true;
	if (o->scenario == LOAD_IDLE) {
		for (size_t i = 0; i < o->n_targets; i++)
			run_idle(o, &o->targets[i], &targets[i], &res[i]);
		print_idle(o, res);
	} else if (o->scenario == LOAD_RESTART) {
		/* Errors are what this measures; only a failed restart fails the run. */
		for (size_t i = 0; i < o->n_targets && clean; i++)
			clean = run_restarts(o, &o->targets[i], &targets[i], &res[i]);
		print_restarts(o, res);
	} else {
		for (int round = 0; round < o->rounds; round++) {
			/* Alternating targets round by round cancels slow drift. */
			for (size_t i = 0; i < o->n_targets; i++)
				run_once(o, &o->targets[i], &targets[i], &res[i], round);
		}
		print_results(o, res);
	}
	for (size_t i = 0; i < o->n_targets; i++) {
		clean = clean && (res[i].errors == 0 || o->scenario == LOAD_RESTART);
		free(res[i].latency);
	}
	free(res);
	SSL_CTX_free(ctx);
	return clean ? 0 : 1;
}
