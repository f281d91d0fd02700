/* pool_test: acquire/release, the FIFO wait queue, connect wants, backoff, idle timeout and max age. */
#include <criterion/criterion.h>
#include <signal.h>

#include "pool.h"

static struct pool p;
static struct pool_conn conns[4];
static struct pool_waiter waiters[4];
static uint64_t now;

static void setup(void)
{
	now = 0;
	pool_init(&p, &now, 1, 2, 42);
	memset(conns, 0, sizeof(conns));
	memset(waiters, 0, sizeof(waiters));
}

TestSuite(pool, .init = setup);

Test(pool, prewarm_wants_min_idle_then_nothing)
{
	cr_expect_eq(pool_connects_wanted(&p, 0), 1);
	pool_conn_add(&p, &conns[0]);
	cr_expect_eq(pool_connects_wanted(&p, 0), 0); /* one is on its way */
	cr_expect_null(pool_conn_ready(&p, &conns[0]));
	cr_expect_eq(p.counts[POOL_CONN_IDLE], 1);
	cr_expect_eq(pool_connects_wanted(&p, 0), 0);
}

Test(pool, acquire_lends_idle_and_release_path_returns_it)
{
	pool_conn_add(&p, &conns[0]);
	pool_conn_ready(&p, &conns[0]);
	struct pool_conn *got = pool_acquire(&p, &waiters[0], 100);
	cr_assert_eq(got, &conns[0]);
	cr_expect_eq(conns[0].state, POOL_CONN_ACTIVE);
	cr_expect_not(waiters[0].queued);
	/* min_idle is 1 and none is idle now: another is wanted. */
	cr_expect_eq(pool_connects_wanted(&p, 0), 1);
	pool_conn_set_state(&p, &conns[0], POOL_CONN_RESETTING);
	cr_expect_null(pool_conn_ready(&p, &conns[0]));
	cr_expect_eq(conns[0].state, POOL_CONN_IDLE);
}

Test(pool, a_connection_being_reset_counts_as_idle_soon)
{
	pool_conn_add(&p, &conns[0]);
	pool_conn_ready(&p, &conns[0]);
	cr_assert_eq(pool_acquire(&p, &waiters[0], 100), &conns[0]);
	cr_expect_eq(pool_connects_wanted(&p, 0), 1); /* none idle: min_idle wants one */
	pool_conn_set_state(&p, &conns[0], POOL_CONN_RESETTING);
	cr_expect_eq(pool_connects_wanted(&p, 0), 0); /* given back: idle once reset */
	cr_expect_null(pool_acquire(&p, &waiters[1], 100));
	cr_expect_eq(pool_connects_wanted(&p, 0), 1); /* a waiter besides */
}

Test(pool, waiters_are_served_first_in_first_out)
{
	cr_expect_null(pool_acquire(&p, &waiters[0], 100));
	cr_expect_null(pool_acquire(&p, &waiters[1], 200));
	cr_expect_eq(p.n_waiters, 2);
	/* Two waiters, min_idle 1, max 2: two connects wanted. */
	cr_expect_eq(pool_connects_wanted(&p, 0), 2);
	pool_conn_add(&p, &conns[0]);
	pool_conn_add(&p, &conns[1]);
	cr_expect_eq(pool_connects_wanted(&p, 0), 0); /* at max_conns */
	cr_expect_eq(pool_conn_ready(&p, &conns[1]), &waiters[0]);
	cr_expect_eq(conns[1].state, POOL_CONN_ACTIVE);
	cr_expect_eq(pool_conn_ready(&p, &conns[0]), &waiters[1]);
	cr_expect_eq(p.n_waiters, 0);
}

Test(pool, expired_waiters_leave_in_order)
{
	cr_expect_null(pool_acquire(&p, &waiters[0], 100));
	cr_expect_null(pool_acquire(&p, &waiters[1], 200));
	cr_expect_null(pool_waiter_pop_expired(&p, 99));
	cr_expect_eq(pool_waiter_pop_expired(&p, 150), &waiters[0]);
	cr_expect_null(pool_waiter_pop_expired(&p, 150));
	pool_waiter_cancel(&p, &waiters[1]);
	cr_expect_eq(p.n_waiters, 0);
	pool_waiter_cancel(&p, &waiters[1]); /* twice is harmless */
	cr_expect_eq(p.n_waiters, 0);
}

