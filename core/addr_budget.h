/* addr_budget: per-source-address limits on logging in: connections still logging in, and failed logins per window. */
#ifndef WP_ADDR_BUDGET_H
#define WP_ADDR_BUDGET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A source address: IPv6, or IPv4 mapped into it. */
struct addr_key {
	uint8_t b[16];
};

struct addr_budget_limits {
	int max_handshakes; /* logging in at once; 0: no limit */
	int max_failures;   /* failed logins per window; 0: no limit */
	uint64_t window_ms;
};

/* What addr_budget_admit decided. */
enum addr_verdict {
	ADDR_ADMITTED = 0,	    /* counted as logging in: settle it later */
	ADDR_TOO_MANY_HANDSHAKES = 1, /* max_handshakes of this address are logging in */
	ADDR_BLOCKED = 2,	    /* max_failures failed logins within the window */
	ADDR_UNTRACKED = 3,	    /* the table is full: admitted, not counted */
};
const char *addr_verdict_str(enum addr_verdict v);

#define ADDR_BUDGET_BUCKETS 4096
/* Addresses tracked at once: what bounds the table's memory when many
 * addresses come and go (entries go when they hold nothing). */
#define ADDR_BUDGET_MAX_ENTRIES 65536

struct addr_entry;

/* Shared by every worker; the lock is taken when a client connects and
 * when its login ends, never on the query path. */
struct addr_budget {
	pthread_mutex_t lock;
	struct addr_entry *buckets[ADDR_BUDGET_BUCKETS];
	size_t n;
};

void addr_budget_init(struct addr_budget *b);
void addr_budget_cleanup(struct addr_budget *b);

/* addr_budget_admit decides whether a new connection from |k| may log in;
 * ADDR_ADMITTED counts it as logging in until addr_budget_settle. When
 * blocked, |*out_retry_ms| says for how long still. */
enum addr_verdict addr_budget_admit(struct addr_budget *b, const struct addr_key *k,
				    const struct addr_budget_limits *lim, uint64_t now_ms,
				    uint64_t *out_retry_ms);

/* addr_budget_settle ends what was counted for |k|: a login that was
 * counted by addr_budget_admit (|was_admitted|) is over, and a |failed|
 * login (also one that was not counted, such as a COM_CHANGE_USER) adds to
 * the address's failures. */
void addr_budget_settle(struct addr_budget *b, const struct addr_key *k, bool was_admitted,
			bool failed, const struct addr_budget_limits *lim, uint64_t now_ms);

#endif
