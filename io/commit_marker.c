/* commit_marker: with replay_commit_marker, a transaction that could run again writes a row just before its COMMIT, so that a COMMIT lost in flight is known committed or not from a new connection instead of unknown. */
#include "commit_marker.h"

#include <stdatomic.h>
#include <string.h>

#include "client.h"
#include "log.h"
#include "my_marker.h"
#include "my_proto.h"
#include "my_readback.h"
#include "readback.h"
#include "server.h"
#include "worker.h"

/* Checks of one lost COMMIT whose own connection died too, before the
 * client is told its outcome is unknown. */
#define MARKER_CHECKS_MAX 3

static const char *marker_table(const struct client *c)
{
	return c->conn.w->rt->cfg.listeners[c->listener_idx].replay_commit_marker;
}

bool commit_marker_write(struct client *c)
{
	struct server *s = c->server;
	struct my_bld b;
	if (!readback_query_begin(c, &b))
		return false;
	my_marker_write_query(&b, marker_table(c), s->marker_key, ++s->marker_txn);
	c->marker = CLIENT_MARKER_WRITING;
	readback_query_send(c, &b);
	return true;
}

void commit_marker_check(struct client *c)
{
	struct my_bld b;
	if (!readback_query_begin(c, &b)) { /* a fresh connection: never so */
		c->marker = CLIENT_MARKER_IDLE;
		client_lost_commit_settled(c, LOST_COMMIT_UNKNOWN);
		return;
	}
	my_marker_check_query(&b, marker_table(c), c->replay.marker_key, c->replay.marker_txn);
	c->marker = CLIENT_MARKER_CHECKING;
	readback_query_send(c, &b);
}

/* write_failed: the COMMIT goes without a marker. A table that is missing or
 * not writable fails every write: said once as a warning, then at debug. */
static void write_failed(struct client *c, const struct my_err *err)
{
	static atomic_bool warned;
	bool first = !atomic_exchange(&warned, true);
	c->replay.marker = REPLAY_MARKER_FAILED;
	c->conn.w->stats.commit_markers_failed_total++;
	log_at(first ? LOG_WARN : LOG_DEBUG,
	       "commit marker not written; a COMMIT lost in flight keeps an unknown outcome",
	       "conn=c%llu table=%s code=%u error=\"%s\"", (unsigned long long)c->conn.id,
	       marker_table(c), (unsigned)err->code, err->message);
}

/* check_unanswerable: the check could not tell committed from not, or an
 * OK could not stand for the lost COMMIT's (NULL): a table that is not
 * InnoDB makes every check so, a session whose completion_type was not
 * NO_CHAIN (the server's global, a trigger) those of its COMMITs. Said once
 * as a warning, like a table that refuses the write, then at debug. */
static void check_unanswerable(const struct client *c, enum my_readback_u64 answer,
			       const struct my_err *err)
{
	static atomic_bool warned;
	if (answer == MY_READBACK_U64_NULL) {
		bool first = !atomic_exchange(&warned, true);
		log_at(first ? LOG_WARN : LOG_DEBUG,
		       "commit marker table is not InnoDB, or the lost session's completion_type "
		       "was not NO_CHAIN: a COMMIT lost in flight keeps an unknown outcome",
		       "conn=c%llu table=%s", (unsigned long long)c->conn.id, marker_table(c));
		return;
	}
	log_info("the marker row of a COMMIT lost in flight could not be read",
		 "conn=c%llu code=%u error=\"%s\"", (unsigned long long)c->conn.id,
		 (unsigned)err->code, err->message);
}

/* first_payload: the payload of the first frame of |reply|. */
static bool first_payload(struct my_cur reply, struct my_cur *payload)
{
	uint32_t len;
	uint8_t seq;
	return my_cur_u24le(&reply, &len) && my_cur_u8(&reply, &seq) &&
	       my_cur_bytes(&reply, payload, len);
}

/* write_refused: the server refused the row. Most errors leave the
 * transaction as it was (a missing table, a privilege, a read-only
 * transaction or server), but some roll it back whole (a deadlock, a lock
 * wait with innodb_rollback_on_timeout, the lock table full): its COMMIT
 * would then be answered OK with nothing committed. "DO 0" tells which
 * (its OK's SERVER_STATUS_IN_TRANS) before the COMMIT goes (probed). */
