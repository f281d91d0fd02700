/* runtime: building, freeing and swapping the TLS contexts and addresses a config needs. */
#include "runtime.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "tls_ctx.h"
#include "worker.h"

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

bool runtime_build(struct runtime *rt, char *why, size_t why_len)
{
	struct cfg *cfg = &rt->cfg;
	rt->listener_tls = xcalloc(cfg->n_listeners, sizeof(*rt->listener_tls));
	rt->backend_tls = xcalloc(cfg->n_backends, sizeof(*rt->backend_tls));
	rt->backend_addr = xcalloc(cfg->n_backends, sizeof(*rt->backend_addr));
	rt->backend_addr_len = xcalloc(cfg->n_backends, sizeof(*rt->backend_addr_len));
	rt->backend_leaving_ms = xcalloc(cfg->n_backends, sizeof(*rt->backend_leaving_ms));
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

void runtime_free(struct runtime *rt)
{
	for (size_t i = 0; rt->listener_tls && i < rt->cfg.n_listeners; i++)
		SSL_CTX_free(rt->listener_tls[i]);
	for (size_t i = 0; rt->backend_tls && i < rt->cfg.n_backends; i++)
		SSL_CTX_free(rt->backend_tls[i]);
	xfree(rt->listener_tls);
	xfree(rt->backend_tls);
	xfree(rt->backend_addr);
	xfree(rt->backend_addr_len);
	xfree((void *)rt->backend_leaving_ms);
	cfg_free(&rt->cfg);
}

void runtime_swap(struct runtime *a, struct runtime *b)
{
	struct cfg cfg = a->cfg;
	SSL_CTX **listener_tls = a->listener_tls, **backend_tls = a->backend_tls;
	struct sockaddr_storage *addr = a->backend_addr;
	socklen_t *addr_len = a->backend_addr_len;
	_Atomic uint64_t *leaving = a->backend_leaving_ms;
	a->cfg = b->cfg;
	a->listener_tls = b->listener_tls;
	a->backend_tls = b->backend_tls;
	a->backend_addr = b->backend_addr;
	a->backend_addr_len = b->backend_addr_len;
	a->backend_leaving_ms = b->backend_leaving_ms;
	b->cfg = cfg;
	b->listener_tls = listener_tls;
	b->backend_tls = backend_tls;
	b->backend_addr = addr;
	b->backend_addr_len = addr_len;
	b->backend_leaving_ms = leaving;
}

struct user_slot *runtime_user_slot(const struct runtime *rt, const char *name)
{
	for (struct user_slot *s = rt->user_slots; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

void runtime_user_slots_sync(struct runtime *rt)
{
	for (size_t i = 0; i < rt->cfg.n_users; i++) {
		const char *name = rt->cfg.users[i].name;
		if (runtime_user_slot(rt, name))
			continue;
		size_t len = strlen(name) + 1;
		struct user_slot *s = xcalloc(1, sizeof(*s) + len);
		memcpy(s->name, name, len);
		s->next = rt->user_slots;
		rt->user_slots = s;
	}
}

void runtime_user_slots_free(struct runtime *rt)
{
	while (rt->user_slots) {
		struct user_slot *next = rt->user_slots->next;
		xfree(rt->user_slots);
		rt->user_slots = next;
	}
}

void runtime_tls_caches_init(struct runtime *rt)
{
	rt->tls_caches = xcalloc(rt->cfg.n_backends, sizeof(*rt->tls_caches));
	for (size_t i = 0; i < rt->cfg.n_backends; i++)
		tls_cache_init(&rt->tls_caches[i], rt->cfg.backends[i].tls_resumption,
			       (uint64_t)rt->cfg.backends[i].tls_ticket_max_age_ms, worker_clock_ms);
}

void runtime_tls_caches_reset(struct runtime *rt, const bool *backend_changed)
{
	for (size_t i = 0; i < rt->cfg.n_backends; i++) {
		if (backend_changed[i])
			tls_cache_reset(&rt->tls_caches[i], rt->cfg.backends[i].tls_resumption,
					(uint64_t)rt->cfg.backends[i].tls_ticket_max_age_ms);
	}
}

void runtime_tls_caches_free(struct runtime *rt)
{
	for (size_t i = 0; rt->tls_caches && i < rt->cfg.n_backends; i++)
		tls_cache_cleanup(&rt->tls_caches[i]);
	xfree(rt->tls_caches);
	rt->tls_caches = NULL;
}
