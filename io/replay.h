/* replay: the statements of a client's open transaction and a digest of each answer, kept to run them again on a new backend connection and check they answer the same. */
#ifndef WP_REPLAY_H
#define WP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "my_digest.h"

/* Why a transaction lost with its connection was, or was not, run again
 * (replays_total{outcome}). */
enum replay_outcome {
	REPLAY_REPLAYED = 0,	     /* every statement answered the same: the client goes on */
	REPLAY_DIFFERENT_RESULT = 1, /* a statement answered otherwise: the client is told */
	REPLAY_UNKNOWN_OUTCOME = 2,  /* the statement in flight may have committed (COMMIT,
					an implicit commit): never run again */
	REPLAY_NOT_KEPT = 3,	     /* over replay_max_bytes, or a statement that is not kept */
	REPLAY_LOST_AGAIN = 4,	     /* the new connection died too */
	REPLAY_COMMITTED = 5,	     /* a COMMIT lost in flight had committed (its marker is
					there): the client gets its OK, nothing runs again */
	REPLAY_OUTCOME_COUNT = 6,
};
const char *replay_outcome_str(enum replay_outcome outcome);

/* The commit marker of the open transaction (replay_commit_marker). */
enum replay_marker {
	REPLAY_MARKER_NONE = 0,
	REPLAY_MARKER_WRITTEN, /* its row is written: a COMMIT lost in flight can be checked */
	REPLAY_MARKER_FAILED,  /* the write failed: its COMMIT goes without one */
};

/* One client's transaction log. The zero value is an empty log. */
struct replay_log {
	struct buf frames;  /* the transaction's statements, whole frames as the client
			       sent them (its statement ids), oldest first */
	uint64_t *digests;  /* per statement: the digest of its whole answer */
	uint32_t n, cap;
	bool broken;	    /* a statement of this transaction was not kept: no replay */
	bool wrote;	    /* a statement kept may have written (replay_commit_marker only) */
	bool insert_id_unread; /* LAST_INSERT_ID() after its last insert was lost with the
				  connection: read back once the replay ran it again */
	enum replay_marker marker; /* its commit marker (commit_marker.c) */
	uint64_t marker_key, marker_txn; /* ... the row written, when MARKER_WRITTEN */
	struct buf marker_error; /* ... the ERR payload that refused it, while probed */
	struct buf pending; /* the statement being answered, kept until its answer ends */
	bool pending_stays; /* ... which never commits (my_query_stays_in_transaction) */
	bool pending_commits; /* ... sent inside the transaction, and may have committed it
				 (BEGIN, COMMIT AND CHAIN, DDL) while a transaction stays open:
				 what the log holds before it may be committed, never replayed */
	bool pending_neutral; /* ... a command a transaction does not depend on (a prepare,
				 a ping): neither kept nor a reason not to replay */
	struct my_digest digest; /* of the answer so far */
	/* While the transaction runs again: */
	bool running;
	bool awaiting;	   /* a statement of the log is out, its answer not checked yet */
	uint32_t next;	   /* the statement whose answer is checked next */
	size_t next_off;   /* its offset in |frames| */
	uint32_t runs;	   /* times this transaction started running again */
};

/* replay_log_keep keeps a copy of the command frame |frame| (whole, |len|
 * bytes with its header) as the statement about to be answered, when the
 * log stays within |max_bytes| with it; |stays| says whether it never
 * commits. */
void replay_log_keep(struct replay_log *log, const uint8_t *frame, size_t len, bool stays,
		     size_t max_bytes);
/* replay_log_forget_pending: the command about to be answered is not kept;
 * |neutral|: the transaction does not depend on it. */
void replay_log_forget_pending(struct replay_log *log, bool neutral);
/* replay_log_sent: command |cmd| went out; the digest of its answer starts. */
void replay_log_sent(struct replay_log *log, uint8_t cmd);
/* replay_log_feed adds answer bytes to the digest. */
void replay_log_feed(struct replay_log *log, const uint8_t *data, size_t len);
/* replay_log_answered: an answer ended outside a replay. |in_transaction|:
 * a transaction is open after it, so the statement is part of it (kept, or
 * the log is broken); otherwise the transaction is over and the log empty. */
void replay_log_answered(struct replay_log *log, bool in_transaction);
/* replay_log_replayable: the log holds a whole transaction to run again. */
bool replay_log_replayable(const struct replay_log *log);

/* replay_log_begin starts running the log again (once more, after a run
 * whose connection died too); |*out_frame| and |*out_len| are its first
 * statement (to be sent). */
void replay_log_begin(struct replay_log *log, const uint8_t **out_frame, size_t *out_len);

/* What the answer of a statement run again says. */
enum replay_check {
	REPLAY_CHECK_NEXT = 0,	    /* the same: |*out_frame| is the next statement to send */
	REPLAY_CHECK_DONE = 1,	    /* the same, and it was the last: the replay is over */
	REPLAY_CHECK_DIFFERENT = 2, /* another answer: the replay is over, refused */
};
/* replay_log_check compares the answer just ended with the original. */
enum replay_check replay_log_check(struct replay_log *log, const uint8_t **out_frame,
				   size_t *out_len);

/* replay_log_stop ends a replay (the log is kept). */
void replay_log_stop(struct replay_log *log);
/* replay_log_clear empties the log (its memory too). */
void replay_log_clear(struct replay_log *log);

#endif
