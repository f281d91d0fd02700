/* readback: session values the proxy cannot see (variables a client set to expressions, LAST_INSERT_ID() after an insert id), read back on the same backend connection and tracked. */
#include "readback.h"

#include "client.h"
#include "commit_marker.h"
#include "log.h"
#include "my_frame.h"
#include "my_readback.h"
#include "my_result.h"
#include "server.h"
#include "worker.h"

/* An answer for at most MY_VARS_MAX variables of MY_VAR_VALUE_MAX bytes,
 * with their column definitions, fits well within this. */
#define READBACK_REPLY_MAX (256u << 10)

bool readback_query_begin(struct client *c, struct my_bld *b)
{
	struct server *s = c->server;
	if (!my_track_idle(&s->track) || !my_track_command(&s->track, COM_QUERY))
		return false;
	conn_bld_begin(&s->conn, b);
	my_bld_packet_begin(b, 0);
	my_bld_u8(b, COM_QUERY);
	return true;
}

/* The caller has recorded what is read back: a failed send closes the
 * connection, and client_backend_lost follows. */
void readback_query_send(struct client *c, struct my_bld *b)
{
	struct server *s = c->server;
	my_bld_packet_end(b);
	s->reading_back = true;
	c->conn.w->stats.holds_total[STATS_HOLD_READBACK]++;
	buf_reset(&s->readback_reply);
	conn_bld_send(&s->conn, b);
}

bool readback_start(struct client *c, struct my_vars *names)
{
	struct my_bld b;
	if (!readback_query_begin(c, &b))
		return false;
	my_readback_query(&b, names);
	my_vars_clear(&c->readback);
	c->readback = *names;
	*names = (struct my_vars){0};
	readback_query_send(c, &b);
	return true;
}

bool readback_insert_id_start(struct client *c)
{
	struct my_bld b;
	if (!readback_query_begin(c, &b))
		return false;
	my_readback_insert_id_query(&b);
	c->reading_insert_id = true;
	readback_query_send(c, &b);
	return true;
}

/* readback_insert_id_apply tracks the session's LAST_INSERT_ID() as read,
 * for the client and its connection. An answer that is not a value (MySQL
 * answers ERR 1053 as it shuts down) leaves the id the OK reported, as a
 * read-back lost with its connection does (client_insert_id_lost): a pin
 * would close the client when the restart takes the connection. */
static void readback_insert_id_apply(struct client *c, struct server *s)
{
	uint64_t id;
	struct my_cur reply = my_cur_make(buf_head(&s->readback_reply), buf_avail(&s->readback_reply));
	c->reading_insert_id = false;
	if (!my_readback_u64_parse(&id, reply)) {
		client_insert_id_changed(c, s, c->insert_id_reported);
		/* The connection's own value is unknown: no client's id matches
		 * this one, so the next client's is always set there. */
		s->insert_id = UINT64_MAX;
		log_info("LAST_INSERT_ID() could not be read back; the id its OK reported is kept",
			 "conn=c%llu server=s%llu id=%llu", (unsigned long long)c->conn.id,
			 (unsigned long long)s->conn.id, (unsigned long long)c->insert_id);
		return;
	}
	client_insert_id_changed(c, s, id);
	log_debug("LAST_INSERT_ID() read back and tracked", "conn=c%llu server=s%llu id=%llu",
		  (unsigned long long)c->conn.id, (unsigned long long)s->conn.id,
		  (unsigned long long)id);
}

/* readback_apply tracks the values read, or pins when they are not exact. */
static void readback_apply(struct client *c, struct server *s)
{
	struct my_vars got = {0};
	struct my_cur reply = my_cur_make(buf_head(&s->readback_reply), buf_avail(&s->readback_reply));
	if (!my_readback_parse(&got, &c->readback, reply) || !my_vars_apply(&c->vars, &got) ||
	    !my_vars_apply(&s->vars, &got)) {
		/* An ERR, a value with no exact literal, or out of memory: the
		 * connection alone knows the session now. */
		client_pin(c, MY_PIN_SET);
	} else {
		log_debug("session variables set by expression read back and tracked",
			  "conn=c%llu server=s%llu vars=%u", (unsigned long long)c->conn.id,
			  (unsigned long long)s->conn.id, (unsigned)got.n);
	}
	my_vars_clear(&got);
	my_vars_clear(&c->readback);
}

bool readback_reply(struct server *s, const uint8_t *data, size_t len)
{
	if (buf_append(&s->readback_reply, data, len, READBACK_REPLY_MAX))
		return true;
	conn_close(&s->conn, LOG_WARN, "oversized answer to warmpool's read-back");
	return false;
}

/* ended_by_the_server: the answer is ERR 1053 or 1927 and the read-back
 * is one the client's command waits for (LAST_INSERT_ID(), the commit
 * marker): the server ends the session (MySQL as it shuts down, after the
 * result's column definitions, and it closes without reading more). Relayed after it, the client's command
 * would be lost unanswered; it is a connection lost between commands
 * instead (client_backend_lost), where the transaction can run again. */
static bool ended_by_the_server(const struct client *c, const struct server *s)
{
	struct my_cur reply = my_cur_make(buf_head(&s->readback_reply), buf_avail(&s->readback_reply));
	return c && (c->reading_insert_id || c->marker != CLIENT_MARKER_IDLE) &&
	       my_err_ends_session(my_frames_err_code(reply));
}

void readback_ended(struct server *s)
{
	struct client *c = s->client;
	if (ended_by_the_server(c, s)) {
		conn_close(&s->conn, LOG_INFO, "the backend ended the session under warmpool's read-back");
		return;
	}
	s->reading_back = false;
	if (c && c->marker != CLIENT_MARKER_IDLE)
		commit_marker_answered(c, s);
	else if (c && c->reading_insert_id)
		readback_insert_id_apply(c, s);
	else if (c)
		readback_apply(c, s);
	buf_reset(&s->readback_reply);
	if (c && !s->conn.closing) /* closed: the client has been told (client_backend_lost) */
		client_after_local_answer(c);
}
