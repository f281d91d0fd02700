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

/* What one target accumulates over its rounds. */
struct target_result {
	double *latency; /* seconds per request (connect) or per query (throughput) */
	size_t n, cap;
	size_t errors;
	double seconds;	  /* measured wall time, summed over rounds */
	double cpu;	  /* the measured process's CPU over those spans */
	double rss_max;	  /* bytes */
	char first_error[256];
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

/* throughput_loop: one connection, point selects back to back. */
static void throughput_loop(struct worker_arg *a)
{
	struct bench_session s;
	struct bench_sample sample;
	char why[256], sql[160];
	if (!bench_open(a->t, &s, &sample, why, sizeof(why))) {
		error(a, why);
		bench_close(&s, false);
		return;
	}
	while (bench_now() < a->deadline && !atomic_load(a->abort)) {
		int id = 1 + (int)(rand_r(&a->seed) % (unsigned)a->o->table_size);
		snprintf(sql, sizeof(sql), "SELECT c FROM %s WHERE id=%d", a->o->table, id);
		double t0 = bench_now();
		if (!bench_query(&s, sql)) {
			error(a, why);
			break;
		}
		record(a, bench_now() - t0);
	}
	bench_close(&s, true);
}

/* connection_task is one client connection's coroutine. */
static void connection_task(void *arg)
{
	struct worker_arg *a = arg;
	if (a->o->scenario == LOAD_CONNECT)
		connect_loop(a);
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
	memcpy(r->latency + r->n, a->latency, a->n * sizeof(*a->latency));
	r->n += a->n;
	if (a->errors && !r->errors)
		snprintf(r->first_error, sizeof(r->first_error), "%s", a->first_error);
	r->errors += a->errors;
	free(a->latency);
}

/* run_once runs every connection against one target for o->seconds, the
 * connections dealt round-robin over the client threads. */
static void run_once(const struct load_opts *o, const struct load_target_spec *spec,
		     const struct bench_target *t, struct target_result *r, int round)
{
	int n = o->connections;
	int nt = o->client_threads < n ? o->client_threads : n;
	struct client_thread *threads = calloc((size_t)nt, sizeof(*threads));
	struct worker_arg *args = calloc((size_t)n, sizeof(*args));
	void **slots = calloc((size_t)n, sizeof(*slots));
	if (!threads || !args || !slots)
		abort();
	_Atomic bool abort_flag = false;
	double cpu0 = spec->pid ? bench_process_cpu(spec->pid) : 0;
	double t0 = bench_now();
	for (int i = 0; i < n; i++) {
		args[i] = (struct worker_arg){.o = o, .t = t, .deadline = t0 + o->seconds,
					      .seed = (unsigned)(i * 7919 + round * 104729 + 1),
					      .abort = &abort_flag};
	}
	for (int k = 0, used = 0; k < nt; k++) {
		threads[k].args = slots + used;
		for (int i = k; i < n; i += nt)
			slots[used + (int)threads[k].n++] = &args[i];
		used += (int)threads[k].n;
		pthread_create(&threads[k].id, NULL, client_thread_main, &threads[k]);
	}
	for (int k = 0; k < nt; k++)
		pthread_join(threads[k].id, NULL);
	double elapsed = bench_now() - t0;
	r->seconds += elapsed;
	if (spec->pid) {
		r->cpu += bench_process_cpu(spec->pid) - cpu0;
		double rss = bench_process_rss(spec->pid);
		if (rss > r->rss_max)
			r->rss_max = rss;
	}
	size_t before = r->n;
	for (int i = 0; i < n; i++)
		merge(r, &args[i]);
	fprintf(stderr, "warmpool-bench: round %d/%d %-22s %9.0f /s\n", round + 1, o->rounds,
		spec->name, (double)(r->n - before) / elapsed);
	free(threads);
	free(args);
	free(slots);
}

static void print_results(const struct load_opts *o, struct target_result *res)
{
	const char *unit = o->scenario == LOAD_CONNECT ? "conns/s" : "qps";
	printf("\n%-22s %10s %9s %9s %9s %7s %12s %9s\n", "target", unit, "p50_ms", "p95_ms",
	       "p99_ms", "errors", "cpu_us/op", "rss_MB");
	FILE *json = o->json_path ? fopen(o->json_path, "w") : NULL;
	if (json)
		fprintf(json, "{\n  \"scenario\": \"%s\",\n  \"connections\": %d,\n"
			      "  \"client_threads\": %d,\n  \"seconds\": %.1f,\n"
			      "  \"rounds\": %d,\n  \"targets\": {",
			o->scenario == LOAD_CONNECT ? "connect" : "throughput", o->connections,
			o->client_threads, o->seconds, o->rounds);
	for (size_t i = 0; i < o->n_targets; i++) {
		struct target_result *r = &res[i];
		double rate = r->seconds > 0 ? (double)r->n / r->seconds : 0;
		double p50 = bench_quantile(r->latency, r->n, 0.5) * 1e3;
		double p95 = bench_quantile(r->latency, r->n, 0.95) * 1e3;
		double p99 = bench_quantile(r->latency, r->n, 0.99) * 1e3;
		double cpu = o->targets[i].pid && r->n ? r->cpu / (double)r->n * 1e6 : NAN;
		double rss = o->targets[i].pid ? r->rss_max / 1048576 : NAN;
		printf("%-22s %10.0f %9.3f %9.3f %9.3f %7zu %12.1f %9.1f\n", o->targets[i].name, rate,
		       p50, p95, p99, r->errors, cpu, rss);
		if (r->errors)
			printf("  first error: %s\n", r->first_error);
		char cpu_s[32], rss_s[32];
		if (json)
			fprintf(json,
				"%s\n    \"%s\": {\"rate\": %.1f, \"ops\": %zu, \"errors\": %zu, "
				"\"p50_ms\": %.4f, \"p95_ms\": %.4f, \"p99_ms\": %.4f, "
				"\"cpu_us_per_op\": %s, \"rss_mb\": %s, \"cdf_ms\": [",
				i ? "," : "", o->targets[i].name, rate, r->n, r->errors, p50, p95, p99,
				bench_json_number(cpu, cpu_s, sizeof(cpu_s)),
				bench_json_number(rss, rss_s, sizeof(rss_s)));
		/* The latency CDF in 1% steps (r->latency is sorted by now). */
		for (int q = 1; json && q <= 100; q++)
			fprintf(json, "%s%.4f", q > 1 ? ", " : "",
				r->n ? r->latency[(size_t)((double)(r->n - 1) * q / 100.0)] * 1e3 : 0);
		if (json)
			fprintf(json, "]}");
	}
	printf("\ncpu_us/op and rss_MB are those of the process named with --pid for the target\n"
	       "(the proxy, or mariadbd for a direct target), over the measured spans.\n");
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
	r->cpu = open ? (rss1 - rss0) / (double)open : NAN; /* bytes per connection */
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
	if (o->scenario == LOAD_IDLE) {
		for (size_t i = 0; i < o->n_targets; i++)
			run_idle(o, &o->targets[i], &targets[i], &res[i]);
		print_idle(o, res);
	}
	for (int round = 0; round < o->rounds && o->scenario != LOAD_IDLE; round++) {
		/* Alternating targets round by round cancels slow drift. */
		for (size_t i = 0; i < o->n_targets; i++)
			run_once(o, &o->targets[i], &targets[i], &res[i], round);
	}
	if (o->scenario != LOAD_IDLE)
		print_results(o, res);
	bool clean = true;
	for (size_t i = 0; i < o->n_targets; i++) {
		clean = clean && res[i].errors == 0;
		free(res[i].latency);
	}
	free(res);
	SSL_CTX_free(ctx);
	return clean ? 0 : 1;
}
