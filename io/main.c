/* main: command line, config and TLS contexts, worker threads, signals. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "cfg.h"
#include "log.h"
#include "reload.h"
#include "tls_ctx.h"
#include "worker.h"

static void usage(FILE *out)
{
	fputs("Usage: warmpool --config FILE [--check-config]\n"
	      "       warmpool --example-config | --help | --version\n"
	      "\n"
	      "A multi-threaded TLS connection pooler for MySQL.\n"
	      "\n"
	      "  -c, --config FILE     configuration file (INI); see --example-config\n"
	      "      --check-config    load and validate the configuration, then exit\n"
	      "                        (0 when valid, 1 with the error otherwise)\n"
	      "      --example-config  print a documented configuration with every key\n"
	      "  -h, --help            this help\n"
	      "  -V, --version         print the version\n"
	      "\n"
	      "Signals: SIGHUP reloads the configuration; SIGTERM drains (stops accepting,\n"
	      "lets open transactions finish within drain_timeout_ms) and exits; SIGINT or a\n"
	      "second SIGTERM closes every connection at once.\n",
	      out);
}

/* raise_nofile lifts the soft descriptor limit to the hard one: every
 * client and backend connection is a descriptor. Below max_clients, clients
 * past the limit are refused with ERR 1040 (see listener.c). */
static void raise_nofile(const struct cfg *cfg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)cfg->max_clients + 256)
		log_warn("descriptor limit below max_clients",
			 "nofile=%llu max_clients=%d hint=\"clients beyond the limit get ERR 1040\"",
			 (unsigned long long)rl.rlim_cur, cfg->max_clients);
}

static void log_tls_summary(const char *kind, const char *name, const struct metric_tls *m)
{
	if (m->full + m->resumed + m->failed == 0)
		return;
	log_info("tls handshake summary",
		 "%s=%s full=%llu resumed=%llu offered=%llu refused=%llu failed=%llu "
		 "full_p50_ms=%.3f full_p99_ms=%.3f resumed_p50_ms=%.3f resumed_p99_ms=%.3f",
		 kind, name, (unsigned long long)m->full, (unsigned long long)m->resumed,
		 (unsigned long long)m->offered, (unsigned long long)m->refused,
		 (unsigned long long)m->failed, metric_hist_quantile(&m->full_seconds, 0.5) * 1000,
		 metric_hist_quantile(&m->full_seconds, 0.99) * 1000,
		 metric_hist_quantile(&m->resumed_seconds, 0.5) * 1000,
		 metric_hist_quantile(&m->resumed_seconds, 0.99) * 1000);
}

/* log_summaries: handshakes per backend and listener, pins by reason, over
 * all workers, as a last word at exit. */
static void log_summaries(const struct runtime *rt, const struct worker_stats *total)
{
	for (size_t b = 0; b < rt->cfg.n_backends; b++)
		log_tls_summary("backend", rt->cfg.backends[b].name, &total->backends[b].tls);
	for (size_t l = 0; l < rt->cfg.n_listeners; l++)
		log_tls_summary("listener", rt->cfg.listeners[l].name, &total->listeners[l].tls);
	char line[512];
	int n = 0;
	uint64_t pinned = 0;
	for (int r = 1; r < MY_PIN_REASON_COUNT; r++) {
		pinned += total->pins_total[r];
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s=%llu", r > 1 ? " " : "",
			      my_pin_reason_str((enum my_pin_reason)r),
			      (unsigned long long)total->pins_total[r]);
	}
	if (pinned > 0)
		log_info("pin summary", "%s", line);
}

static bool all_finished(struct runtime *rt)
{
	for (int i = 0; i < rt->n_workers; i++)
		if (!atomic_load(&rt->workers[i].finished))
			return false;
	return true;
}

/* workers_why says where the worker count came from, for the start's log line. */
static const char *workers_why(const struct cfg *cfg)
{
	if (cfg->workers_setting > 0)
		return "as set";
	if (cfg->workers_setting == 0)
		return "one per online CPU";
	if (cfg_backends_on_this_host(cfg))
		return "auto: every backend is on this host: half the online CPUs, at least one";
	return "auto: one per online CPU";
}

/* wait_for_signals runs until the workers are done: SIGHUP reloads the
 * config; the first SIGTERM drains (clients finish, then the workers end);
 * SIGINT, or a second SIGTERM, closes everything at once. */
static void wait_for_signals(struct runtime *rt, const sigset_t *sigs)
{
	const struct timespec poll = {.tv_nsec = 100 * 1000000L};
	while (!all_finished(rt)) {
		int sig = sigtimedwait(sigs, NULL, &poll);
		if (sig == SIGHUP) {
			reload(rt);
		} else if (sig == SIGTERM && !atomic_load(&rt->draining)) {
			atomic_store(&rt->draining, true);
			log_info("draining", "signal=SIGTERM drain_timeout_ms=%d",
				 rt->cfg.drain_timeout_ms);
			for (int i = 0; i < rt->n_workers; i++)
				worker_request_drain(&rt->workers[i]);
		} else if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping", "signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			for (int i = 0; i < rt->n_workers; i++)
				worker_request_stop(&rt->workers[i]);
		}
	}
}

