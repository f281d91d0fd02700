/* bench_handshake: full vs resumed TLS handshakes (and plaintext) against one backend, side by side. */
#include "bench_handshake.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_conn.h"
#include "bench_util.h"
#include "cfg.h"
#include "tls_ctx.h"

enum mode {
	MODE_PLAIN = 0,	  /* no TLS: the baseline of a connection and login */
	MODE_FULL = 1,	  /* TLS, never resuming */
	MODE_RESUMED = 2, /* TLS, offering the freshest cached session */
	MODE_COUNT = 3,
};
static const char *const mode_names[MODE_COUNT] = {"plain", "full", "resumed"};

struct mode_result {
	double *handshake;  /* seconds, one per connection */
	double *connect;
	size_t n;
	size_t resumed;
	double client_cpu;  /* summed over handshakes */
	double backend_cpu; /* summed over the mode's connections */
	size_t errors;
};

/* The session stash reads the time as tickets arrive. */
static uint64_t bench_clock_ms(void)
{
	return (uint64_t)(bench_now() * 1000);
}

static bool run_batch(struct bench_target *t, enum mode m, size_t count, int backend_pid,
		      struct mode_result *r)
{
	double cpu0 = backend_pid ? bench_process_cpu(backend_pid) : 0;
	for (size_t i = 0; i < count; i++) {
		struct bench_sample s;
		char why[256];
		if (!bench_connect(t, &s, why, sizeof(why))) {
			if (r->errors++ == 0)
				fprintf(stderr, "warmpool-bench: %s connection failed: %s\n",
					mode_names[m], why);
			continue;
		}
		r->handshake[r->n] = s.handshake_seconds;
		r->connect[r->n] = s.connect_seconds;
		r->n++;
		r->resumed += s.resumed;
		r->client_cpu += s.handshake_cpu;
	}
	if (backend_pid)
		r->backend_cpu += bench_process_cpu(backend_pid) - cpu0;
	return r->errors == 0;
}

static void print_results(const struct handshake_opts *o, struct mode_result *res, FILE *json)
{
	printf("\n%-8s %6s %8s %10s %10s %14s %17s %15s\n", "mode", "conns", "resumed",
	       "hs_p50_ms", "hs_p99_ms", "client_cpu_us", "backend_cpu_us", "connect_p50_ms");
	if (json)
		fprintf(json, "{\n  \"scenario\": \"handshake\",\n  \"target\": \"%s:%d\",\n"
			      "  \"count\": %zu,\n  \"rounds\": %d,\n  \"tls_max_version\": \"%s\",\n"
			      "  \"modes\": {",
			o->host, o->port, o->count, o->rounds, o->tls12 ? "1.2" : "1.3");
	char num[32];
	for (int m = 0; m < MODE_COUNT; m++) {
		struct mode_result *r = &res[m];
		double p50 = bench_quantile(r->handshake, r->n, 0.5) * 1e3;
		double p99 = bench_quantile(r->handshake, r->n, 0.99) * 1e3;
		double cp50 = bench_quantile(r->connect, r->n, 0.5) * 1e3;
		double ccpu = r->n ? r->client_cpu / (double)r->n * 1e6 : 0;
		double bcpu = o->backend_pid && r->n ? r->backend_cpu / (double)r->n * 1e6 : NAN;
		printf("%-8s %6zu %7.1f%% %10.3f %10.3f %14.1f %17.1f %15.3f\n", mode_names[m], r->n,
		       r->n ? 100.0 * (double)r->resumed / (double)r->n : 0, p50, p99, ccpu, bcpu, cp50);
		if (json)
			fprintf(json,
				"%s\n    \"%s\": {\"connections\": %zu, \"errors\": %zu, "
				"\"resumed_fraction\": %.4f, \"handshake_p50_ms\": %.4f, "
				"\"handshake_p99_ms\": %.4f, \"client_cpu_us_per_handshake\": %.2f, "
				"\"backend_cpu_us_per_connection\": %s, \"connect_p50_ms\": %.4f}",
				m ? "," : "", mode_names[m], r->n, r->errors,
				r->n ? (double)r->resumed / (double)r->n : 0, p50, p99, ccpu,
				bench_json_number(bcpu, num, sizeof(num)), cp50);
	}
	printf("\nbackend_cpu_us is per connection (TCP, TLS, login, quit); the TLS share is the\n"
	       "difference to 'plain'. client_cpu_us covers the TLS handshake only.\n");
	if (json)
		fprintf(json, "\n  }\n}\n");
}

int bench_handshake(const struct handshake_opts *o)
{
	struct cfg_backend b = {
		.name = "bench", .host = (char *)o->host, .port = o->port,
		.ssl_mode = o->ssl_ca ? CFG_SSL_VERIFY_CA : CFG_SSL_REQUIRED,
		.ssl_ca = (char *)o->ssl_ca, .tls_resumption = true,
		.tls_max_version = o->tls12 ? CFG_TLS_1_2 : CFG_TLS_1_3,
	};
	char why[512];
	SSL_CTX *ctx = tls_ctx_new_backend(&b, why, sizeof(why));
	if (!ctx) {
		fprintf(stderr, "warmpool-bench: %s\n", why);
		return 1;
	}
	struct tls_cache cache;
	tls_cache_init(&cache, true, 0, bench_clock_ms);
	struct bench_target targets[MODE_COUNT] = {
		{o->host, o->port, o->user, o->password, NULL, false, ctx, NULL},
		{o->host, o->port, o->user, o->password, o->server_name, true, ctx, NULL},
		{o->host, o->port, o->user, o->password, o->server_name, true, ctx, &cache},
	};
	struct mode_result res[MODE_COUNT] = {0};
	for (int m = 0; m < MODE_COUNT; m++) {
		res[m].handshake = calloc(o->count, sizeof(double));
		res[m].connect = calloc(o->count, sizeof(double));
	}
	/* Warm-up (not counted): fills the session cache and the server's caches. */
	struct bench_sample s;
	for (int i = 0; i < 20; i++) {
		if (!bench_connect(&targets[MODE_RESUMED], &s, why, sizeof(why))) {
			fprintf(stderr, "warmpool-bench: warm-up failed: %s\n", why);
			return 1;
		}
	}
	size_t per_round = o->count / (size_t)o->rounds;
	bool ok = true;
	for (int round = 0; round < o->rounds && ok; round++) {
		/* Alternating modes round by round cancels slow drift. */
		for (int m = 0; m < MODE_COUNT && ok; m++) {
				ok = run_batch(&targets[m], (enum mode)m, per_round, o->backend_pid, &res[m]);
		}
		fprintf(stderr, "\rwarmpool-bench: round %d/%d", round + 1, o->rounds);
	}
	fprintf(stderr, "\n");
	FILE *json = o->json_path ? fopen(o->json_path, "w") : NULL;
	print_results(o, res, json);
	if (json)
		fclose(json);
	for (int m = 0; m < MODE_COUNT; m++) {
		free(res[m].handshake);
		free(res[m].connect);
	}
	tls_cache_cleanup(&cache);
	SSL_CTX_free(ctx);
	return ok ? 0 : 1;
}
