/* stmt_relay: server-side prepared statements follow the client across backend connections: ids rewritten, statements prepared again where missing. */
#include "stmt_relay.h"

#include <stdio.h>
#include <string.h>

#include "client.h"
#include "log.h"
#include "my_command.h"
#include "my_frame.h"
#include "my_result.h"
#include "server.h"
#include "worker.h"

bool stmt_is_command(uint8_t command)
{
	return my_command_rule(command) == MY_CMD_STATEMENT;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The head of the client's input, writable: ids are rewritten in place. */
static uint8_t *head_frame(struct client *c)
{
	return c->conn.in.data + c->conn.in.off;
}

/* head_len: the payload length of the frame at the head of c->in, whose
 * header has arrived. */
static uint32_t head_len(const struct client *c)
{
	struct my_cur h = my_cur_make(buf_head(&c->conn.in), buf_avail(&c->conn.in));
	uint32_t len;
	return my_cur_u24le(&h, &len) ? len : 0;
}

/* take_command consumes the command frame once it is all there; it
 * returns the command byte, or 0 while the frame is incomplete. */
static uint8_t take_command(struct client *c, uint32_t len)
{
	if (len >= MY_MAX_FRAME_PAYLOAD) {
		conn_close(&c->conn, LOG_INFO, "statement command over 16 MiB refused");
		return 0;
	}
	if (buf_avail(&c->conn.in) < MY_FRAME_HEADER_LEN + (size_t)len)
		return 0;
	uint8_t cmd = head_frame(c)[MY_FRAME_HEADER_LEN];
	buf_consume(&c->conn.in, MY_FRAME_HEADER_LEN + (size_t)len);
	return cmd;
}

/* answer_locally consumes the command frame (once it is all there) and,
 * unless it expects no reply, answers it with |message| (or OK when NULL). */
static enum stmt_step answer_locally(struct client *c, uint32_t len, uint16_t code,
				     const char *message)
{
	uint8_t cmd = take_command(c, len);
	if (cmd == 0)
		return STMT_WAIT;
	if (cmd == COM_STMT_SEND_LONG_DATA || cmd == COM_STMT_CLOSE)
		return STMT_HANDLED;
	if (client_replay_refuse_local_answer(c))
		return STMT_HANDLED;
	struct my_bld b;
	conn_bld_begin(&c->conn, &b);
	if (message) {
		my_err_build(&b, 1, code, "HY000", message);
	} else {
		struct my_ok ok = {.status = c->server ? c->server->track.status
						       : SERVER_STATUS_AUTOCOMMIT};
		my_ok_build(&b, 1, &ok);
	}
	conn_bld_send(&c->conn, &b);
	return STMT_HANDLED;
}

static enum stmt_step unknown_statement(struct client *c, uint32_t len, uint32_t id)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "Unknown prepared statement handler (%u) given to warmpool", id);
	return answer_locally(c, len, ER_UNKNOWN_STMT_HANDLER, msg);
}

/* client_prepare queues the text of a COM_STMT_PREPARE going to the
 * backend; its reply (stmt_server_prepare_reply) gives it an id. */
