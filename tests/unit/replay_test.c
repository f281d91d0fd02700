/* replay_test: the transaction log of io/replay.c: what it keeps, and how a replay's answers are checked. */
#include <criterion/criterion.h>
#include <string.h>

#include "replay.h"

/* frame writes a command frame (sequence 0) of |sql| into |out|; its length. */
static size_t frame(uint8_t *out, const char *sql)
{
	size_t n = strlen(sql) + 1;
	out[0] = (uint8_t)n;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)(n >> 16);
	out[3] = 0;
	out[4] = 0x03;
	memcpy(out + 5, sql, n - 1);
	return 4 + n;
}

/* run sends |sql| through |log| with |answer| as its answer; |in_tx|: a
 * transaction is open after it. */
static void run(struct replay_log *log, const char *sql, const char *answer, bool in_tx)
{
	uint8_t f[256];
	size_t n = frame(f, sql);
	replay_log_keep(log, f, n, true, 1024);
	replay_log_sent(log, 0x03);
	replay_log_feed(log, (const uint8_t *)answer, strlen(answer));
	replay_log_answered(log, in_tx);
}

/* answer feeds a replayed statement's answer and checks it. */
static enum replay_check answer(struct replay_log *log, const char *bytes, const uint8_t **next,
				size_t *next_len)
{
	replay_log_sent(log, 0x03);
	log->awaiting = true;
	replay_log_feed(log, (const uint8_t *)bytes, strlen(bytes));
	return replay_log_check(log, next, next_len);
}

Test(replay, keeps_the_open_transaction_and_runs_it_again)
{
	struct replay_log log = {0};
	run(&log, "SELECT 1", "one", false); /* autocommit: not kept */
	cr_expect_not(replay_log_replayable(&log));
	run(&log, "BEGIN", "ok", true);
	run(&log, "UPDATE t SET a = 1", "ok 1 row", true);
	cr_assert(replay_log_replayable(&log));
	cr_expect_eq(log.n, 2);
	const uint8_t *f;
	size_t len;
	replay_log_begin(&log, &f, &len);
	cr_expect_eq(len, 4 + 1 + 5);
	cr_expect(memcmp(f + 5, "BEGIN", 5) == 0);
	cr_expect_eq(answer(&log, "ok", &f, &len), REPLAY_CHECK_NEXT);
	cr_expect(memcmp(f + 5, "UPDATE t SET a = 1", 18) == 0);
	cr_expect_eq(answer(&log, "ok 1 row", &f, &len), REPLAY_CHECK_DONE);
	cr_expect_not(log.running);
	run(&log, "COMMIT", "ok", false); /* over: the log empties */
	cr_expect_eq(log.n, 0);
	replay_log_clear(&log);
}

Test(replay, a_different_answer_stops_the_replay)
{
	struct replay_log log = {0};
	run(&log, "BEGIN", "ok", true);
	run(&log, "SELECT v FROM t", "10", true);
	const uint8_t *f;
	size_t len;
	replay_log_begin(&log, &f, &len);
	cr_expect_eq(answer(&log, "ok", &f, &len), REPLAY_CHECK_NEXT);
	cr_expect_eq(answer(&log, "11", &f, &len), REPLAY_CHECK_DIFFERENT);
	cr_expect_not(log.running);
	replay_log_clear(&log);
}

Test(replay, a_statement_not_kept_breaks_the_transaction_until_it_ends)
{
	struct replay_log log = {0};
	uint8_t big[1500] = {0}; /* over the bound of 1024 */
	run(&log, "BEGIN", "ok", true);
	replay_log_keep(&log, big, sizeof(big), true, 1024);
	replay_log_sent(&log, 0x03);
	replay_log_answered(&log, true);
	cr_expect_not(replay_log_replayable(&log));
	run(&log, "UPDATE t SET a = 2", "ok", true);
	cr_expect_not(replay_log_replayable(&log));
	run(&log, "COMMIT", "ok", false);
	run(&log, "BEGIN", "ok", true);
	cr_expect(replay_log_replayable(&log)); /* the next transaction is whole again */
	replay_log_forget_pending(&log, true); /* a prepare: neutral */
	replay_log_answered(&log, true);
	cr_expect(replay_log_replayable(&log));
	cr_expect_eq(log.n, 1);
	replay_log_clear(&log);
}
