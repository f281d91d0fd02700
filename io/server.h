/* server: one connection from warmpool to a backend, from connect to close. */
#ifndef WP_SERVER_H
#define WP_SERVER_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "kill.h"
#include "my_auth.h"
#include "my_handshake.h"
#include "my_track.h"
#include "my_stmt.h"
#include "my_vars.h"
#include "pool.h"
#include "tls_cache.h"

struct backend_pool;
struct client;
struct handoff_pool;

/* The protocol phase of a backend connection. */
enum server_state {
	SERVER_CONNECTING = 0, /* TCP connect in flight */
	SERVER_GREETING = 1,   /* waiting for the Handshake v10 */
	SERVER_TLS = 2,	       /* TLS handshake after our SSLRequest */
	SERVER_AUTH = 3,       /* login sent; OK, ERR, switch or more data next */
	SERVER_IDLE = 4,       /* in the pool; any input means it died */
	SERVER_SETUP = 5,      /* running a client's SET NAMES / USE */
	SERVER_LINKED = 6,     /* relaying for one client */
	SERVER_RESETTING = 7,  /* COM_CHANGE_USER in flight: back to a fresh session */
};
const char *server_state_str(enum server_state state);

struct server {
	struct conn conn;
	struct pool_conn pc;
	struct backend_pool *bp;
	enum server_state state;
	struct client *client; /* set in SETUP and LINKED */
	uint64_t deadline_ms;  /* connect + TLS + auth must end by then */
	bool refused;	       /* its TCP connect was refused: the pool retries soon */
	uint8_t seq;	       /* next sequence id during authentication */
	uint8_t scramble[MY_SCRAMBLE_LEN];
	enum my_auth_plugin plugin;
	uint32_t caps;	     /* negotiated */
	uint8_t collation;   /* of the session right now */
	char db[MY_NAME_MAX]; /* schema of the session right now ("" none) */
	uint64_t insert_id;  /* LAST_INSERT_ID() of the session right now */
	uint64_t marker_key; /* its row in the commit marker table (random: commit_marker.c) */
	uint64_t marker_txn; /* ... the last transaction that wrote it */
	struct my_vars vars; /* session variables set on it (SET) right now */
	bool multi_statements; /* the session's multi-statement option right now: off at
				  login; COM_SET_OPTION changes it; COM_CHANGE_USER keeps it */
	bool multi_statements_unknown; /* a client's COM_SET_OPTION went by untracked */
	struct my_stmt_cache stmts; /* statements prepared on it (stmt_relay.c) */
	bool repreparing;	    /* warmpool's own COM_STMT_PREPARE is being answered */
	uint32_t reprepare_for;	    /* the client's statement it prepares */
	struct buf reprepare_error; /* its ERR, when it failed */
	bool reading_back;	    /* warmpool's own read-back (readback.c) is being answered */
	struct buf readback_reply;  /* ... and what has come of its answer (readback.c) */
	bool setup_after_reset; /* a setup's COM_CHANGE_USER: the rest follows its reply */
	bool changing_user; /* a COM_CHANGE_USER is answered: AuthMoreData or a switch may come */
	bool key_requested; /* caching_sha2_password: warmpool asked for the server's RSA key */
	const char *auth_path; /* how the last login went, for its log line (static string) */
	struct my_track track; /* the responses to the commands relayed */
	size_t frame_left;   /* bytes of the current server frame still to relay */
	bool frame_continues; /* the previous frame was full: this one continues it */
	bool response_ended; /* the current frame ended a response */
	unsigned setup_replies; /* replies still expected in SETUP */
	struct buf setup_error; /* first ERR payload seen in SETUP */
	struct __kernel_timespec connect_timeout;
	uint32_t thread_id;	/* the backend's id of this connection (its greeting's) */
	bool tx_variables_old;	/* it says tx_isolation, not transaction_isolation */
	uint32_t kill_thread_id; /* nonzero: a side connection that only sends KILL */
	bool kill_connection;	 /* ... KILL CONNECTION (else KILL QUERY) of that id */
	struct kill_target kill_for; /* ... for that client's statement */
	bool poisoned; /* an XA statement ran on it: closed when its client lets go */
	uint64_t prepares_sent; /* COM_STMT_PREPAREs sent on it, the client's and warmpool's */
	bool retired; /* closed on purpose by warmpool, not lost */
	bool stale;   /* opened with settings a reload replaced: retire when free */
	enum tls_admit tls_claim; /* held from open to login or close (backend_tls.c) */
	bool leaving; /* its server ended a command with ERR 1053 or 1927: it closes this
		       * connection next, so it is closed once that answer is relayed */
	/* Lent to another worker (handoff.c): from the claim until it is
	 * posted, off its pool's lists, its receive being cancelled. */
	bool lending;
	size_t lent_to;			  /* the worker it goes to */
	uint64_t lent_moves;		  /* handoffs.moves when it left */
	struct handoff_pool *lent_pool;	  /* its pool, by key: the new worker's shard of it */
};

/* server_retire_idle_born_before closes |bp|'s idle connections opened
 * before |before_ms|, logging |why|. */
void server_retire_idle_born_before(struct backend_pool *bp, uint64_t before_ms,
				    const char *why);

/* server_retire_born_before closes |bp|'s connections opened before
 * |before_ms| (CLOCK_MONOTONIC) that would take a command next: idle ones,
 * and those lent to clients between commands. MySQL marks every session for
 * shutdown at once, reads one more command on each, kills it at its first
 * check (ERR 1053) and closes. Closed now, they take no command: their
 * clients' next commands wait for the server that comes back
 * (client_backend_lost), and a client inside a transaction is told at its
 * next statement that it was rolled back, instead of getting ERR 1053. A
 * connection with a command on its way is left to its answer. */
void server_retire_born_before(struct backend_pool *bp, uint64_t before_ms);

/* server_open starts a new connection for |bp| (CONNECTING); NULL when no
 * socket could be made (the pool was told). */
struct server *server_open(struct backend_pool *bp);
/* server_open_killer opens a side connection of |bp|'s user that sends
 * KILL QUERY (or KILL CONNECTION) |thread_id| once logged in, logs the
 * answer and closes: how a client's KILL QUERY reaches the backend thread
 * running its statement while that connection is busy. A KILL QUERY is
 * sent only if |target|'s statement still runs there by then (the login
 * takes a while: the thread may be running another client's statement). */
void server_open_killer(struct backend_pool *bp, uint32_t thread_id, bool whole_connection,
			const struct kill_target *target);

/* server_link_client runs the client's session setup (charset, schema) if
 * any is needed, then links both ends; the client is told through
 * client_backend_ready. */
void server_link_client(struct server *s, struct client *c);
/* server_release takes the connection back from a client whose session
 * state must go: it is reset (COM_CHANGE_USER) and returned to the pool. */
void server_release(struct server *s);
/* server_unlink returns a connection with nothing to reset (transaction
 * mode, at a boundary, no pin) straight to the pool or its next waiter. */
void server_unlink(struct server *s);
/* server_clean: no response outstanding, no transaction open. */
bool server_clean(const struct server *s);
/* server_forward writes client bytes to the backend. */
bool server_forward(struct server *s, const uint8_t *data, size_t len);
/* server_handle_connect completes the TCP connect. */
void server_handle_connect(struct conn *c, struct io_uring_cqe *cqe);
/* server_retire closes a connection on purpose (not counted as lost). */
void server_retire(struct server *s, const char *reason);
/* server_check_deadline closes a connection still opening past its deadline. */
void server_check_deadline(struct server *s, uint64_t now_ms);

#endif
