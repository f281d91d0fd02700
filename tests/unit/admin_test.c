/* admin_test: liveness, readiness, health merging and the Prometheus text, over made-up worker statistics. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "admin.h"
#include "worker.h"

static const char *CONFIG = "[listener main]\nport = 7000\n"
			    "[backend db]\nmin_idle = 2\n"
			    "[user app]\npassword = x\n";

static struct runtime rt;
static struct worker workers[2];

static void setup(void)
{
	char err[256];
	memset(&rt, 0, sizeof(rt));
	cr_assert(cfg_load_string("t.ini", CONFIG, &rt.cfg, err, sizeof(err)), "%s", err);
	rt.n_workers = 2;
	rt.workers = workers;
	rt.started_ms = worker_clock_ms();
	for (int i = 0; i < 2; i++) {
		struct worker *w = &workers[i];
		memset(w, 0, sizeof(*w));
		stats_init(&w->published.stats, 1, 1);
		pthread_mutex_init(&w->published.lock, NULL);
		w->published.stats.listeners[0].workers_listening = 1;
		atomic_store(&w->heartbeat_ms, worker_clock_ms());
	}
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++)
		stats_cleanup(&workers[i].published.stats);
	cfg_free(&rt.cfg);
}

static struct stats_backend *backend_of(int worker)
{
	return &workers[worker].published.stats.backends[0];
}

/* render calls one renderer on a fresh snapshot; the caller frees. */
static char *render(char *(*fn)(const struct admin_snapshot *, bool *), bool *verdict)
{
	struct admin_snapshot snap;
	admin_snapshot_take(&snap, &rt);
	char *body = fn(&snap, verdict);
	admin_snapshot_free(&snap);
	return body;
}

static char *render_metrics(void)
{
	struct admin_snapshot snap;
	admin_snapshot_take(&snap, &rt);
	char *body = admin_render_metrics(&snap);
	admin_snapshot_free(&snap);
	return body;
}

TestSuite(admin, .init = setup, .fini = teardown);

Test(admin, a_worker_whose_loop_stopped_fails_healthz)
{
	bool ok;
	char *body = render(admin_render_health, &ok);
	cr_expect(ok, "%s", body);
	free(body);
	atomic_store(&workers[1].heartbeat_ms, worker_clock_ms() - ADMIN_WORKER_STALL_MS - 500);
	body = render(admin_render_health, &ok);
	cr_expect_not(ok);
	json_t *doc = json_loads(body, 0, NULL);
	cr_assert_not_null(doc, "%s", body);
	cr_expect_str_eq(json_string_value(json_object_get(doc, "status")), "fail");
	json_t *w1 = json_array_get(json_object_get(doc, "workers"), 1);
	cr_expect(json_is_true(json_object_get(w1, "stuck")));
	json_decref(doc);
	free(body);
}

Test(admin, not_ready_until_connected_then_ready)
{
	bool ready;
	char *body = render(admin_render_ready, &ready);
	cr_expect_not(ready); /* min_idle = 2 and nothing tried yet */
	cr_expect(strstr(body, "backend db: not connected yet"), "%s", body);
	free(body);
	stats_backend_set_health(backend_of(0), BACKEND_UP, NULL, 100);
	body = render(admin_render_ready, &ready);
	cr_expect(ready, "%s", body);
	free(body);
}

Test(admin, the_latest_outcome_wins_unless_a_worker_has_live_connections)
{
	bool ready;
	/* Worker 1 logged in long ago and holds nothing; worker 0 just failed. */
	stats_backend_set_health(backend_of(1), BACKEND_UP, NULL, 100);
	stats_backend_set_health(backend_of(0), BACKEND_DOWN, "Connection refused", 200);
	char *body = render(admin_render_ready, &ready);
	cr_expect_not(ready);
	cr_expect(strstr(body, "backend db is down: Connection refused"), "%s", body);
	free(body);
	/* A probe keeps the reason of the failure before it. */
	stats_backend_set_health(backend_of(0), BACKEND_PROBING, NULL, 300);
	body = render(admin_render_ready, &ready);
	cr_expect(strstr(body, "Connection refused"), "%s", body);
	free(body);
	/* Live connections on worker 1 outweigh a failed connect elsewhere. */
	backend_of(1)->conns[POOL_CONN_IDLE] = 3;
	body = render(admin_render_ready, &ready);
	cr_expect(ready, "%s", body);
	free(body);
	cr_expect_eq(backend_of(0)->transitions_total, 1, "probing is part of being down");
}

