/* client: one application connection to warmpool, from accept to close. */
#ifndef WP_CLIENT_H
#define WP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr_budget.h"
#include "conn.h"
#include "kill.h"
#include "my_auth.h"
#include "my_handshake.h"
#include "my_pin.h"
#include "my_stmt.h"
#include "pool.h"
#include "replay.h"

struct server;
struct worker;

/* The phase of a client connection. */
enum client_state {
	CLIENT_GREETED = 0,	/* greeting sent; SSLRequest or login next */
	CLIENT_TLS = 1,		/* TLS handshake after the SSLRequest */
	CLIENT_LOGIN = 2,	/* TLS up; login next */
	CLIENT_AUTH_SWITCH = 3, /* AuthSwitchRequest sent; token next */
	CLIENT_WAITING = 4,	/* authenticated; queued for a backend connection */
	CLIENT_SETUP = 5,	/* backend connection found; its setup runs */
	CLIENT_LINKED = 6,	/* relaying to its backend connection */
	CLIENT_IDLE = 7,	/* no backend connection between commands: transaction mode, or
				   after the backend connection died (both modes) */
};
const char *client_state_str(enum client_state state);

/* A session option a client can turn on and off (COM_SET_OPTION). */
enum client_option {
	CLIENT_OPTION_AS_LOGIN = 0, /* as its login's capabilities say */
	CLIENT_OPTION_ON = 1,
	CLIENT_OPTION_OFF = 2,
};

/* What the marker row says of a COMMIT lost in flight (commit_marker.c). */
enum lost_commit {
	LOST_COMMIT_COMMITTED,	 /* the row is there: the client gets its OK */
	LOST_COMMIT_ROLLED_BACK, /* it is not: the transaction runs again, then the COMMIT */
	LOST_COMMIT_UNKNOWN,	 /* it could not be read: ERR 1927, outcome unknown */
};

/* Where a client is with warmpool's commit marker (commit_marker.c). */
enum client_marker {
	CLIENT_MARKER_IDLE = 0,
	CLIENT_MARKER_WRITING,	 /* the row is being written, before the client's COMMIT */
	CLIENT_MARKER_PROBING,	 /* ... it was refused: is the transaction still open? */
	CLIENT_MARKER_CHECK_DUE, /* the COMMIT was lost in flight: check on the next connection */
	CLIENT_MARKER_CHECKING,	 /* ... the check is being answered */
	CLIENT_MARKER_RELEASING, /* ... the transaction its locking read opened is ended */
};

/* COM_STMT_PREPAREs sent and not answered yet: their texts, oldest first. */
#define STMT_PENDING_MAX 16
struct stmt_pending {
	char *sql[STMT_PENDING_MAX];
	size_t len[STMT_PENDING_MAX];
	struct my_stmt_traits traits[STMT_PENDING_MAX]; /* what each text is */
	uint8_t head, n;
};

/* Statements of one client with long data waiting on the backend. */
#define CLIENT_LONG_DATA_MAX 8

