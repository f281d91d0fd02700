/* main: command line, config and TLS contexts, worker threads, signals. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
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
	      "Signals: SIGTERM and SIGINT stop warmpool.\n",
	      out);
}

static bool resolve_backend(const struct cfg_backend *b, struct sockaddr_storage *out,
			    socklen_t *out_len, char *why, size_t why_len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
	struct addrinfo *res;
	char port[16];
	snprintf(port, sizeof(port), "%d", b->port);
	int rc = getaddrinfo(b->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(why, why_len, "[backend %s]: cannot resolve %s: %s", b->name, b->host,
			 gai_strerror(rc));
		return false;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*out_len = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

/* runtime_build loads TLS material and addresses; false with |why|. */
static bool runtime_build(struct runtime *rt, char *why, size_t why_len)
{
	struct cfg *cfg = &rt->cfg;
	rt->listener_tls = xcalloc(cfg->n_listeners, sizeof(*rt->listener_tls));
	rt->backend_tls = xcalloc(cfg->n_backends, sizeof(*rt->backend_tls));
	rt->backend_addr = xcalloc(cfg->n_backends, sizeof(*rt->backend_addr));
	rt->backend_addr_len = xcalloc(cfg->n_backends, sizeof(*rt->backend_addr_len));
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct cfg_listener *l = &cfg->listeners[i];
		if (!l->tls_cert)
			continue;
		char inner[384];
		rt->listener_tls[i] = tls_ctx_new_server(l, inner, sizeof(inner));
		if (!rt->listener_tls[i]) {
			snprintf(why, why_len, "[listener %s]: %s", l->name, inner);
			return false;
		}
	}
	for (size_t i = 0; i < cfg->n_backends; i++) {
		rt->backend_tls[i] = tls_ctx_new_backend(&cfg->backends[i], why, why_len);
		if (!rt->backend_tls[i])
			return false;
		if (!resolve_backend(&cfg->backends[i], &rt->backend_addr[i],
				     &rt->backend_addr_len[i], why, why_len))
			return false;
	}
	return true;
}

static void runtime_free(struct runtime *rt)
{
	for (size_t i = 0; rt->listener_tls && i < rt->cfg.n_listeners; i++)
		SSL_CTX_free(rt->listener_tls[i]);
	for (size_t i = 0; rt->backend_tls && i < rt->cfg.n_backends; i++)
		SSL_CTX_free(rt->backend_tls[i]);
	xfree(rt->listener_tls);
	xfree(rt->backend_tls);
	xfree(rt->backend_addr);
	xfree(rt->backend_addr_len);
	cfg_free(&rt->cfg);
}

/* raise_nofile lifts the soft descriptor limit to the hard one: every
 * client and backend connection is a descriptor. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
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

/* log_tls_summaries sums every worker's handshake counters (until the admin
 * endpoint exports them, this is where they are read). */
static void log_tls_summaries(const struct runtime *rt, int n_workers)
{
	for (size_t b = 0; b < rt->cfg.n_backends; b++) {
		struct metric_tls sum = {0};
		for (int i = 0; i < n_workers; i++)
			if (rt->workers[i].backend_tls)
				metric_tls_merge(&sum, &rt->workers[i].backend_tls[b]);
		log_tls_summary("backend", rt->cfg.backends[b].name, &sum);
	}
	for (size_t l = 0; l < rt->cfg.n_listeners; l++) {
		struct metric_tls sum = {0};
		for (int i = 0; i < n_workers; i++)
			if (rt->workers[i].listener_tls)
				metric_tls_merge(&sum, &rt->workers[i].listener_tls[l]);
		log_tls_summary("listener", rt->cfg.listeners[l].name, &sum);
	}
}

/* log_pin_summary: how many clients were pinned, by reason, over all workers. */
static void log_pin_summary(const struct runtime *rt, int n_workers)
{
	char line[512];
	int n = 0;
	uint64_t total = 0;
	for (int r = 1; r < MY_PIN_REASON_COUNT; r++) {
		uint64_t sum = 0;
		for (int i = 0; i < n_workers; i++)
			sum += rt->workers[i].pins[r];
		total += sum;
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s=%llu", r > 1 ? " " : "",
			      my_pin_reason_str((enum my_pin_reason)r), (unsigned long long)sum);
	}
	if (total > 0)
		log_info("pin summary", "%s", line);
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
	raise_nofile();

	int started = 0, rc = 0;
	rt->n_workers = rt->cfg.workers;
	rt->workers = xcalloc((size_t)rt->n_workers, sizeof(*rt->workers));
	for (int i = 0; i < rt->n_workers; i++) {
		if (!worker_init(&rt->workers[i], rt, i, why, sizeof(why)) ||
		    !worker_start(&rt->workers[i], why, sizeof(why))) {
			log_error("cannot start", "error=\"%s\"", why);
			started = i + 1;
			rc = 1;
			goto stop;
		}
		started = i + 1;
	}
	for (size_t i = 0; i < rt->cfg.n_listeners; i++) {
		const struct cfg_listener *l = &rt->cfg.listeners[i];
		log_info("listening", "listener=%s address=%s port=%d tls=%s backend=%s", l->name,
			 l->address, l->port, l->tls_cert ? "on" : "off", l->backend);
	}
	log_info("warmpool started", "version=%s workers=%d", WARMPOOL_VERSION, rt->n_workers);
	for (;;) {
		int sig;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_warn("SIGHUP: configuration reload is not supported yet; ignored", NULL);
			continue;
		}
		log_info("stopping", "signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
stop:
	for (int i = 0; i < started; i++) {
		if (rt->workers[i].setup_ok)
			worker_request_stop(&rt->workers[i]);
	}
	for (int i = 0; i < started; i++)
		worker_join(&rt->workers[i]);
	log_tls_summaries(rt, started);
	log_pin_summary(rt, started);
	for (int i = 0; i < started; i++)
		worker_free_metrics(&rt->workers[i]);
	xfree(rt->workers);
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
	if (check_only) {
		printf("%s: configuration OK (%zu listeners, %zu backends, %zu users, %d workers)\n",
		       config_path, rt.cfg.n_listeners, rt.cfg.n_backends, rt.cfg.n_users,
		       rt.cfg.workers);
		runtime_free(&rt);
		return 0;
	}
	int rc = run(&rt);
	runtime_free(&rt);
	return rc;
}
