/* balance: which member of a listener's group serves a client's next backend connection. */
#ifndef WP_BALANCE_H
#define WP_BALANCE_H

#include <stdbool.h>
#include <stddef.h>

struct worker;

/* balance_pick chooses the member of listener |listener_idx| that a
 * client's next backend connection comes from: among members this worker
 * does not see down (all of them if every one is), the one with the least
 * outstanding work per weight, or the next in weighted round robin.
 * |avoid| (a backend index, or SIZE_MAX) counts as down: the member a
 * statement was just lost on. */
size_t balance_pick(struct worker *w, size_t listener_idx, size_t avoid);

/* balance_group_up: some member of the listener's group is not down, as
 * this worker sees it. */
bool balance_group_up(struct worker *w, size_t listener_idx);

#endif
