/* addr_budget_test: logins per source address: at once, and failures per window. */
#include <criterion/criterion.h>
#include <string.h>

#include "addr_budget.h"

static struct addr_key key(uint8_t last)
{
	struct addr_key k = {{0}};
	k.b[10] = k.b[11] = 0xff; /* an IPv4-mapped address, 127.0.0.last */
	k.b[12] = 127;
	k.b[15] = last;
	return k;
}

Test(addr_budget, handshakes_at_once_per_address)
{
	struct addr_budget b;
	addr_budget_init(&b);
	struct addr_budget_limits lim = {.max_handshakes = 2, .window_ms = 1000};
	struct addr_key a = key(1), other = key(2);
	uint64_t retry;
	cr_expect_eq(addr_budget_admit(&b, &a, &lim, 0, &retry), ADDR_ADMITTED);
	cr_expect_eq(addr_budget_admit(&b, &a, &lim, 0, &retry), ADDR_ADMITTED);
	cr_expect_eq(addr_budget_admit(&b, &a, &lim, 0, &retry), ADDR_TOO_MANY_HANDSHAKES);
	cr_expect_eq(addr_budget_admit(&b, &other, &lim, 0, &retry), ADDR_ADMITTED);
	addr_budget_settle(&b, &a, true, false, &lim, 5);
	cr_expect_eq(addr_budget_admit(&b, &a, &lim, 5, &retry), ADDR_ADMITTED, "one left");
	addr_budget_settle(&b, &a, true, false, &lim, 6);
	addr_budget_settle(&b, &a, true, false, &lim, 6);
	addr_budget_settle(&b, &other, true, false, &lim, 6);
	(void)addr_budget_admit(&b, &other, &lim, 7, &retry); /* sweeps the bucket */
	cr_expect_leq(b.n, 2, "entries that hold nothing go");
	addr_budget_cleanup(&b);
}

Test(addr_budget, failures_block_until_the_window_ends)
{
	struct addr_budget b;
	addr_budget_init(&b);
	struct addr_budget_limits lim = {.max_failures = 3, .window_ms = 60000};
	struct addr_key a = key(1), other = key(2);
	uint64_t retry;
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(addr_budget_admit(&b, &a, &lim, 1000, &retry), ADDR_ADMITTED);
		addr_budget_settle(&b, &a, true, true, &lim, 1000 + (uint64_t)i);
	}
	cr_expect_eq(addr_budget_admit(&b, &a, &lim, 2000, &retry), ADDR_BLOCKED);
	cr_expect_eq(retry, 59000);
	cr_expect_eq(addr_budget_admit(&b, &other, &lim, 2000, &retry), ADDR_ADMITTED,
		     "other addresses are not blocked");
	cr_expect_eq(addr_budget_admit(&b, &a, &lim, 61000, &retry), ADDR_ADMITTED,
		     "the window is over");
	addr_budget_cleanup(&b);
}

/* A failed COM_CHANGE_USER counts though it was never admitted; a login
 * that succeeds clears nothing (failures count within their window). */
Test(addr_budget, failures_without_admission)
{
	struct addr_budget b;
	addr_budget_init(&b);
	struct addr_budget_limits lim = {.max_failures = 2, .window_ms = 100};
	struct addr_key a = key(9);
	uint64_t retry;
	addr_budget_settle(&b, &a, false, true, &lim, 10);
	addr_budget_settle(&b, &a, false, true, &lim, 20);
	cr_expect_eq(addr_budget_admit(&b, &a, &lim, 30, &retry), ADDR_BLOCKED);
	cr_expect_eq(addr_budget_admit(&b, &a, &lim, 110, &retry), ADDR_ADMITTED);
	addr_budget_cleanup(&b);
}

/* The table is bounded: past its size, addresses are admitted untracked. */
Test(addr_budget, table_is_bounded)
{
	struct addr_budget b;
	addr_budget_init(&b);
	struct addr_budget_limits lim = {.max_handshakes = 1, .window_ms = 100};
	uint64_t retry;
	struct addr_key k = key(0);
	for (uint32_t i = 0; i < ADDR_BUDGET_MAX_ENTRIES; i++) {
		memcpy(&k.b[0], &i, sizeof(i));
		cr_assert_eq(addr_budget_admit(&b, &k, &lim, 0, &retry), ADDR_ADMITTED);
	}
	uint32_t one_more = ADDR_BUDGET_MAX_ENTRIES;
	memcpy(&k.b[0], &one_more, sizeof(one_more));
	cr_expect_eq(addr_budget_admit(&b, &k, &lim, 0, &retry), ADDR_UNTRACKED);
	cr_expect_eq(b.n, ADDR_BUDGET_MAX_ENTRIES);
	addr_budget_cleanup(&b);
}