static enum stmt_step client_prepare(struct client *c, uint32_t len)
{
	struct stmt_pending *q = &c->prepares;
	size_t text_len = len - 1;
	if (text_len > MY_STMT_SQL_MAX)
		return answer_locally(c, len, ER_NET_PACKET_TOO_LARGE,
				      "warmpool: a prepared statement's text is limited to 1 MiB");
	if (c->stmts.n + q->n >= MY_STMTS_MAX)
		return answer_locally(c, len, ER_MAX_PREPARED_STMT_COUNT_REACHED,
				      "Can't create more than 1024 prepared statements per "
				      "connection through warmpool");
	size_t pending_bytes = 0;
	for (uint8_t i = 0; i < q->n; i++)
		pending_bytes += q->len[(q->head + i) % STMT_PENDING_MAX];
	if (c->stmts.sql_bytes + pending_bytes + text_len > MY_STMTS_SQL_BYTES)
		return answer_locally(c, len, ER_MAX_PREPARED_STMT_COUNT_REACHED,
				      "warmpool: the prepared statements of one connection are "
				      "limited to 4 MiB of text in all; close some first");
	if (q->n == STMT_PENDING_MAX)
		return answer_locally(c, len, ER_MAX_PREPARED_STMT_COUNT_REACHED,
				      "warmpool: too many COM_STMT_PREPARE pipelined");
	if (buf_avail(&c->conn.in) < MY_FRAME_HEADER_LEN + (size_t)len)
		return STMT_WAIT; /* the whole text first */
	char *sql = try_realloc(NULL, text_len + 1);
	if (!sql)
		return answer_locally(c, len, ER_MAX_PREPARED_STMT_COUNT_REACHED,
				      "warmpool: out of memory");
	memcpy(sql, head_frame(c) + MY_FRAME_HEADER_LEN + 1, text_len);
	sql[text_len] = '\0';
	/* A statement with session effects (SET, GET_LOCK, CREATE TEMPORARY,
	 * CALL...) pins now: it may run at any execute, and is never tracked. */
	struct my_session_change ch;
	my_classify(&ch, client_sql_mode(c), MY_TEXT_PREPARE, (const uint8_t *)sql, text_len);
	my_session_change_cleanup(&ch);
	struct my_stmt_traits traits = {
		.read = ch.read && ch.pin == MY_PIN_NONE, /* as my_query_is_read */
		.stays = c->conn.w->rt->cfg.listeners[c->listener_idx].replay_transactions &&
			 my_query_stays_in_transaction(client_sql_mode(c), (const uint8_t *)sql,
						       text_len),
		.begins = ch.begins && ch.pin == MY_PIN_NONE, /* as my_query_begins_transaction */
	};
	c->charset_unreadable = c->charset_unreadable || ch.charset_unreadable;
	if (ch.kill) {
		xfree(sql); /* its id would name a backend session at each execute */
		return answer_locally(c, len, ER_NOT_SUPPORTED_YET,
				      "warmpool interprets KILL only as a statement of its own");
	}
	client_pin(c, ch.pin);
	c->own_prepare_server = c->server->conn.id;
	c->own_prepare_seq = ++c->server->prepares_sent;
	size_t at = (q->head + q->n++) % STMT_PENDING_MAX;
	q->sql[at] = sql;
	q->len[at] = text_len;
	q->traits[at] = traits;
	return STMT_RELAY;
}

/* reprepare sends the statement's text to the backend; the reply is
 * swallowed (server_relay) and the client's command waits for it. */
static enum stmt_step reprepare(struct client *c, const struct my_stmt *st)
{
	struct server *s = c->server;
	struct my_bld b;
	conn_bld_begin(&s->conn, &b);
	my_stmt_prepare_build(&b, st->sql, st->sql_len);
	if (!conn_bld_send(&s->conn, &b))
		return STMT_WAIT; /* the connection is closing: the client hears of it */
	(void)my_track_command(&s->track, COM_STMT_PREPARE); /* idle: always fits */
	s->prepares_sent++; /* the server's "last prepared" is warmpool's now */
	s->repreparing = true;
	s->reprepare_for = st->id;
	buf_reset(&s->reprepare_error);
	c->stmt_blocked = true;
	log_debug("statement prepared again on another backend connection",
		  "conn=c%llu server=s%llu stmt=%u", (unsigned long long)c->conn.id,
		  (unsigned long long)s->conn.id, st->id);
	return STMT_WAIT;
}

/* execute_types makes sure the backend statement has the parameter types
 * the client's execute relies on: an execute that does not send them
 * (new_params_bound_flag 0) gets them written in when the backend
 * statement last saw others, or none. */
