/* admin: libmicrohttpd glue: binding, bearer token, routing, snapshots. */
#include "admin.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/mem.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "admin_guard.h"
#include "log.h"
#include "worker.h"

/* Limits that keep the probes answerable when someone else reaches the port.
 * The endpoint shares the process's descriptor limit with the client
 * listeners, hence a cap on connections; when it is reached, a new
 * connection closes the quietest one (admin_guard), so strangers from many
 * addresses cannot hold every slot either. One address gets a small share
 * (more are refused at once), and a connection silent for ADMIN_TIMEOUT_S is
 * closed. libmicrohttpd's own cap leaves room for the evicted connections
 * its loop has not closed yet. A probe is one request on a fresh connection
 * and needs none of these to be larger. */
#define ADMIN_MAX_CONNECTIONS 256
#define ADMIN_MAX_CONNECTIONS_HARD (ADMIN_MAX_CONNECTIONS + 64)
#define ADMIN_MAX_PER_IP 8
#define ADMIN_TIMEOUT_S 3

struct admin {
	struct MHD_Daemon *daemon;
	struct runtime *rt;
	struct admin_guard guard;
};

void admin_snapshot_take(struct admin_snapshot *snap, struct runtime *rt)
{
	size_t nb = rt->cfg.n_backends, nl = rt->cfg.n_listeners;
	snap->rt = rt;
	snap->now_ms = worker_clock_ms();
	snap->admin_evicted_total = 0;
	stats_init(&snap->total, nb, nl);
	snap->workers = xcalloc((size_t)rt->n_workers, sizeof(*snap->workers));
	snap->heartbeat_ms = xcalloc((size_t)rt->n_workers, sizeof(*snap->heartbeat_ms));
	snap->tls_reuse = NULL;
	if (rt->tls_caches) {
		snap->tls_reuse = xcalloc(nb, sizeof(*snap->tls_reuse));
		for (size_t b = 0; b < nb; b++)
			snap->tls_reuse[b] = tls_cache_reuse(&rt->tls_caches[b]);
	}
	snap->pool_connections = NULL;
	if (rt->handoffs.inboxes) {
		snap->pool_connections = xcalloc(nb, sizeof(*snap->pool_connections));
		for (size_t b = 0; b < nb; b++)
			snap->pool_connections[b] = handoff_backend_total(rt, b);
	}
	for (int i = 0; i < rt->n_workers; i++) {
		stats_init(&snap->workers[i], nb, nl);
		worker_stats_read(&rt->workers[i], &snap->workers[i]);
		stats_merge(&snap->total, &snap->workers[i]);
		snap->heartbeat_ms[i] = atomic_load_explicit(&rt->workers[i].heartbeat_ms,
							     memory_order_relaxed);
	}
}

void admin_snapshot_free(struct admin_snapshot *snap)
{
	for (int i = 0; i < snap->rt->n_workers; i++)
		stats_cleanup(&snap->workers[i]);
	xfree(snap->workers);
	xfree(snap->heartbeat_ms);
	xfree(snap->tls_reuse);
	xfree(snap->pool_connections);
	stats_cleanup(&snap->total);
}

/* authorized: /metrics and /status need the bearer token, if one is set.
 * The probes stay open (a kubelet probe cannot read a Secret): /healthz
 * always, /readyz with its verdict only (route). */
static bool authorized(struct runtime *rt, struct MHD_Connection *conn)
{
	const char *token = rt->cfg.admin_token;
	if (!token)
		return true;
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	static const char prefix[] = "Bearer ";
	if (!h || strncmp(h, prefix, sizeof(prefix) - 1) != 0)
		return false;
	h += sizeof(prefix) - 1;
	size_t len = strlen(token);
	return strlen(h) == len && CRYPTO_memcmp(h, token, len) == 0;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
			       const char *content_type, char *body)
{
	if (!body)
		return MHD_NO; /* out of memory: drop the connection */
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"warmpool\"");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static char *text(const char *s)
{
	return strdup(s);
}

#define JSON_TYPE "application/json"
#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* route renders one path over a fresh snapshot; the config (the token
 * included) may not change meanwhile: SIGHUP takes the write side of
 * cfg_lock. */