static int run(struct runtime *rt)
{
	char why[512];
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	/* Block before starting threads so that they inherit the mask and
	 * signals reach only the sigwait below. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(&rt->cfg);

	int started = 0, rc = 0;
	struct admin *admin = NULL;
	rt->n_workers = rt->cfg.workers;
	/* Reloads meet the workers here; destroyed only once they are gone. */
	pthread_barrier_init(&rt->park, NULL, (unsigned)rt->n_workers + 1);
	runtime_user_slots_sync(rt);
	runtime_tls_caches_init(rt);
	handoffs_init(rt);
	rt->workers = xcalloc((size_t)rt->n_workers, sizeof(*rt->workers));
	/* Every worker is set up before any runs: a running worker may wake
	 * any other (backend_tls.c). */
	for (int i = 0; i < rt->n_workers; i++) {
		started = i + 1; /* cleaned up below, even half set up */
		if (!worker_init(&rt->workers[i], rt, i, why, sizeof(why))) {
			log_error("cannot start", "error=\"%s\"", why);
			rc = 1;
			goto stop;
		}
	}
	for (int i = 0; i < rt->n_workers; i++) {
		if (!worker_start(&rt->workers[i], why, sizeof(why))) {
			log_error("cannot start", "error=\"%s\"", why);
			rc = 1;
			goto stop;
		}
	}
	for (size_t i = 0; i < rt->cfg.n_listeners; i++) {
		const struct cfg_listener *l = &rt->cfg.listeners[i];
		log_info("listening", "listener=%s address=%s port=%d tls=%s backend=%s", l->name,
			 l->address, l->port, l->tls_cert ? "on" : "off", l->backend);
	}
	admin = admin_start(rt, why, sizeof(why));
	if (!admin && rt->cfg.admin_port != 0) {
		log_error("cannot start", "error=\"%s\"", why);
		rc = 1;
		goto stop;
	}
	log_info("warmpool started", "version=%s workers=%d (%s)", WARMPOOL_VERSION, rt->n_workers,
		 workers_why(&rt->cfg));
	wait_for_signals(rt, &sigs);
stop:
	admin_stop(admin);
	for (int i = 0; i < started; i++) {
		if (rt->workers[i].setup_ok)
			worker_request_stop(&rt->workers[i]);
	}
	for (int i = 0; i < started; i++)
		worker_join(&rt->workers[i]);
	struct worker_stats total;
	stats_init(&total, rt->cfg.n_backends, rt->cfg.n_listeners);
	for (int i = 0; i < started; i++)
		worker_stats_read(&rt->workers[i], &total);
	log_summaries(rt, &total);
	stats_cleanup(&total);
	for (int i = 0; i < started; i++)
		worker_free_stats(&rt->workers[i]);
	xfree(rt->workers);
	handoffs_free(rt);
	runtime_tls_caches_free(rt);
	pthread_barrier_destroy(&rt->park);
	runtime_user_slots_free(rt);
	if (rc == 0)
		log_info("warmpool stopped", NULL);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"example-config", no_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	const char *config_path = NULL;
	bool check_only = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'k': check_only = true; break;
		case 'e': cfg_write_example(stdout); return 0;
		case 'h': usage(stdout); return 0;
		case 'V': printf("warmpool %s\n", WARMPOOL_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	struct runtime rt = {0};
	char why[512];
	if (!cfg_load(config_path, &rt.cfg, why, sizeof(why))) {
		log_error("invalid configuration", "error=\"%s\"", why);
		return 1;
	}
	atomic_store(&log_min_level, rt.cfg.log_level);
	if (!runtime_build(&rt, why, sizeof(why))) {
		log_error("invalid configuration", "error=\"%s\"", why);
		runtime_free(&rt);
		return 1;
	}
	pthread_rwlock_init(&rt.cfg_lock, NULL);
	rt.started_ms = worker_clock_ms();
	rt.started_unix = (long long)time(NULL);
	if (check_only) {
		printf("%s: configuration OK (%zu listeners, %zu backends, %zu users, %d workers)\n",
		       config_path, rt.cfg.n_listeners, rt.cfg.n_backends, rt.cfg.n_users,
		       rt.cfg.workers);
		runtime_free(&rt);
		return 0;
	}
	kill_registry_init(&rt.kills);
	addr_budget_init(&rt.addrs);
	int rc = run(&rt);
	addr_budget_cleanup(&rt.addrs);
	kill_registry_cleanup(&rt.kills);
	runtime_free(&rt);
	return rc;
}