static enum stmt_step execute_types(struct client *c, uint32_t len, struct my_stmt *st,
				    struct my_cached_stmt *cs)
{
	struct my_cur p = my_cur_make(head_frame(c) + MY_FRAME_HEADER_LEN,
				      buf_avail(&c->conn.in) - MY_FRAME_HEADER_LEN);
	if (p.len > len)
		p.len = len;
	struct my_execute ex;
	if (!my_execute_parse(p, st->n_params, &ex))
		return p.len < len ? STMT_WAIT : STMT_RELAY; /* malformed: the server says so */
	if (ex.flags != 0)
		client_pin(c, MY_PIN_PREPARED_STATEMENT); /* a cursor: fetches follow here */
	if (st->n_params == 0)
		return STMT_RELAY;
	if (ex.types_bound) {
		if (!my_stmt_set_types(st, ex.types) || !my_cached_stmt_set_types(cs, ex.types))
			client_pin(c, MY_PIN_PREPARED_STATEMENT); /* out of memory */
		return STMT_RELAY;
	}
	if (!st->types_known || (cs->types_known &&
				 memcmp(cs->types, st->types, 2u * st->n_params) == 0))
		return STMT_RELAY;
	if (p.len < len)
		return STMT_WAIT; /* the whole packet, to rewrite it */
	if ((size_t)len + 2u * st->n_params >= MY_MAX_FRAME_PAYLOAD) {
		client_pin(c, MY_PIN_PREPARED_STATEMENT);
		return STMT_RELAY; /* the server will complain; nothing leaks */
	}
	/* Rebuild the frame with the types, followed by the rest of c->in. It
	 * names the client's id again: it goes through here once more. */
	struct buf rebuilt = {0};
	struct my_bld b;
	my_bld_init(&b, &rebuilt, BUF_NO_LIMIT);
	my_execute_build_with_types(&b, p, st->n_params, &ex, st->id, st->types);
	buf_consume(&c->conn.in, MY_FRAME_HEADER_LEN + (size_t)len);
	if (!my_bld_ok(&b) || !buf_append(&rebuilt, buf_head(&c->conn.in),
					  buf_avail(&c->conn.in), BUF_NO_LIMIT) ||
	    !my_cached_stmt_set_types(cs, st->types)) {
		buf_cleanup(&rebuilt);
		conn_close(&c->conn, LOG_ERROR, "out of memory");
		return STMT_WAIT;
	}
	buf_cleanup(&c->conn.in);
	c->conn.in = rebuilt;
	return STMT_AGAIN;
}

enum stmt_step stmt_client_command(struct client *c, uint32_t len)
{
	struct server *s = c->server;
	size_t have = buf_avail(&c->conn.in) - MY_FRAME_HEADER_LEN;
	uint8_t cmd = head_frame(c)[MY_FRAME_HEADER_LEN];
	if (cmd == COM_STMT_PREPARE)
		return client_prepare(c, len);
	if (len < 5 && cmd == COM_STMT_CLOSE)
		return answer_locally(c, len, 0, NULL); /* names nothing, has no reply */
	if (len < 5)
		return STMT_RELAY; /* no id: the server answers with an error */
	if (have < 5)
		return STMT_WAIT;
	uint8_t *idp = head_frame(c) + MY_FRAME_HEADER_LEN + MY_STMT_ID_OFFSET;
	uint32_t id = get_le32(idp);
	if (id == MY_STMT_LAST_PREPARED) {
		/* MariaDB's "the statement just prepared on this connection",
		 * pipelined behind its COM_STMT_PREPARE: it stays where it is, and
		 * only when that prepare was the client's own, on this connection,
		 * and the last one there; otherwise it would run whatever another
		 * client (or warmpool) prepared last. */
		if (c->own_prepare_server != s->conn.id || c->own_prepare_seq != s->prepares_sent)
			return unknown_statement(c, len, id);
		client_pin(c, MY_PIN_PREPARED_STATEMENT);
		return STMT_RELAY;
	}
	struct my_stmt *st = my_stmts_find(&c->stmts, id);
	if (cmd == COM_STMT_CLOSE) {
		client_long_data(c, cmd, id);
		my_stmts_remove(&c->stmts, id); /* the backend's may serve others */
		return answer_locally(c, len, 0, NULL); /* no reply: dropped */
	}
	bool answers = cmd != COM_STMT_SEND_LONG_DATA;
	if (answers && !my_track_idle(&s->track)) {
		c->stmt_blocked = true; /* after the responses in flight */
		return STMT_WAIT;
	}
	if (!st)
		return unknown_statement(c, len, id);
	struct my_cached_stmt *cs = my_stmt_cache_find(&s->stmts, st->sql, st->sql_len);
	if (!cs && cmd == COM_STMT_RESET)
		return answer_locally(c, len, 0, NULL); /* a fresh statement: nothing to reset */
	if (!cs && !my_track_idle(&s->track)) {
		c->stmt_blocked = true;
		return STMT_WAIT;
	}
	if (!cs && have < len && len < MY_MAX_FRAME_PAYLOAD)
		return STMT_WAIT; /* all of it first: a failed prepare answers it whole */
	if (!cs)
		return reprepare(c, st);
	if (cs->n_params != st->n_params) /* a backend that contradicts itself */
		return answer_locally(c, len, ER_UNKNOWN_STMT_HANDLER,
				      "warmpool: the backend prepared the statement differently "
				      "on another connection");
	if (cmd == COM_STMT_EXECUTE) {
		enum stmt_step step = execute_types(c, len, st, cs);
		if (step != STMT_RELAY)
			return step; /* the frame comes through here again, with the client's id */
	}
	/* Only now: a frame rewritten and then waited for would be read again
	 * with the backend's id taken for one of the client's. */
	put_le32(idp, cs->backend_id);
	if (cmd == COM_STMT_BULK_EXECUTE)
		client_pin(c, MY_PIN_PREPARED_STATEMENT); /* state kept on the backend */
	else
		client_long_data(c, cmd, id); /* long data holds its connection until used */
	return STMT_RELAY;
}