Test(pool, removal_from_any_state)
{
	pool_conn_add(&p, &conns[0]);
	pool_conn_remove(&p, &conns[0]);
	cr_expect_eq(pool_total(&p), 0);
	pool_conn_remove(&p, &conns[0]);
	cr_expect_eq(pool_total(&p), 0);
}

Test(pool, impossible_transition_aborts, .signal = SIGABRT)
{
	pool_conn_add(&p, &conns[0]);
	pool_conn_ready(&p, &conns[0]);		    /* IDLE */
	pool_conn_set_state(&p, &conns[0], POOL_CONN_RESETTING); /* IDLE -> RESETTING: never */
}

/* A failed login backs off exponentially even while a client waits: the
 * server did work for it. */
Test(pool, backoff_grows_with_jitter_and_probes_one_at_a_time)
{
	cr_expect_null(pool_acquire(&p, &waiters[0], 10000));
	now = 1000;
	uint64_t last_delay = 0;
	for (int i = 1; i <= 8; i++) {
		pool_connect_failed(&p, now, POOL_FAILURE_OTHER, "Access denied");
		uint64_t delay = p.next_connect_ms - now;
		uint64_t nominal = 100u << (i - 1 < 6 ? i - 1 : 6);
		if (nominal > 500)
			nominal = 500;
		cr_expect(delay >= nominal * 3 / 4 && delay <= nominal * 5 / 4, "attempt %d: %lu", i,
			  (unsigned long)delay);
		cr_expect_eq(pool_connects_wanted(&p, now + nominal * 3 / 4 - 1), 0, "backing off");
		cr_expect_eq(pool_retry_due_ms(&p), p.next_connect_ms);
		last_delay = delay;
	}
	cr_expect(last_delay <= 625);
	cr_expect_str_eq(p.last_error, "Access denied");
	/* After the backoff: exactly one probe, even with more wanted. */
	cr_expect_eq(pool_connects_wanted(&p, now + 10000), 1);
	pool_connect_succeeded(&p);
	cr_expect_str_eq(p.last_error, "");
	cr_expect_eq(pool_connects_wanted(&p, now), 2);
}

/* A refused connect costs the server nothing: while a client waits, the
 * pool tries again within 25 ms +-25%, however long the backend has been
 * down, so the waiting query runs soon after the server listens again. */
Test(pool, a_refused_connect_is_retried_soon_while_a_client_waits)
{
	cr_expect_null(pool_acquire(&p, &waiters[0], 100000));
	now = 1000;
	for (int i = 1; i <= 20; i++) {
		pool_connect_failed(&p, now, POOL_FAILURE_REFUSED, "Connection refused");
		uint64_t due = pool_retry_due_ms(&p);
		cr_expect(due >= now + 18 && due <= now + 31, "attempt %d: in %lu ms", i,
			  (unsigned long)(due - now));
		cr_expect_eq(pool_connects_wanted(&p, due - 1), 0, "attempt %d", i);
		cr_expect_eq(pool_connects_wanted(&p, due), 1, "attempt %d", i);
		now = due;
	}
}

/* Refusals with nobody waiting (keeping min_idle warm) back off as before;
 * a client who starts waiting gets the short retry at once. */
Test(pool, refusals_back_off_while_no_client_waits)
{
	now = 1000;
	pool_connect_failed(&p, now, POOL_FAILURE_REFUSED, "Connection refused");
	pool_connect_failed(&p, now, POOL_FAILURE_REFUSED, "Connection refused");
	cr_expect_geq(pool_retry_due_ms(&p), now + 150, "the second step: 200 ms +-25%%");
	cr_expect_eq(pool_connects_wanted(&p, now + 149), 0);
	cr_expect_null(pool_acquire(&p, &waiters[0], 100000));
	cr_expect_leq(pool_retry_due_ms(&p), now + 31);
	cr_expect_eq(pool_connects_wanted(&p, now + 31), 1);
}

