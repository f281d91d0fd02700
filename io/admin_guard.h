/* admin_guard: the admin endpoint's connection table; when full, the quietest connection makes room. */
#ifndef WP_ADMIN_GUARD_H
#define WP_ADMIN_GUARD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "list.h"

/* Every callback runs on libmicrohttpd's one internal thread: no lock. */
struct admin_guard {
	struct list conns; /* open and not being evicted, least recently active first */
	size_t n_conns;	   /* on |conns| */
	size_t max_conns;  /* a new connection beyond this evicts the quietest */
	uint64_t evicted_total;
};

void admin_guard_init(struct admin_guard *g, size_t max_conns);

/* admin_guard_on_accept is libmicrohttpd's accept policy (cls: the guard):
 * it always accepts, and when the table is full it shuts the least recently
 * active connection down first, so that a probe always gets a slot however
 * many idle connections strangers hold. */
enum MHD_Result admin_guard_on_accept(void *cls, const struct sockaddr *addr, socklen_t addr_len);

/* admin_guard_on_notify tracks connections as they open and close
 * (MHD_OPTION_NOTIFY_CONNECTION; cls: the guard). */
void admin_guard_on_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			   enum MHD_ConnectionNotificationCode toe);

/* admin_guard_on_request marks |conn| active: it is the last to be evicted. */
void admin_guard_on_request(struct admin_guard *g, struct MHD_Connection *conn);

#endif