bool stmt_execute_is_read(struct client *c, const uint8_t *payload, uint32_t len)
{
	if (len < 5)
		return false;
	const struct my_stmt *st = my_stmts_find(&c->stmts, get_le32(payload + MY_STMT_ID_OFFSET));
	return st && st->traits.read;
}

bool stmt_execute_begins_transaction(struct client *c, const uint8_t *payload, uint32_t len)
{
	if (len < 5)
		return false;
	const struct my_stmt *st = my_stmts_find(&c->stmts, get_le32(payload + MY_STMT_ID_OFFSET));
	return st && st->traits.begins;
}

bool stmt_execute_stays_in_transaction(struct client *c, const uint8_t *payload, uint32_t len)
{
	if (len < 5)
		return false;
	const struct my_stmt *st = my_stmts_find(&c->stmts, get_le32(payload + MY_STMT_ID_OFFSET));
	return st && st->traits.stays;
}

bool stmt_execute_text(struct client *c, const uint8_t *payload, uint32_t len,
		       const uint8_t **out_sql, size_t *out_len)
{
	if (len < 5)
		return false;
	const struct my_stmt *st = my_stmts_find(&c->stmts, get_le32(payload + MY_STMT_ID_OFFSET));
	if (!st)
		return false;
	*out_sql = (const uint8_t *)st->sql;
	*out_len = st->sql_len;
	return true;
}

bool stmt_client_close_idle(struct client *c)
{
	struct buf *in = &c->conn.in;
	const uint8_t *f = buf_head(in);
	if (buf_avail(in) <= MY_FRAME_HEADER_LEN || f[MY_FRAME_HEADER_LEN] != COM_STMT_CLOSE)
		return false;
	uint32_t len = head_len(c);
	if (buf_avail(in) < MY_FRAME_HEADER_LEN + (size_t)len)
		return false;
	/* One without a whole id names nothing: dropped all the same, as it
	 * has no reply to wait for. */
	if (len >= 5)
		my_stmts_remove(&c->stmts, get_le32(f + MY_FRAME_HEADER_LEN + MY_STMT_ID_OFFSET));
	buf_consume(in, MY_FRAME_HEADER_LEN + (size_t)len);
	return true;
}

/* pop_prepare takes the oldest queued prepare text (NULL: none), its
 * length and what it is. */
static char *pop_prepare(struct client *c, size_t *len, struct my_stmt_traits *out_traits)
{
	struct stmt_pending *q = &c->prepares;
	if (q->n == 0)
		return NULL;
	char *sql = q->sql[q->head];
	*len = q->len[q->head];
	*out_traits = q->traits[q->head];
	q->sql[q->head] = NULL;
	q->head = (uint8_t)((q->head + 1) % STMT_PENDING_MAX);
	q->n--;
	return sql;
}

/* cache_prepared records a statement the backend prepared on |s|, closing
 * the ones it pushes out of a full cache. */
static struct my_cached_stmt *cache_prepared(struct server *s, const char *sql, size_t len,
					     uint32_t backend_id, uint16_t params)
{
	uint32_t evicted;
	struct my_bld b;
	conn_bld_begin(&s->conn, &b);
	while ((evicted = my_stmt_cache_make_room(&s->stmts, len)) != 0)
		my_stmt_command_build(&b, COM_STMT_CLOSE, evicted);
	if (!conn_bld_send(&s->conn, &b))
		return NULL;
	return my_stmt_cache_add(&s->stmts, sql, len, backend_id, params);
}

/* keep_reprepare_error keeps what the client will be told about warmpool's
 * own prepare: the server's ERR as it came (|payload|, up to
 * STMT_REPLY_HEAD bytes of it), or, when the server said OK to something
 * else than the statement (NULL), an ERR of warmpool's. */
