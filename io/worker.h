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
#include "kill.h"
#include "list.h"
#include "stats.h"
#include "tls_cache.h"
#include "ring.h"
#include "runtime.h"

struct backend_pool;

struct worker_listener {
	int fd;
	size_t cfg_idx;
	struct worker *w;
	bool accept_armed;
	bool accept_paused; /* out of descriptors with no reserve: retried on the tick */
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
	int64_t **rr_current;		  /* per listener, per member: smooth round robin */
	uint64_t picks;			  /* rotates ties between equally loaded members */
	struct worker_stats stats;	  /* live; only this thread touches it */
	struct stats_published published; /* its copy for the admin thread */
	_Atomic uint64_t heartbeat_ms;	  /* the last loop turn: /healthz reads it */
	struct list handshaking;      /* clients before login completes, oldest first */
	struct list conns;	      /* every live connection */
	size_t n_conns;
	struct list rearm;	      /* conns whose multishot recv ended (-ENOBUFS) */
	int wake_fd;
	struct kill_mailbox kills; /* KILLs of this worker's clients, from any worker */
	int reserve_fd;	      /* spare descriptor, freed to refuse a client on EMFILE */
	uint64_t fd_warned_ms; /* last "out of file descriptors" warning */
	uint64_t wake_value;
	struct __kernel_timespec tick;
	struct __kernel_timespec retry; /* of the last retry timer armed (read at submit) */
	uint64_t retry_due_ms; /* when the earliest retry timer armed fires (past: none pending) */
	uint64_t now_ms; /* CLOCK_MONOTONIC, refreshed once per loop turn */
	uint64_t next_conn_id;
	_Atomic bool stop;
	_Atomic bool drain;
	_Atomic bool park; /* reload: meet main at rt->park */
	_Atomic bool finished; /* the loop has ended */
	bool draining;	       /* listeners closed; clients leave as they come to rest */
	uint64_t drain_deadline_ms;
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
/* worker_request_stop (close everything now) and worker_request_drain
 * (stop accepting, let clients finish, see client_drain) are safe from any
 * thread. */
void worker_request_stop(struct worker *w);
void worker_request_drain(struct worker *w);
void worker_request_park(struct worker *w);
/* worker_wake makes the worker look at its requests (stop, drain, park,
 * kill mailbox) now; safe from any thread. */
void worker_wake(struct worker *w);
/* worker_join waits for the thread and frees all but the statistics, which
 * main reads for its summary and then frees with worker_free_stats, and the
 * wake descriptor, which other workers may use until they have all joined
 * (worker_free_stats closes it). */
void worker_join(struct worker *w);
void worker_free_stats(struct worker *w);
/* worker_stats_read adds the worker's last published statistics into
 * |into|; safe from any thread. */
void worker_stats_read(struct worker *w, struct worker_stats *into);

/* worker_retry_at makes the worker refill its backend pools at |due_ms|,
 * when a pool's connect backoff ends: the tick (every 100 ms) would start
 * that connect up to a tick late, longer than the short retry after a
 * refused connect (pool.c). Nothing when a timer armed earlier is pending
 * (the pool asks again when it fires) or when |due_ms| is not in the future. */
void worker_retry_at(struct worker *w, uint64_t due_ms);

/* worker_sqe returns a free SQE, submitting queued ones if the SQ is full. */
struct io_uring_sqe *worker_sqe(struct worker *w);

uint64_t worker_clock_ms(void);

#endif
