/* worker: one thread, one io_uring, its listeners, connections and pool shards. */
#ifndef WP_WORKER_H
#define WP_WORKER_H

#include <liburing.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bufring.h"
#include "cfg.h"
#include "list.h"
#include "metric.h"
#include "my_pin.h"
#include "tls_cache.h"
#include "ring.h"

struct backend_pool;

/* Shared, immutable after start (besides the atomics): what every worker
 * reads. Owned by main. */
struct runtime {
	struct cfg cfg;
	SSL_CTX **listener_tls; /* per listener; NULL without tls_cert */
	SSL_CTX **backend_tls;	/* per backend */
	struct sockaddr_storage *backend_addr;
	socklen_t *backend_addr_len;
	_Atomic long n_clients; /* over all workers, for max_clients */
	struct worker *workers;
	int n_workers;
};

struct worker_listener {
	int fd;
	size_t cfg_idx;
	struct worker *w;
	bool accept_armed;
};

struct worker {
	int id;
	struct runtime *rt;
	struct io_uring ring;
	struct bufring bufs;
	struct worker_listener *listeners;
	size_t n_listeners;
	struct backend_pool **pools; /* grows as (backend, user, caps) keys appear */
	size_t n_pools;
	char (*backend_version)[256]; /* per backend: the last greeting's version */
	struct tls_cache *tls_caches;	  /* per backend: this worker's session stash */
	struct metric_tls *backend_tls;	  /* per backend */
	struct metric_tls *listener_tls;  /* per listener */
	uint64_t pins[MY_PIN_REASON_COUNT]; /* clients pinned, by reason */
	struct list handshaking;      /* clients before login completes, oldest first */
	struct list conns;	      /* every live connection */
	size_t n_conns;
	struct list rearm;	      /* conns whose multishot recv ended (-ENOBUFS) */
	int wake_fd;
	uint64_t wake_value;
	struct __kernel_timespec tick;
	uint64_t now_ms; /* CLOCK_MONOTONIC, refreshed once per loop turn */
	uint64_t next_conn_id;
	_Atomic bool stop;
	bool stopping;
	pthread_t thread;
	bool started;
	sem_t setup_done; /* posted once the thread has set up its ring */
	bool setup_ok;
	char setup_error[256];
};

/* worker_init opens the listeners. False with a message in |why|. */
bool worker_init(struct worker *w, struct runtime *rt, int id, char *why, size_t why_len);
/* worker_start runs the thread, which sets up its own ring (a SINGLE_ISSUER
 * ring belongs to its creating thread), and waits for that setup. False with
 * a message in |why| when a needed io_uring feature is missing. */
bool worker_start(struct worker *w, char *why, size_t why_len);
/* worker_request_stop is safe from any thread. */
void worker_request_stop(struct worker *w);
/* worker_join waits for the thread and frees all but the metrics, which
 * main reads for its summary and then frees with worker_free_metrics. */
void worker_join(struct worker *w);
void worker_free_metrics(struct worker *w);

/* worker_sqe returns a free SQE, submitting queued ones if the SQ is full. */
struct io_uring_sqe *worker_sqe(struct worker *w);

uint64_t worker_clock_ms(void);

#endif