static void keep_reprepare_error(struct server *s, const uint8_t *payload, size_t have)
{
	struct my_bld b;
	buf_reset(&s->reprepare_error);
	my_bld_init(&b, &s->reprepare_error, STMT_REPLY_HEAD);
	if (payload && have > 0 && payload[0] == MY_ERR_HEADER) {
		my_bld_bytes(&b, payload, have < STMT_REPLY_HEAD ? have : STMT_REPLY_HEAD);
	} else {
		static const char msg[] = "warmpool: the backend prepared the statement "
					  "differently on another connection";
		my_bld_u8(&b, MY_ERR_HEADER);
		my_bld_u16le(&b, ER_UNKNOWN_STMT_HANDLER);
		my_bld_bytes(&b, "#HY000", 6);
		my_bld_bytes(&b, msg, sizeof(msg) - 1);
	}
	if (!my_bld_ok(&b) || buf_avail(&s->reprepare_error) == 0)
		buf_reset(&s->reprepare_error);
}

void stmt_server_prepare_reply(struct server *s, uint8_t *payload, size_t have)
{
	struct client *c = s->client;
	uint32_t backend_id;
	uint16_t columns, params;
	bool ok = my_prepare_ok_parse(my_cur_make(payload, have), &backend_id, &columns, &params);
	if (s->repreparing) {
		struct my_stmt *st = c ? my_stmts_find(&c->stmts, s->reprepare_for) : NULL;
		/* The same text prepares with the same parameters; a server that
		 * says otherwise would have executes read past their types. */
		if (ok && st && params == st->n_params &&
		    cache_prepared(s, st->sql, st->sql_len, backend_id, params))
			return;
		keep_reprepare_error(s, ok ? NULL : payload, have);
		return;
	}
	size_t sql_len;
	struct my_stmt_traits traits = {0};
	char *sql = c ? pop_prepare(c, &sql_len, &traits) : NULL;
	if (ok && sql) {
		uint32_t id = my_stmts_add(&c->stmts, (const uint8_t *)sql, sql_len, params);
		struct my_stmt *st = my_stmts_find(&c->stmts, id);
		if (st) {
			st->traits = traits;
		}
		if (!cache_prepared(s, sql, sql_len, backend_id, params))
			client_pin(c, MY_PIN_PREPARED_STATEMENT); /* out of memory */
		put_le32(payload + MY_STMT_ID_OFFSET, id); /* 0 (out of memory): unknown later */
	}
	xfree(sql);
}

void stmt_server_reprepared(struct server *s)
{
	struct client *c = s->client;
	struct my_cur err = my_cur_make(buf_head(&s->reprepare_error), buf_avail(&s->reprepare_error));
	if (c && my_err_ends_session(my_err_code(err))) {
		/* MySQL answers ERR 1053 as it shuts down, and closes: the
		 * client's command never went, so the connection is lost between
		 * its commands (client_backend_lost: s->repreparing), where the
		 * transaction can run again, not answered with that ERR. */
		buf_reset(&s->reprepare_error);
		conn_close(&s->conn, LOG_INFO, "the backend ended the session under warmpool's prepare");
		return;
	}
	s->repreparing = false;
	if (!c)
		return;
	c->stmt_blocked = false;
	if (buf_avail(&s->reprepare_error) > 0) {
		/* The statement no longer prepares (a table dropped...): the
		 * command that needed it gets the server's ERR as it came, with
		 * its code and SQLSTATE. */
		uint8_t cmd = take_command(c, head_len(c)); /* whole: see stmt_client_command */
		if (cmd != 0 && cmd != COM_STMT_SEND_LONG_DATA &&
		    !client_replay_refuse_local_answer(c)) {
			struct my_bld b;
			conn_bld_begin(&c->conn, &b);
			my_bld_packet_begin(&b, 1);
			my_bld_bytes(&b, buf_head(&s->reprepare_error),
				     buf_avail(&s->reprepare_error));
			my_bld_packet_end(&b);
			conn_bld_send(&c->conn, &b);
		}
		buf_reset(&s->reprepare_error);
		client_after_local_answer(c);
		return;
	}
	c->conn.ops->on_input(&c->conn);
}

void stmt_server_forget(struct server *s)
{
	my_stmt_cache_clear(&s->stmts);
}

void stmt_server_invalidate(struct server *s, struct my_bld *b)
{
	uint32_t id;
	while ((id = my_stmt_cache_pop(&s->stmts)) != 0)
		my_stmt_command_build(b, COM_STMT_CLOSE, id);
}

void stmt_client_prepares_lost(struct client *c)
{
	size_t len;
	struct my_stmt_traits traits;
	char *sql;
	while ((sql = pop_prepare(c, &len, &traits)))
		xfree(sql);
}

void stmt_client_forget(struct client *c)
{
	my_stmts_clear(&c->stmts);
}
