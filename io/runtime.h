/* runtime: what every thread shares: the config and what is built from it (TLS contexts, addresses). */
#ifndef WP_RUNTIME_H
#define WP_RUNTIME_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr_budget.h"
#include "cfg.h"
#include "handoff.h"
#include "kill.h"
#include "tls_cache.h"

struct worker;

/* How many clients a user has, over all workers (for its max_clients).
 * Slots are never freed while the workers run: clients point at theirs. */
struct user_slot {
	struct user_slot *next;
	_Atomic long clients;
	char name[];
};

/* Owned by main. The config changes only on SIGHUP, while the workers are
 * parked (see reload.c) and with cfg_lock held for writing, which the admin
 * thread takes for reading. */
struct runtime {
	struct cfg cfg;
	SSL_CTX **listener_tls; /* per listener; NULL without tls_cert */
	SSL_CTX **backend_tls;	/* per backend */
	struct sockaddr_storage *backend_addr;
	socklen_t *backend_addr_len;
	/* Per backend: when a worker last learnt that its server is shutting
	 * down (CLOCK_MONOTONIC ms; 0: never). Every worker retires its
	 * connections to it opened before then (backend_take_leaving). */
	_Atomic uint64_t *backend_leaving_ms;

	pthread_rwlock_t cfg_lock;
	pthread_barrier_t park; /* reload: main and every worker meet here */
	bool *backend_changed;	/* reload: per backend, address or TLS settings changed */
	_Atomic bool draining;	/* SIGTERM: listeners closed, clients finishing */
	uint64_t started_ms;	/* CLOCK_MONOTONIC */
	long long started_unix;
	_Atomic long n_clients; /* over all workers, for max_clients */
	struct user_slot *user_slots; /* added to at start and on reload, workers parked */
	struct worker *workers;
	int n_workers;
	struct kill_registry kills; /* every logged-in client, for KILL */
	struct addr_budget addrs;   /* logins per source address */
	struct tls_cache *tls_caches; /* per backend, for every worker; kept across reloads */
	struct handoffs handoffs;     /* pools over the workers; kept across reloads */
};

/* runtime_build loads the TLS material and resolves the backends of
 * rt->cfg; false with |why|. */
bool runtime_build(struct runtime *rt, char *why, size_t why_len);
/* runtime_free releases what runtime_build made, and the config. */
void runtime_free(struct runtime *rt);
/* runtime_swap exchanges the config and what was built from it. */
void runtime_swap(struct runtime *a, struct runtime *b);

/* runtime_user_slots_sync adds a slot for every configured user without
 * one; main's thread, while no worker runs (start, or parked on reload). */
void runtime_user_slots_sync(struct runtime *rt);
/* runtime_user_slot finds a user's slot (NULL for an unknown user). */
struct user_slot *runtime_user_slot(const struct runtime *rt, const char *name);
void runtime_user_slots_free(struct runtime *rt);

/* runtime_tls_caches_init makes one session stash per backend, shared by
 * the workers; runtime_tls_caches_reset empties those of the backends a
 * reload moved (workers parked); runtime_tls_caches_free after the workers. */
void runtime_tls_caches_init(struct runtime *rt);
void runtime_tls_caches_reset(struct runtime *rt, const bool *backend_changed);
void runtime_tls_caches_free(struct runtime *rt);

#endif