Test(admin, draining_and_closed_listeners_are_not_ready)
{
	bool ready;
	stats_backend_set_health(backend_of(0), BACKEND_UP, NULL, 100);
	backend_of(0)->conns[POOL_CONN_IDLE] = 1;
	workers[0].published.stats.listeners[0].workers_listening = 0;
	atomic_store(&rt.draining, true);
	char *body = render(admin_render_ready, &ready);
	cr_expect_not(ready);
	cr_expect(strstr(body, "draining: SIGTERM received"), "%s", body);
	cr_expect(strstr(body, "listener main is not accepting"), "%s", body);
	free(body);
}

Test(admin, the_brief_readiness_gives_the_verdict_without_reasons)
{
	bool ready;
	stats_backend_set_health(backend_of(0), BACKEND_DOWN, "Access denied for user", 200);
	char *body = render(admin_render_ready_brief, &ready);
	cr_expect_not(ready);
	cr_expect(strstr(body, "\"not ready\""), "%s", body);
	cr_expect_null(strstr(body, "Access denied"), "%s", body);
	cr_expect_null(strstr(body, "reasons"), "%s", body);
	free(body);
	stats_backend_set_health(backend_of(0), BACKEND_UP, NULL, 300);
	body = render(admin_render_ready_brief, &ready);
	cr_expect(ready, "%s", body);
	free(body);
}

Test(admin, metrics_sum_workers_and_write_cumulative_histograms)
{
	workers[0].published.stats.queries_total = 4;
	backend_of(0)->queries_total = 4;
	backend_of(1)->queries_total = 3;
	workers[1].published.stats.errors_total[STATS_ERR_CLIENT_AUTH] = 2;
	metric_hist_observe(&workers[0].published.stats.wait_seconds, 0.0002);
	metric_hist_observe(&workers[1].published.stats.wait_seconds, 0.003);
	char *text = render_metrics();
	cr_expect(strstr(text, "\nwarmpool_queries_total{backend=\"db\"} 7\n"), "%s", text);
	cr_expect(strstr(text, "\nwarmpool_errors_total{kind=\"client_auth\"} 2\n"));
	cr_expect(strstr(text, "\nwarmpool_wait_seconds_bucket{le=\"0.0001\"} 0\n"));
	cr_expect(strstr(text, "\nwarmpool_wait_seconds_bucket{le=\"0.00025\"} 1\n"));
	cr_expect(strstr(text, "\nwarmpool_wait_seconds_bucket{le=\"0.003\"} 2\n"));
	cr_expect(strstr(text, "\nwarmpool_wait_seconds_bucket{le=\"+Inf\"} 2\n"));
	cr_expect(strstr(text, "\nwarmpool_wait_seconds_count 2\n"));
	cr_expect(strstr(text, "# TYPE warmpool_wait_seconds histogram\n"));
	cr_expect(strstr(text, "\nwarmpool_listener_up{listener=\"main\"} 1\n"));
	free(text);
}

Test(admin, status_is_json_with_every_section)
{
	stats_backend_set_health(backend_of(0), BACKEND_DOWN, "server does not offer TLS", 50);
	backend_of(0)->waiting = 1;		  /* a client waits on worker 0 */
	backend_of(1)->conns[POOL_CONN_IDLE] = 1; /* while worker 1 holds an idle one */
	struct admin_snapshot snap;
	admin_snapshot_take(&snap, &rt);
	char *body = admin_render_status(&snap);
	admin_snapshot_free(&snap);
	json_error_t error;
	json_t *doc = json_loads(body, 0, &error);
	cr_assert_not_null(doc, "%s: %s", error.text, body);
	json_t *backend = json_array_get(json_object_get(doc, "backends"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(backend, "health")), "down");
	cr_expect_str_eq(json_string_value(json_object_get(backend, "health_reason")),
			 "server does not offer TLS");
	cr_expect(json_is_null(json_object_get(backend, "tls")), "no connection yet");
	cr_expect(json_is_false(json_object_get(doc, "ready")));
	cr_expect_eq(json_array_size(json_object_get(doc, "workers")), 2);
	json_t *w0 = json_object_get(json_object_get(json_array_get(json_object_get(doc, "workers"), 0),
						     "backends"), "db");
	json_t *w1 = json_object_get(json_object_get(json_array_get(json_object_get(doc, "workers"), 1),
						     "backends"), "db");
	cr_assert(json_is_object(w0) && json_is_object(w1), "%s", body);
	cr_expect_eq(json_integer_value(json_object_get(w0, "waiting")), 1);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(w1, "connections"), "idle")), 1);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(w0, "connections"), "idle")), 0);
	cr_expect(json_is_object(json_object_get(doc, "pins")));
	cr_expect(json_is_object(json_object_get(doc, "errors")));
	json_decref(doc);
	free(body);
}