struct client {
	struct conn conn;
	struct pool_waiter waiter;
	struct list handshake_node; /* on worker->handshaking until linked */
	uint64_t handshake_deadline_ms;
	uint64_t wait_start_ms; /* when it asked for a backend connection */
	size_t listener_idx;
	enum client_state state;
	enum my_auth_plugin plugin; /* the listener's */
	uint8_t scramble[MY_SCRAMBLE_LEN];
	uint8_t seq;	/* next sequence id during the connection phase */
	uint32_t caps;	/* negotiated with the client */
	uint8_t collation;
	char user[MY_NAME_MAX];
	char db[MY_NAME_MAX];
	uint64_t insert_id; /* its LAST_INSERT_ID(): read back after an OK with another insert
			     * id (transaction mode), else that OK's id */
	struct my_vars vars; /* session variables it set (SET), restored on every connection */
	struct my_stmts stmts;	      /* its prepared statements, under warmpool's ids */
	struct stmt_pending prepares; /* see stmt_relay.c */
	bool stmt_blocked; /* a statement command waits for a response (or a prepare) */
	struct backend_pool *bp;
	struct user_slot *user_slot; /* counts it against its user's max_clients */
	struct kill_node kill;	     /* its entry in the KILL registry, once logged in */
	struct addr_key peer_key;    /* its source address, for the per-address budget */
	bool budget_admitted;	     /* counted as logging in from peer_key */
	struct server *server;
	size_t frame_left; /* bytes of the current client frame still to relay */
	uint8_t last_seq;  /* sequence id of the last frame relayed */
	struct buf retry;  /* the outstanding statement, while it may be re-sent: a read
			    * (retry_reads), or any statement the server never read or
			    * aborted */
	bool retry_read;   /* ... it is a read retry_reads may re-send */
	bool retry_begin;  /* ... it only begins a transaction: always re-sent */
	bool unread;	   /* ... the server closed without reading it (set by the server) */
	bool aborted;	   /* ... the server answered it ERR 1053: it rolled it back as it
			      shut down (client_statement_killed) */
	uint8_t retries;   /* times it was re-sent */
	struct replay_log replay; /* its open transaction, kept to run again (replay.c) */
	bool replaying;	   /* c->in starts with a re-sent command */
	uint64_t fresh_after_ms; /* ... which goes to a connection to fresh_backend opened
				  * from then on (0: any); see client_refuses_connection */
	size_t fresh_backend;	 /* the backend it was lost on */
	size_t avoid_backend; /* the next pick avoids this member (SIZE_MAX: none) */
	unsigned setup_retries; /* session setups lost in a row */
	bool counted;	   /* holds a slot of max_clients */
	bool authenticated; /* its password checked out */
	bool logged_in;	   /* the login's OK went out */
	bool transaction_mode;
	bool transaction_lost; /* its backend died inside a transaction: tell it */
	size_t discard_left;   /* bytes of a refused command still to drop */
	enum my_pin_reason pin; /* why it keeps its backend connection; NONE: it does not */
	/* A tracked change in flight: what a COM_QUERY's statements (USE, SET
	 * NAMES, SET of literals), a COM_INIT_DB or a COM_SET_OPTION change,
	 * applied when response |pending_response| (a tracker count; 0: none)
	 * succeeds. */
	struct my_session_change pending;
	enum client_option pending_multi_statements; /* COM_SET_OPTION (AS_LOGIN: none) */
	uint64_t pending_response;
	enum client_option multi_statements; /* the multi-statement option of its session */
	uint64_t reset_response; /* the response that ends its COM_RESET_CONNECTION (0: none) */
	/* Holds: state that lives on the backend connection for a while, so
	 * the client keeps it without a pin (see client_keeps_session). */
	struct my_vars readback; /* variables set by expression being read back (readback.c) */
	bool reading_insert_id;	 /* its LAST_INSERT_ID() is being read back (readback.c) */
	enum client_marker marker; /* warmpool's commit marker statement (commit_marker.c) */
	uint8_t marker_checks;	   /* ... checks of a lost COMMIT lost themselves */
	enum lost_commit marker_found; /* ... what the check found, while RELEASING */
	uint64_t insert_id_reported; /* ... after an OK that reported this id */
	bool hold_transaction;	 /* a SET TRANSACTION: until the transaction it configures ends */
	bool hold_transaction_began; /* ... which has begun (SERVER_STATUS_IN_TRANS seen) */
	uint32_t long_data[CLIENT_LONG_DATA_MAX]; /* its statements with long data sent */
	uint8_t long_data_n;
	uint32_t long_data_consumer_id; /* the execute or reset that takes one's long data */
	uint64_t long_data_consumer;	/* ... and its response (0: none) */
	bool refuse_text; /* the query at the head of c->in holds a KILL among others */
	/* A query too long to classify, searched for KILL as it is relayed
	 * (client_kill_scan_passes): */
	bool kill_scanning;
	struct my_kill_scan kill_scan;
	size_t kill_scan_skip; /* header bytes at the head of the frame being relayed */
	bool kill_scan_last;   /* that frame ends the query */
	/* Its last COM_STMT_PREPARE: on which backend connection (conn id), as
	 * that connection's how-manyth prepare. MariaDB's statement id -1 ("the
	 * last prepared") is its own only while both still match. */
	uint64_t own_prepare_server;
	uint64_t own_prepare_seq;
	bool charset_unreadable; /* its character set may have become one the classifier
				    cannot lex (see my_sql_mode); for the rest of its session */
};

/* client_accept takes a new socket from listener |listener_idx|. */
void client_accept(struct worker *w, int fd, size_t listener_idx);

