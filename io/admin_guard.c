/* admin_guard: evicting the quietest admin connection when a new one finds the table full. */
#include "admin_guard.h"

#include "alloc.h"

struct guard_conn {
	struct list node; /* on guard->conns; self-linked once evicted */
	struct MHD_Connection *mhd;
	bool evicted; /* shut down by the guard; no longer counted */
};

void admin_guard_init(struct admin_guard *g, size_t max_conns)
{
	list_init(&g->conns);
	g->n_conns = 0;
	g->max_conns = max_conns;
	g->evicted_total = 0;
}

/* evict shuts the quietest connection down. libmicrohttpd has no call to
 * close one of its connections; a shut down socket reads as end of file,
 * and its loop closes it (and reports it to admin_guard_on_notify). */
static void evict_quietest(struct admin_guard *g)
{
	struct guard_conn *gc = list_entry(g->conns.next, struct guard_conn, node);
	list_del(&gc->node);
	g->n_conns--;
	gc->evicted = true;
	g->evicted_total++;
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(gc->mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (info)
		shutdown(info->connect_fd, SHUT_RDWR);
}

enum MHD_Result admin_guard_on_accept(void *cls, const struct sockaddr *addr, socklen_t addr_len)
{
	(void)addr;
	(void)addr_len;
	struct admin_guard *g = cls;
	if (g->n_conns >= g->max_conns && !list_empty(&g->conns))
		evict_quietest(g);
	return MHD_YES;
}

void admin_guard_on_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			   enum MHD_ConnectionNotificationCode toe)
{
	struct admin_guard *g = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct guard_conn *gc = xcalloc(1, sizeof(*gc));
		gc->mhd = conn;
		list_add_tail(&g->conns, &gc->node);
		g->n_conns++;
		*socket_context = gc;
		return;
	}
	struct guard_conn *gc = *socket_context;
	if (!gc)
		return;
	if (!gc->evicted) {
		list_del(&gc->node);
		g->n_conns--;
	}
	xfree(gc);
	*socket_context = NULL;
}

void admin_guard_on_request(struct admin_guard *g, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct guard_conn *gc = info ? info->socket_context : NULL;
	if (!gc || gc->evicted)
		return;
	list_del(&gc->node);
	list_add_tail(&g->conns, &gc->node);
}
