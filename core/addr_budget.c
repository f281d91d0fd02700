/* addr_budget: per-source-address limits on logging in: connections still logging in, and failed logins per window. */
#include "addr_budget.h"

#include <string.h>

#include "alloc.h"

struct addr_entry {
	struct addr_entry *next;
	struct addr_key key;
	int handshaking;
	int failures;
	uint64_t window_start_ms; /* when the first of |failures| happened */
};

const char *addr_verdict_str(enum addr_verdict v)
{
	switch (v) {
	case ADDR_ADMITTED: return "admitted";
	case ADDR_TOO_MANY_HANDSHAKES: return "too_many_handshakes";
	case ADDR_BLOCKED: return "blocked";
	case ADDR_UNTRACKED: return "untracked";
	}
	return "unknown";
}

void addr_budget_init(struct addr_budget *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
}

void addr_budget_cleanup(struct addr_budget *b)
{
	for (size_t i = 0; i < ADDR_BUDGET_BUCKETS; i++) {
		while (b->buckets[i]) {
			struct addr_entry *next = b->buckets[i]->next;
			xfree(b->buckets[i]);
			b->buckets[i] = next;
		}
	}
	b->n = 0;
	pthread_mutex_destroy(&b->lock);
}

static struct addr_entry **bucket_of(struct addr_budget *b, const struct addr_key *k)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < sizeof(k->b); i++)
		h = (h ^ k->b[i]) * 16777619u;
	return &b->buckets[h % ADDR_BUDGET_BUCKETS];
}

static bool window_over(const struct addr_entry *e, const struct addr_budget_limits *lim,
			uint64_t now_ms)
{
	return now_ms - e->window_start_ms >= lim->window_ms;
}

/* find_entry returns |k|'s entry (or NULL), dropping entries of its bucket
 * that hold nothing any more on the way. */
static struct addr_entry *find_entry(struct addr_budget *b, const struct addr_key *k,
				     const struct addr_budget_limits *lim, uint64_t now_ms)
{
	struct addr_entry **p = bucket_of(b, k), *found = NULL;
	while (*p) {
		struct addr_entry *e = *p;
		if (e->handshaking == 0 && (e->failures == 0 || window_over(e, lim, now_ms))) {
			*p = e->next;
			xfree(e);
			b->n--;
			continue;
		}
		if (memcmp(&e->key, k, sizeof(*k)) == 0)
			found = e;
		p = &e->next;
	}
	return found;
}

/* add_entry makes |k|'s entry; NULL when the table is full (or memory is). */
static struct addr_entry *add_entry(struct addr_budget *b, const struct addr_key *k,
				    uint64_t now_ms)
{
	struct addr_entry *e = b->n < ADDR_BUDGET_MAX_ENTRIES ? try_realloc(NULL, sizeof(*e)) : NULL;
	if (!e)
		return NULL;
	struct addr_entry **head = bucket_of(b, k);
	*e = (struct addr_entry){.next = *head, .key = *k, .window_start_ms = now_ms};
	*head = e;
	b->n++;
	return e;
}

enum addr_verdict addr_budget_admit(struct addr_budget *b, const struct addr_key *k,
				    const struct addr_budget_limits *lim, uint64_t now_ms,
				    uint64_t *out_retry_ms)
{
	enum addr_verdict v = ADDR_ADMITTED;
	*out_retry_ms = 0;
	pthread_mutex_lock(&b->lock);
	struct addr_entry *e = find_entry(b, k, lim, now_ms);
	if (!e)
		e = add_entry(b, k, now_ms);
	if (!e) {
		v = ADDR_UNTRACKED;
	} else if (lim->max_failures > 0 && e->failures >= lim->max_failures &&
		   !window_over(e, lim, now_ms)) {
		v = ADDR_BLOCKED;
		*out_retry_ms = e->window_start_ms + lim->window_ms - now_ms;
	} else if (lim->max_handshakes > 0 && e->handshaking >= lim->max_handshakes) {
		v = ADDR_TOO_MANY_HANDSHAKES;
	} else {
		e->handshaking++;
	}
	pthread_mutex_unlock(&b->lock);
	return v;
}

void addr_budget_settle(struct addr_budget *b, const struct addr_key *k, bool was_admitted,
			bool failed, const struct addr_budget_limits *lim, uint64_t now_ms)
{
	pthread_mutex_lock(&b->lock);
	struct addr_entry *e = find_entry(b, k, lim, now_ms);
	if (!e && failed)
		e = add_entry(b, k, now_ms);
	if (e && was_admitted && e->handshaking > 0)
		e->handshaking--;
	if (e && failed) {
		if (e->failures == 0 || window_over(e, lim, now_ms)) {
			e->failures = 0;
			e->window_start_ms = now_ms;
		}
		e->failures++;
	}
	pthread_mutex_unlock(&b->lock);
}