static void write_refused(struct client *c, struct my_cur reply)
{
	struct my_cur payload;
	struct my_bld b;
	if (!first_payload(reply, &payload) ||
	    !buf_append(&c->replay.marker_error, payload.ptr, payload.len, BUF_NO_LIMIT) ||
	    !readback_query_begin(c, &b)) {
		client_commit_refused(c);
		return;
	}
	my_bld_bytes(&b, "DO 0", 4);
	c->marker = CLIENT_MARKER_PROBING;
	readback_query_send(c, &b);
}

/* probed: the answer to "DO 0" after a refused row. */
static void probed(struct client *c, struct my_cur reply)
{
	struct my_cur payload;
	struct my_ok ok;
	struct my_err err;
	if (!first_payload(reply, &payload) || !my_ok_parse(payload, &ok) ||
	    !(ok.status & SERVER_STATUS_IN_TRANS)) {
		client_commit_refused(c); /* rolled back: the COMMIT gets the row's error */
		return;
	}
	struct buf *saved = &c->replay.marker_error;
	if (!my_err_parse(my_cur_make(buf_head(saved), buf_avail(saved)), &err))
		memset(&err, 0, sizeof(err));
	buf_cleanup(saved);
	write_failed(c, &err);
}

/* release: the check's locking read opened a transaction (the session has
 * autocommit off): its locks would be held while the transaction runs
 * again there, and another client's marker row could wait on them, or
 * deadlock. It is rolled back before |outcome| is acted on. */
static void release(struct client *c, enum lost_commit outcome)
{
	struct my_bld b;
	if (!readback_query_begin(c, &b)) { /* never so: the check's answer ended */
		client_lost_commit_settled(c, outcome);
		return;
	}
	my_bld_bytes(&b, "ROLLBACK", 8);
	c->marker = CLIENT_MARKER_RELEASING;
	c->marker_found = outcome;
	readback_query_send(c, &b);
}

/* written: the row is in the transaction; its COMMIT may go. */
static void written(struct client *c, const struct server *s)
{
	c->replay.marker = REPLAY_MARKER_WRITTEN;
	c->replay.marker_key = s->marker_key;
	c->replay.marker_txn = s->marker_txn;
}

void commit_marker_answered(struct client *c, struct server *s)
{
	struct my_cur reply = my_cur_make(buf_head(&s->readback_reply), buf_avail(&s->readback_reply));
	struct my_err err;
	bool ok = my_marker_reply_ok(reply, &err);
	enum client_marker step = c->marker;
	c->marker = CLIENT_MARKER_IDLE;
	if (step == CLIENT_MARKER_WRITING) {
		if (ok)
			written(c, s);
		else
			write_refused(c, reply);
		return;
	}
	if (step == CLIENT_MARKER_PROBING) {
		probed(c, reply);
		return;
	}
	if (step == CLIENT_MARKER_RELEASING) {
		client_lost_commit_settled(c, c->marker_found);
		return;
	}
	uint64_t found;
	enum lost_commit outcome = LOST_COMMIT_UNKNOWN;
	enum my_readback_u64 answer = my_readback_u64_read(&found, reply);
	if (answer == MY_READBACK_U64_VALUE)
		outcome = found > 0 ? LOST_COMMIT_COMMITTED : LOST_COMMIT_ROLLED_BACK;
	else
		check_unanswerable(c, answer, &err);
	if (s->track.status & SERVER_STATUS_IN_TRANS)
		release(c, outcome);
	else
		client_lost_commit_settled(c, outcome);
}

bool commit_marker_lost(struct client *c)
{
	if (c->marker == CLIENT_MARKER_WRITING || c->marker == CLIENT_MARKER_PROBING) {
		c->marker = CLIENT_MARKER_IDLE; /* the transaction is lost: it runs again */
		buf_cleanup(&c->replay.marker_error);
		return true;
	}
	if (c->marker != CLIENT_MARKER_CHECKING && c->marker != CLIENT_MARKER_RELEASING)
		return false; /* released or not, the check runs again on the next connection */
	c->marker = ++c->marker_checks < MARKER_CHECKS_MAX ? CLIENT_MARKER_CHECK_DUE
							    : CLIENT_MARKER_IDLE;
	if (c->marker == CLIENT_MARKER_IDLE)
		client_lost_commit_settled(c, LOST_COMMIT_UNKNOWN);
	return true;
}
