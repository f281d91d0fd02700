/* replay: the statements of a client's open transaction and a digest of each answer, kept to run them again on a new backend connection and check they answer the same. */
#include "replay.h"

#include <string.h>

#include "my_frame.h"

const char *replay_outcome_str(enum replay_outcome outcome)
{
	switch (outcome) {
	case REPLAY_REPLAYED: return "replayed";
	case REPLAY_DIFFERENT_RESULT: return "different_result";
	case REPLAY_UNKNOWN_OUTCOME: return "unknown_outcome";
	case REPLAY_NOT_KEPT: return "not_kept";
	case REPLAY_LOST_AGAIN: return "lost_again";
	case REPLAY_COMMITTED: return "committed";
	case REPLAY_OUTCOME_COUNT: break;
	}
	return "unknown";
}

void replay_log_keep(struct replay_log *log, const uint8_t *frame, size_t len, bool stays,
		     size_t max_bytes)
{
	replay_log_forget_pending(log, false);
	if (buf_avail(&log->frames) + len > max_bytes ||
	    !buf_append(&log->pending, frame, len, max_bytes)) {
		replay_log_forget_pending(log, false);
		return;
	}
	log->pending_stays = stays;
}

void replay_log_forget_pending(struct replay_log *log, bool neutral)
{
	buf_cleanup(&log->pending);
	log->pending_stays = false;
	log->pending_commits = false;
	log->pending_neutral = neutral;
}

void replay_log_sent(struct replay_log *log, uint8_t cmd)
{
	my_digest_start(&log->digest, cmd);
}

void replay_log_feed(struct replay_log *log, const uint8_t *data, size_t len)
{
	my_digest_feed(&log->digest, data, len);
}

/* append_pending moves the statement just answered into the log, with the
 * digest of its answer; false when out of memory. */
static bool append_pending(struct replay_log *log)
{
	if (log->n == log->cap) {
		uint32_t cap = log->cap ? 2 * log->cap : 16;
		uint64_t *grown = try_realloc(log->digests, cap * sizeof(*grown));
		if (!grown)
			return false;
		log->digests = grown;
		log->cap = cap;
	}
	if (!buf_append(&log->frames, buf_head(&log->pending), buf_avail(&log->pending),
			BUF_NO_LIMIT))
		return false;
	log->digests[log->n++] = my_digest_end(&log->digest);
	return true;
}

void replay_log_answered(struct replay_log *log, bool in_transaction)
{
	if (!in_transaction) {
		buf_cleanup(&log->frames); /* thousands of clients: no memory kept between */
		log->n = 0;
		log->runs = 0;
		log->broken = false;
		log->wrote = false;
		log->insert_id_unread = false;
		log->marker = REPLAY_MARKER_NONE;
	} else if (!log->pending_neutral &&
		   (log->broken || log->pending_commits || buf_avail(&log->pending) == 0 ||
		    !append_pending(log))) {
		log->broken = true;
	}
	replay_log_forget_pending(log, false);
}

bool replay_log_replayable(const struct replay_log *log)
{
	return !log->broken && log->n > 0;
}

/* frame_at: the frame at |off| in the log (whole: the log holds only
 * whole frames); its length with the header. */
static size_t frame_at(const struct replay_log *log, size_t off)
{
	const uint8_t *p = buf_head(&log->frames) + off;
	return MY_FRAME_HEADER_LEN + ((size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16);
}

void replay_log_begin(struct replay_log *log, const uint8_t **out_frame, size_t *out_len)
{
	log->running = true;
	log->awaiting = false;
	log->marker = REPLAY_MARKER_NONE; /* the new connection's transaction has none yet */
	log->runs++;
	log->next = 0;
	log->next_off = 0;
	*out_frame = buf_head(&log->frames);
	*out_len = frame_at(log, 0);
}

enum replay_check replay_log_check(struct replay_log *log, const uint8_t **out_frame,
				   size_t *out_len)
{
	log->awaiting = false;
	if (my_digest_end(&log->digest) != log->digests[log->next]) {
		replay_log_stop(log);
		return REPLAY_CHECK_DIFFERENT;
	}
	log->next_off += frame_at(log, log->next_off);
	if (++log->next == log->n) {
		replay_log_stop(log);
		return REPLAY_CHECK_DONE;
	}
	*out_frame = buf_head(&log->frames) + log->next_off;
	*out_len = frame_at(log, log->next_off);
	return REPLAY_CHECK_NEXT;
}

void replay_log_stop(struct replay_log *log)
{
	log->running = false;
	log->awaiting = false;
}

void replay_log_clear(struct replay_log *log)
{
	buf_cleanup(&log->frames);
	buf_cleanup(&log->pending);
	buf_cleanup(&log->marker_error);
	xfree(log->digests);
	*log = (struct replay_log){0};
}