/* After the server accepted (it listens again), a failure backs off even
 * if the ones before were refusals. */
Test(pool, a_failed_login_after_refusals_backs_off)
{
	cr_expect_null(pool_acquire(&p, &waiters[0], 100000));
	now = 1000;
	pool_connect_failed(&p, now, POOL_FAILURE_REFUSED, "Connection refused");
	pool_connect_failed(&p, now, POOL_FAILURE_OTHER, "Server shutdown in progress");
	cr_expect_geq(pool_retry_due_ms(&p), now + 150);
	cr_expect_eq(pool_connects_wanted(&p, now + 31), 0);
}

/* The owner's timer: none needed unless backing off with a connect wanted. */
Test(pool, retry_due_only_while_backing_off_with_a_connect_wanted)
{
	cr_expect_eq(pool_retry_due_ms(&p), UINT64_MAX, "not failing");
	p.min_idle = 0;
	pool_connect_failed(&p, now, POOL_FAILURE_REFUSED, "Connection refused");
	cr_expect_eq(pool_retry_due_ms(&p), UINT64_MAX, "nothing wanted");
	cr_expect_null(pool_acquire(&p, &waiters[0], 100000));
	cr_expect_neq(pool_retry_due_ms(&p), UINT64_MAX);
	pool_conn_add(&p, &conns[0]);
	cr_expect_eq(pool_retry_due_ms(&p), UINT64_MAX, "a probe is in flight");
	pool_conn_remove(&p, &conns[0]);
	pool_connect_succeeded(&p);
	cr_expect_eq(pool_retry_due_ms(&p), UINT64_MAX, "connected");
}

/* idle_pool: |n| connections opened at |now|, then made idle in order. */
static void idle_pool(size_t min_idle, size_t n)
{
	p.min_idle = min_idle;
	p.max_conns = 4;
	for (size_t i = 0; i < n; i++)
		pool_conn_add(&p, &conns[i]);
	for (size_t i = 0; i < n; i++)
		cr_assert_null(pool_conn_ready(&p, &conns[i]));
}

Test(pool, the_most_recently_used_idle_connection_goes_first)
{
	idle_pool(1, 3);
	struct pool_conn *a = pool_acquire(&p, &waiters[0], 100);
	cr_expect_eq(a, &conns[2], "the last to become idle");
	cr_expect_null(pool_conn_release(&p, a));
	cr_expect_eq(pool_acquire(&p, &waiters[0], 100), a, "light load reuses the same one");
}

Test(pool, idle_connections_above_min_idle_close_after_the_timeout)
{
	enum pool_close_reason why;
	p.idle_timeout_ms = 1000;
	idle_pool(1, 4);
	now = 999;
	cr_expect_null(pool_next_to_close(&p, &why), "not idle long enough");
	now = 1000;
	for (int i = 0; i < 3; i++) {
		struct pool_conn *pc = pool_next_to_close(&p, &why);
		cr_assert_eq(pc, &conns[i], "least recently used first (%d)", i);
		cr_expect_eq(why, POOL_CLOSE_IDLE_TIMEOUT);
		pool_conn_remove(&p, pc);
	}
	cr_expect_null(pool_next_to_close(&p, &why), "min_idle stays");
	cr_expect_eq(p.counts[POOL_CONN_IDLE], 1);
}

Test(pool, use_resets_the_idle_clock_and_lent_connections_never_close)
{
	enum pool_close_reason why;
	p.idle_timeout_ms = 1000;
	idle_pool(0, 2);
	now = 900;
	struct pool_conn *a = pool_acquire(&p, &waiters[0], 5000); /* conns[1] */
	cr_expect_null(pool_conn_release(&p, a));
	now = 1000;
	cr_expect_eq(pool_next_to_close(&p, &why), &conns[0]);
	pool_conn_remove(&p, &conns[0]);
	cr_expect_null(pool_next_to_close(&p, &why), "used at 900: idle since then");
	pool_acquire(&p, &waiters[0], 5000);
	now = 100000;
	cr_expect_null(pool_next_to_close(&p, &why), "lent to a client");
}