static enum MHD_Result route(struct admin *a, struct MHD_Connection *conn, const char *url)
{
	struct runtime *rt = a->rt;
	bool health = strcmp(url, "/healthz") == 0, ready = strcmp(url, "/readyz") == 0;
	bool metrics = strcmp(url, "/metrics") == 0, status = strcmp(url, "/status") == 0;
	if (!health && !ready && !metrics && !status)
		return respond(conn, MHD_HTTP_NOT_FOUND, "text/plain",
			       text("not found: try /healthz /readyz /metrics /status\n"));
	pthread_rwlock_rdlock(&rt->cfg_lock);
	bool allowed = authorized(rt, conn);
	if ((metrics || status) && !allowed) {
		pthread_rwlock_unlock(&rt->cfg_lock);
		return respond(conn, MHD_HTTP_UNAUTHORIZED, "text/plain",
			       text("unauthorized: send Authorization: Bearer <admin_token>\n"));
	}
	struct admin_snapshot snap;
	admin_snapshot_take(&snap, rt);
	snap.admin_evicted_total = a->guard.evicted_total; /* this thread's own */
	bool ok = true;
	char *body;
	const char *type = JSON_TYPE;
	if (health) {
		body = admin_render_health(&snap, &ok);
	} else if (ready) {
		/* The reasons name backends and their errors: for the token holder. */
		body = allowed ? admin_render_ready(&snap, &ok) : admin_render_ready_brief(&snap, &ok);
	} else if (metrics) {
		body = admin_render_metrics(&snap);
		type = PROM_TYPE;
	} else {
		body = admin_render_status(&snap);
	}
	admin_snapshot_free(&snap);
	pthread_rwlock_unlock(&rt->cfg_lock);
	return respond(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, type, body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req)
{
	(void)version;
	(void)upload_data;
	struct admin *a = cls;
	admin_guard_on_request(&a->guard, conn);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		/* Bodies are never read: say no before the upload starts. */
		*upload_data_size = 0;
		return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			       text("method not allowed: GET or HEAD\n"));
	}
	*req = NULL;
	return route(a, conn, url);
}

/* on_mhd_log: libmicrohttpd's messages are about single connections
 * (closed mid-request, refused at a limit), which anyone reaching the port
 * can provoke by the thousand: debug level. A failure to start is reported
 * by admin_start itself. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (atomic_load_explicit(&log_min_level, memory_order_relaxed) > LOG_DEBUG)
		return;
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("admin endpoint", "error=\"%s\"", msg);
}

/* poll_mode picks libmicrohttpd's event loop. Its default, select(), drops
 * every connection whose descriptor is 1024 or more: with a thousand clients
 * connected, the probes would fail exactly when warmpool is busiest. epoll
 * (or poll) has no such ceiling. */
static unsigned poll_mode(void)
{
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		return MHD_USE_EPOLL_INTERNAL_THREAD;
	return MHD_USE_POLL_INTERNAL_THREAD;
}

struct admin *admin_start(struct runtime *rt, char *why, size_t why_len)
{
	const struct cfg *cfg = &rt->cfg;
	if (cfg->admin_port == 0)
		return NULL;
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res;
	char port[16];
	snprintf(port, sizeof(port), "%d", cfg->admin_port);
	int rc = getaddrinfo(cfg->admin_address, port, &hints, &res);
	if (rc != 0) {
		snprintf(why, why_len, "admin_address %s: %s", cfg->admin_address, gai_strerror(rc));
		return NULL;
	}
	struct admin *a = xcalloc(1, sizeof(*a));
	a->rt = rt;
	admin_guard_init(&a->guard, ADMIN_MAX_CONNECTIONS);
	unsigned flags = poll_mode() | MHD_USE_ERROR_LOG |
			 (res->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	a->daemon = MHD_start_daemon(flags, (uint16_t)cfg->admin_port, admin_guard_on_accept,
				     &a->guard, on_request, a,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				     MHD_OPTION_NOTIFY_CONNECTION, admin_guard_on_notify, &a->guard,
				     /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: it adds
				      * SO_REUSEPORT, and the port would then be shared
				      * with any listener of this user on it (the kernel
				      * split connections between a MySQL listener and
				      * this endpoint). MHD's default, SO_REUSEADDR, keeps
				      * a restart from waiting out TIME_WAIT of old probes;
				      * a port in use fails the start. */
				     MHD_OPTION_SOCK_ADDR, res->ai_addr,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_MAX_CONNECTIONS_HARD,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)ADMIN_MAX_PER_IP,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ADMIN_TIMEOUT_S,
				     MHD_OPTION_END);
	freeaddrinfo(res);
	if (!a->daemon) {
		snprintf(why, why_len, "cannot serve the admin endpoint on %s:%d (port in use?)",
			 cfg->admin_address, cfg->admin_port);
		xfree(a);
		return NULL;
	}
	log_info("admin endpoint listening", "address=%s port=%d loop=%s token=%s",
		 cfg->admin_address, cfg->admin_port,
		 (flags & MHD_USE_EPOLL) ? "epoll" : "poll",
		 cfg->admin_token ? "required" : "none");
	return a;
}

void admin_stop(struct admin *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->daemon);
	xfree(a);
}
