/* readback: a client's SET of session variables to expressions, or its LAST_INSERT_ID() after an insert id, is read back from its backend connection and tracked from then on. */
#ifndef WP_READBACK_H
#define WP_READBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "my_cursor.h"
#include "my_vars.h"

struct client;
struct server;

/* readback_start sends warmpool's own "SELECT @@session.a, ..." for the
 * names in |names| on the client's backend connection, right after the
 * SET's OK and before any other command (the client's next commands wait
 * in c->in until the answer is in: see client_relay). Takes |names|'s
 * contents. False when it could not be sent (the caller pins). */
bool readback_start(struct client *c, struct my_vars *names);

/* readback_insert_id_start sends warmpool's own "SELECT LAST_INSERT_ID()"
 * on the client's backend connection, right after a response whose OK
 * carried an insert id (generated, or written explicitly: the OK does not
 * tell, the server's value changes only for a generated one). The client is
 * held there and its next commands wait until the answer is in. False when
 * it could not be sent (the caller pins). */
bool readback_insert_id_start(struct client *c);

/* readback_query_begin starts warmpool's own COM_QUERY on the client's
 * backend connection, between the client's commands (the text follows in
 * |b|); false when a command is still unanswered there. readback_query_send
 * sends it: its answer is kept (readback_reply) and handed over whole
 * (readback_ended). Used by commit_marker.c too. */
bool readback_query_begin(struct client *c, struct my_bld *b);
void readback_query_send(struct client *c, struct my_bld *b);

/* readback_reply keeps |len| bytes of the answer (server_relay swallows
 * them, like the setup's replies); false when it is oversized (the
 * connection is closed). */
bool readback_reply(struct server *s, const uint8_t *data, size_t len);

/* readback_ended: the whole answer is in. The values (or the insert id)
 * are tracked for the client and its connection (or, if one has no exact
 * literal or the read failed, the client is pinned), and the client's
 * commands go on. */
void readback_ended(struct server *s);

#endif