Test(pool, zero_turns_both_off)
{
	enum pool_close_reason why;
	idle_pool(0, 2);
	now = UINT64_C(1) << 40;
	cr_expect_null(pool_next_to_close(&p, &why));
	cr_expect_not(pool_conn_too_old(&p, &conns[0]));
}

Test(pool, max_age_limits_are_spread_over_the_last_quarter)
{
	struct pool_conn many[64] = {0};
	p.max_conns = 64;
	p.max_age_ms = 100000;
	for (int i = 0; i < 64; i++)
		pool_conn_add(&p, &many[i]);
	now = 75000 - 1;
	for (int i = 0; i < 64; i++)
		cr_expect_not(pool_conn_too_old(&p, &many[i]), "%d too old before 3/4", i);
	now = 100000;
	for (int i = 0; i < 64; i++)
		cr_expect(pool_conn_too_old(&p, &many[i]), "%d not too old at max_age_ms", i);
	/* Spread: halfway through the quarter, some are due and some are not. */
	now = 87500;
	int due = 0;
	for (int i = 0; i < 64; i++)
		due += pool_conn_too_old(&p, &many[i]);
	cr_expect(due > 8 && due < 56, "%d of 64 due halfway", due);
}

Test(pool, renewals_go_one_at_a_time_and_never_while_connects_fail)
{
	enum pool_close_reason why;
	p.max_age_ms = 1000;
	idle_pool(2, 2);
	now = 1000;
	struct pool_conn *old = pool_next_to_close(&p, &why);
	cr_assert_not_null(old);
	cr_expect_eq(why, POOL_CLOSE_MAX_AGE);
	pool_conn_remove(&p, old);
	pool_conn_add(&p, &conns[2]); /* its replacement, opening */
	cr_expect_null(pool_next_to_close(&p, &why), "one renewal at a time");
	cr_expect_not(pool_conn_renewal_due(&p, &conns[old == &conns[0] ? 1 : 0]));
	pool_conn_remove(&p, &conns[2]);
	pool_connect_failed(&p, now, POOL_FAILURE_REFUSED, "Connection refused");
	cr_expect_null(pool_next_to_close(&p, &why), "nothing would replace it");
	pool_connect_succeeded(&p);
	cr_expect_not_null(pool_next_to_close(&p, &why));
	cr_expect_eq(why, POOL_CLOSE_MAX_AGE);
}

Test(pool, close_reasons_have_names)
{
	for (int r = 0; r < POOL_CLOSE_REASON_COUNT; r++)
		cr_expect_str_neq(pool_close_reason_str((enum pool_close_reason)r), "unknown");
}

/* Two shards of one process-wide pool, max 2, as two workers hold them. */
static struct pool_shared shared;
static struct pool shard_b;

static void share_two(void)
{
	pool_shared_init(&shared, 2);
	pool_share(&p, &shared, 0);
	pool_init(&shard_b, &now, 0, 2, 7);
	pool_share(&shard_b, &shared, 1);
}

Test(pool, max_conns_holds_over_the_shards)
{
	share_two();
	cr_assert(pool_reserve(&p));
	pool_conn_add(&p, &conns[0]);
	pool_unreserve(&p);
	cr_expect_eq(pool_connects_wanted(&shard_b, 0), 0, "shard_b wants none: no waiter");
	cr_expect_null(pool_acquire(&shard_b, &waiters[0], 100));
	cr_expect_eq(pool_connects_wanted(&shard_b, 0), 1, "one place left");
	cr_assert(pool_reserve(&shard_b));
	cr_expect_not(pool_reserve(&p), "reserved: the last place is taken");
	pool_conn_add(&shard_b, &conns[1]);
	pool_unreserve(&shard_b);
	cr_expect_eq(pool_process_total(&p), 2);
	cr_expect_not(pool_reserve(&p));
	cr_expect_eq(pool_connects_wanted(&p, 0), 0);
	pool_conn_remove(&shard_b, &conns[1]);
	cr_expect(pool_reserve(&p), "a close frees a place for every shard");
	pool_unreserve(&p);
	pool_conn_remove(&p, &conns[0]);
	cr_expect_eq(pool_process_total(&p), 0);
	pool_shared_cleanup(&shared);
}

