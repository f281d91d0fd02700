/* pool_test: acquire/release, the FIFO wait queue, connect wants and backoff. */
#include <criterion/criterion.h>
#include <signal.h>

#include "pool.h"

static struct pool p;
static struct pool_conn conns[4];
static struct pool_waiter waiters[4];

static void setup(void)
{
	pool_init(&p, 1, 2, 42);
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

Test(pool, backoff_grows_with_jitter_and_probes_one_at_a_time)
{
	cr_expect_null(pool_acquire(&p, &waiters[0], 10000));
	uint64_t now = 1000;
	uint64_t last_delay = 0;
	for (int i = 1; i <= 8; i++) {
		pool_connect_failed(&p, now, "refused");
		uint64_t delay = p.next_connect_ms - now;
		uint64_t nominal = 100u << (i - 1 < 6 ? i - 1 : 6);
		if (nominal > 500)
			nominal = 500;
		cr_expect(delay >= nominal * 3 / 4 && delay <= nominal * 5 / 4, "attempt %d: %lu", i,
			  (unsigned long)delay);
		cr_expect_eq(pool_connects_wanted(&p, now), 0, "backing off");
		last_delay = delay;
	}
	cr_expect(last_delay <= 625);
	cr_expect_str_eq(p.last_error, "refused");
	/* After the backoff: exactly one probe, even with more wanted. */
	cr_expect_eq(pool_connects_wanted(&p, now + 10000), 1);
	pool_connect_succeeded(&p);
	cr_expect_str_eq(p.last_error, "");
	cr_expect_eq(pool_connects_wanted(&p, now), 2);
}
