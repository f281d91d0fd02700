/* stmt_relay: server-side prepared statements follow the client across backend connections: ids rewritten, statements prepared again where missing. */
#ifndef WP_STMT_RELAY_H
#define WP_STMT_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "my_cursor.h"

struct client;
struct server;

/* What client_relay does with a statement command at the head of c->in. */
enum stmt_step {
	STMT_RELAY = 0,	  /* its id now names the backend's statement: forward it */
	STMT_HANDLED = 1, /* answered (or dropped) here; the frame is consumed */
	STMT_WAIT = 2,	  /* more bytes, an earlier response, or a prepare first */
	STMT_AGAIN = 3,	  /* the frame was rewritten: read its header again */
};

/* stmt_is_command: a command that names a prepared statement, or prepares one. */
bool stmt_is_command(uint8_t command);

/* stmt_client_command handles the statement command (payload |len|) at the
 * head of the client's input, which is linked to a backend connection. */
enum stmt_step stmt_client_command(struct client *c, uint32_t len);

/* stmt_execute_is_read: the COM_STMT_EXECUTE |payload| (|len| bytes,
 * command byte first, the client's statement id) runs one of the client's
 * statements whose text is a lone read (my_query_is_read, judged at its
 * prepare): running it twice is harmless. */
bool stmt_execute_is_read(struct client *c, const uint8_t *payload, uint32_t len);

/* stmt_execute_begins_transaction: as stmt_execute_is_read, for a lone
 * BEGIN or START TRANSACTION (MariaDB prepares them; sysbench does). */
bool stmt_execute_begins_transaction(struct client *c, const uint8_t *payload, uint32_t len);

/* stmt_execute_stays_in_transaction: as stmt_execute_is_read, for a
 * statement whose text never commits a transaction (judged at its prepare,
 * on listeners with replay_transactions). */
bool stmt_execute_stays_in_transaction(struct client *c, const uint8_t *payload, uint32_t len);

/* stmt_execute_text: the text of the statement the COM_STMT_EXECUTE
 * |payload| (|len| bytes) runs; false when it is not one of the client's. */
bool stmt_execute_text(struct client *c, const uint8_t *payload, uint32_t len,
		       const uint8_t **out_sql, size_t *out_len);

/* stmt_client_close_idle drops a COM_STMT_CLOSE that arrives between
 * transactions without taking a connection; false when the head of c->in
 * is something else (or not all there). */
bool stmt_client_close_idle(struct client *c);

/* How much of the first packet of a prepare's reply stmt_server_prepare_reply
 * reads: the prepare OK, or as much of an ERR as a client is shown. */
#define STMT_REPLY_HEAD 512

/* stmt_server_prepare_reply sees the first packet of a COM_STMT_PREPARE
 * response, in place in the connection's input: for the client's own
 * prepare it records the statement and rewrites the id to the client's;
 * for warmpool's own it learns the backend id (or keeps the ERR). |have|
 * is what has arrived of the payload: all of it, or STMT_REPLY_HEAD bytes. */
void stmt_server_prepare_reply(struct server *s, uint8_t *payload, size_t have);

/* stmt_server_reprepared: warmpool's own prepare was answered in full; the
 * client's command goes on (or gets the ERR). */
void stmt_server_reprepared(struct server *s);

/* stmt_server_forget: the connection's statements are gone (new session). */
void stmt_server_forget(struct server *s);

/* stmt_server_invalidate: the connection's session changed (schema,
 * character set, variables): its statements were prepared for another, so
 * they are closed on the backend (COM_STMT_CLOSE has no reply) and
 * forgotten. The closes go into |b| (a packet builder on s's output). */
void stmt_server_invalidate(struct server *s, struct my_bld *b);

/* stmt_client_prepares_lost: the connection died with COM_STMT_PREPAREs
 * unanswered; their texts must not be matched with later replies. */
void stmt_client_prepares_lost(struct client *c);

/* stmt_client_forget: the client's statements are gone (its own
 * COM_RESET_CONNECTION or COM_CHANGE_USER). */
void stmt_client_forget(struct client *c);

#endif