Test(pool, a_connection_moving_between_shards_stays_counted_until_removed)
{
	share_two();
	pool_conn_add(&p, &conns[0]);
	pool_conn_ready(&p, &conns[0]);
	pool_conn_give_away(&p, &conns[0]);
	cr_expect_eq(pool_total(&p), 0);
	cr_expect_eq(pool_process_total(&p), 1, "on its way: still counted");
	cr_expect_not(pool_shared_has_idle(&shared, 0), "the lender has no idle one left");
	pool_conn_take_in(&shard_b, &conns[0]);
	cr_expect_null(pool_conn_ready(&shard_b, &conns[0]));
	cr_expect_eq(shard_b.counts[POOL_CONN_IDLE], 1);
	cr_expect(pool_shared_has_idle(&shared, 1), "the borrower shows its idle one");
	/* Closed on the way (given away, never taken in): still uncounted once. */
	pool_conn_give_away(&shard_b, &conns[0]);
	pool_conn_remove(&shard_b, &conns[0]);
	pool_conn_remove(&shard_b, &conns[0]);
	cr_expect_eq(pool_process_total(&p), 0);
	pool_shared_cleanup(&shared);
}

Test(pool, lends_go_to_the_shard_that_asked_first)
{
	share_two();
	size_t to = 9;
	cr_expect_not(pool_shared_claim(&shared, 0, UINT64_MAX, 5, &to), "nobody asked");
	cr_expect(pool_shared_publish(&shared, 1, 2, 1000), "two asked: wake the others");
	cr_expect_not(pool_shared_claim(&shared, 1, UINT64_MAX, 5, &to), "not to itself");
	cr_expect_not(pool_shared_claim(&shared, 0, 1003, 5, &to), "own waiter within the slack");
	cr_expect(pool_shared_claim(&shared, 0, 1010, 5, &to), "own waiter asked later");
	cr_expect_eq(to, 1);
	cr_expect(pool_shared_claim(&shared, 0, UINT64_MAX, 5, &to));
	cr_expect_not(pool_shared_claim(&shared, 0, UINT64_MAX, 5, &to), "both claimed");
	/* Still two unmet while both are on their way: nothing more is asked. */
	cr_expect_not(pool_shared_publish(&shared, 1, 2, 1000));
	cr_expect_eq(pool_shared_lends_wanted(&shared), 0);
	pool_shared_lend_failed(&shared, 1);
	cr_expect_eq(pool_shared_lends_wanted(&shared), 1, "a failed lend is asked again at once");
	cr_expect_not(pool_shared_publish(&shared, 1, 2, 1000), "and not twice");
	pool_shared_lend_arrived(&shared, 1);
	cr_expect_not(pool_shared_publish(&shared, 1, 1, 1000), "served by the one that came");
	cr_expect_eq(pool_shared_lends_wanted(&shared), 1, "the failed one is still asked for");
	cr_expect_not(pool_shared_publish(&shared, 1, 0, UINT64_MAX));
	cr_expect_eq(pool_shared_lends_wanted(&shared), 0);
	pool_shared_cleanup(&shared);
}

Test(pool, a_stopped_shard_is_lent_nothing)
{
	share_two();
	size_t to;
	pool_shared_publish(&shared, 1, 1, 1000);
	cr_assert(pool_shared_claim(&shared, 0, UINT64_MAX, 5, &to));
	pool_shared_retire_slot(&shared, 1);
	pool_shared_lend_failed(&shared, 1); /* its inbox was closed */
	cr_expect_eq(pool_shared_lends_wanted(&shared), 0, "not asked again");
	cr_expect_not(pool_shared_publish(&shared, 1, 3, 1000));
	cr_expect_not(pool_shared_claim(&shared, 0, UINT64_MAX, 5, &to));
	pool_shared_cleanup(&shared);
}