/* client_begin_setup: a backend connection was found; its setup runs. */
void client_begin_setup(struct client *c);
/* client_refuses_connection: |s|, found for the client, was opened before
 * the connection its re-sent command was lost with died: |s| is retired,
 * the client waits for another (as long as it had left), and true. */
bool client_refuses_connection(struct client *c, struct server *s);
/* client_backend_ready: the backend connection is set up; finish the login
 * with OK (or the setup's ERR payload, then close) and start relaying. */
void client_backend_ready(struct client *c, const struct buf *setup_err);
/* client_response_ended: the backend finished answering one command; in
 * transaction mode the connection may go back now. */
void client_response_ended(struct client *c);
/* client_reroute moves a client queued for a backend that went down to the
 * member its listener would pick now, keeping its wait deadline. */
void client_reroute(struct client *c);
/* client_after_local_answer: warmpool answered the client's command itself
 * (stmt_relay.c); a boundary like any response's end. */
void client_after_local_answer(struct client *c);
/* client_multi_statements: its session runs several statements per
 * COM_QUERY (its login asked for it, or COM_SET_OPTION since). */
bool client_multi_statements(const struct client *c);
/* client_sql_mode: the lexing rules its next statement is read with. */
struct my_sql_mode client_sql_mode(const struct client *c);
/* client_long_data: a statement command for the client's statement |id|
 * goes to the backend: COM_STMT_SEND_LONG_DATA holds the connection until
 * an execute or reset of that statement succeeds (the server keeps the
 * data with the statement); a close of it pins (the backend's statement,
 * which other clients may share, keeps the data). */
void client_long_data(struct client *c, uint8_t command, uint32_t id);
/* client_insert_id_changed: the session's LAST_INSERT_ID() is |id| now, for
 * the client and its connection |s|; inside a transaction, a change makes
 * it one that is not replayed. */
void client_insert_id_changed(struct client *c, struct server *s, uint64_t id);
/* client_lost_commit_settled: the COMMIT waiting at the head of c->in for
 * the check of its marker row gets what |outcome| calls for. */
void client_lost_commit_settled(struct client *c, enum lost_commit outcome);
/* client_commit_refused: the commit marker's row was refused and the
 * transaction is no longer open (the error rolled it back): the COMMIT
 * waiting at the head of c->in gets that error (kept in the log). */
void client_commit_refused(struct client *c);
/* client_pin keeps the client on its backend connection for |reason|. */
void client_pin(struct client *c, enum my_pin_reason reason);
/* client_fail sends an ERR and closes; used for waits that time out. */
void client_fail(struct client *c, uint16_t code, const char *sqlstate, const char *message);
/* client_forward writes backend bytes to the client. */
bool client_forward(struct client *c, const uint8_t *data, size_t len);
/* client_statement_killed: the server answered the client's statement,
 * before any of the answer was relayed, with ERR |code| (1053: it aborted
 * the statement as it shuts down, which rolls it back; 1927: killed). True
 * when warmpool will send the statement again on a new connection (see
 * client_keep_for_retry): the caller then drops the connection as lost
 * without relaying the ERR. */
bool client_statement_killed(struct client *c, uint16_t code);
/* client_relay_answer relays |len| bytes of an answer to the client (as
 * client_forward), feeding the transaction log's digest; the answer of a
 * statement run again by a replay is checked instead of relayed. */
bool client_relay_answer(struct client *c, const uint8_t *data, size_t len);
/* client_replay_refuse_local_answer: warmpool is about to answer the
 * client's command itself (stmt_relay.c); when that command is a statement
 * of a transaction being run again, the answer would reach the client out
 * of step: the replay is refused instead (the client is told its
 * transaction was rolled back). True when it was: send nothing. */
bool client_replay_refuse_local_answer(struct client *c);
/* client_backend_lost: its backend connection |s| died (|s| is still
 * readable: its tracker says whether a response or a transaction was open). */
void client_backend_lost(struct client *c, const struct server *s);
/* client_drain closes the client if it is at rest: not logged in yet, or
 * between commands and outside a transaction. Called for every client when
 * a drain starts (SIGTERM), then again as each response ends. */
void client_drain(struct client *c);
/* client_check_handshake closes clients whose login is past its deadline. */
void client_check_handshakes(struct worker *w);

#endif
