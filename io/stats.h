/* stats: one worker's counters and gauges, published each tick for the admin thread. */
#ifndef WP_STATS_H
#define WP_STATS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metric.h"
#include "replay.h"
#include "tls_cache.h"
#include "my_pin.h"
#include "pool.h"

/* Errors by kind, as exported in warmpool_errors_total{kind=...}. */
enum stats_error {
	STATS_ERR_CLIENT_PROTOCOL = 0,	  /* malformed or refused client input */
	STATS_ERR_CLIENT_AUTH = 1,	  /* unknown user or wrong password */
	STATS_ERR_CLIENT_TIMEOUT = 2,	  /* login not finished within handshake_timeout_ms */
	STATS_ERR_CLIENT_REFUSED = 3,	  /* max_clients reached, or draining */
	STATS_ERR_WAIT_TIMEOUT = 4,	  /* no backend connection within client_wait_timeout_ms */
	STATS_ERR_BACKEND_CONNECT = 5,	  /* a backend connection could not be opened */
	STATS_ERR_BACKEND_LOST = 6,	  /* a backend connection died under a client */
	STATS_ERR_TRANSACTION_LOST = 7,	  /* ...inside a transaction: the client was told */
	STATS_ERR_COUNT = 8,
};
const char *stats_error_str(enum stats_error kind);

/* Holds by kind, as exported in warmpool_holds_total{kind=...}: a client keeps
 * its backend connection for a while without being pinned (see README). */
enum stats_hold {
	STATS_HOLD_TRANSACTION = 0, /* SET TRANSACTION, until the transaction it configures ends */
	STATS_HOLD_LONG_DATA = 1,   /* COM_STMT_SEND_LONG_DATA, until the execute */
	STATS_HOLD_READBACK = 2,    /* a SET of expressions, until its values are read back */
	STATS_HOLD_COUNT = 3,
};
const char *stats_hold_str(enum stats_hold kind);

/* Health of a backend as one worker sees it. */
enum backend_health {
	BACKEND_UNKNOWN = 0, /* no connection attempted yet */
	BACKEND_UP = 1,	     /* the last attempt logged in, or connections are alive */
	BACKEND_PROBING = 2, /* down, and a connection attempt is in flight */
	BACKEND_DOWN = 3,    /* the last attempt failed and no connection is alive */
};
const char *backend_health_str(enum backend_health health);

struct stats_backend {
	struct metric_tls tls;
	uint64_t connects_total;	 /* connections opened and logged in */
	uint64_t connect_failures_total; /* attempts that failed */
	uint64_t lost_total;		 /* died while idle or in use (not closed by us) */
	uint64_t closed_total[POOL_CLOSE_REASON_COUNT]; /* closed by us on purpose, by reason */
	uint64_t transitions_total;	 /* health changes */
	uint64_t queries_total;		 /* commands relayed to this backend */
	uint64_t connecting_peak;	 /* most connections opened at once (summed: a bound) */
	uint64_t tls_admits[TLS_ADMIT_WAIT + 1]; /* the session stash's answers to the pools */
	uint64_t handoffs_lent_total;	  /* connections this worker lent to another (handoff.c) */
	uint64_t handoffs_borrowed_total; /* connections lent to this worker by another */
	/* Gauges, refreshed when published. */
	uint64_t conns[POOL_CONN_STATE_COUNT];
	uint64_t waiting;
	/* Health: set as connects succeed and fail. */
	enum backend_health health;
	uint64_t health_since_ms; /* CLOCK_MONOTONIC */
	uint64_t last_event_ms;	  /* the last connect that succeeded or failed */
	bool health_live;	  /* merged: the health comes from a worker with live connections */
	char health_reason[200];  /* why it is down ("" when up) */
	int tls_on;		  /* last connection: 1 TLS, 0 plaintext, -1 none yet */
	uint64_t connected_ms;	  /* when that connection logged in (merged: the latest) */
	char tls_version[16];
	char server_version[128]; /* the last greeting's */
};

struct stats_listener {
	struct metric_tls tls;
	uint64_t accepted_total;
	uint64_t workers_listening; /* workers whose socket is open (summed) */
};

struct worker_stats {
	uint64_t heartbeat_ms; /* the last loop turn (copied: the live value is atomic) */
	uint64_t queries_total;
	uint64_t retried_reads_total; /* lost reads re-sent (retry_reads) */
	uint64_t retried_aborted_total; /* statements the server aborted (ERR 1053), re-sent */
	uint64_t retried_begins_total; /* lone BEGINs lost outside a transaction, re-sent */
	uint64_t commit_markers_failed_total; /* commit marker rows not written (commit_marker.c) */
	uint64_t replays_total[REPLAY_OUTCOME_COUNT]; /* transactions lost, by what followed */
	uint64_t client_bytes_received_total;
	uint64_t client_bytes_sent_total;
	uint64_t backend_bytes_received_total;
	uint64_t backend_bytes_sent_total;
	uint64_t ring_waits_total;	 /* loop turns: each one io_uring_enter that waits */
	uint64_t ring_completions_total; /* completions those turns handled */
	uint64_t errors_total[STATS_ERR_COUNT];
	uint64_t pins_total[MY_PIN_REASON_COUNT]; /* clients pinned, by reason */
	uint64_t holds_total[STATS_HOLD_COUNT];	  /* connections held, by kind */
	struct metric_hist wait_seconds;	  /* time queued for a backend connection */
	/* Gauges. */
	uint64_t clients;	      /* connected, holding a max_clients slot */
	uint64_t clients_handshaking; /* not logged in yet */
	uint64_t clients_waiting;     /* queued for a backend connection */
	uint64_t clients_linked;      /* holding a backend connection */
	size_t n_backends;
	struct stats_backend *backends;
	size_t n_listeners;
	struct stats_listener *listeners;
};

void stats_init(struct worker_stats *s, size_t n_backends, size_t n_listeners);
void stats_cleanup(struct worker_stats *s);
/* stats_copy overwrites |into| (of the same shape) with |from|. */
void stats_copy(struct worker_stats *into, const struct worker_stats *from);
/* stats_merge adds |from| into |into|: counters and gauges are summed.
 * Health is that of a worker with live connections to the backend, if any
 * (one failed connect elsewhere does not make it down), else that of the
 * worker with the most recent connect outcome (a worker that has not tried
 * for a while knows nothing newer). */
void stats_merge(struct worker_stats *into, const struct worker_stats *from);

/* stats_backend_set_health records a connect outcome and the health it
 * implies; transitions are counted when the health changes. */
void stats_backend_set_health(struct stats_backend *b, enum backend_health health,
			      const char *reason, uint64_t now_ms);


/* A snapshot published by its worker under a lock, read by the admin thread. */
struct stats_published {
	pthread_mutex_t lock;
	struct worker_stats stats;
};

#endif
