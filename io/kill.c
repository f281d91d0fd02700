/* kill: KILL between clients: which worker holds each client id and for which user, and the requests workers pass each other to stop a client's statement or connection. */
#include "kill.h"

#include "alloc.h"
#include "client.h"
#include "log.h"
#include "runtime.h"
#include "server.h"
#include "worker.h"

void kill_registry_init(struct kill_registry *r)
{
	pthread_mutex_init(&r->lock, NULL);
	for (size_t i = 0; i < KILL_BUCKETS; i++)
		r->buckets[i] = NULL;
}

void kill_registry_cleanup(struct kill_registry *r)
{
	pthread_mutex_destroy(&r->lock); /* the nodes live in their clients */
}

static struct kill_node **bucket_of(struct kill_registry *r, uint32_t id)
{
	return &r->buckets[id % KILL_BUCKETS];
}

/* unlink_node takes |n| off its bucket; the lock is held. */
static void unlink_node(struct kill_registry *r, struct kill_node *n)
{
	for (struct kill_node **p = bucket_of(r, n->id); *p; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			break;
		}
	}
	n->listed = false;
}

void kill_client_listed(struct client *c)
{
	struct kill_registry *r = &c->conn.w->rt->kills;
	struct kill_node *n = &c->kill;
	pthread_mutex_lock(&r->lock);
	if (n->listed)
		unlink_node(r, n);
	n->id = (uint32_t)c->conn.id;
	n->worker = c->conn.w->id;
	n->owner = c->user_slot;
	n->next = *bucket_of(r, n->id);
	*bucket_of(r, n->id) = n;
	n->listed = true;
	pthread_mutex_unlock(&r->lock);
}

void kill_client_unlisted(struct client *c)
{
	struct kill_registry *r = &c->conn.w->rt->kills;
	if (!c->kill.listed)
		return; /* only this client's thread lists it: no race on the flag */
	pthread_mutex_lock(&r->lock);
	unlink_node(r, &c->kill);
	pthread_mutex_unlock(&r->lock);
}

/* find_target copies what KILL needs of client |id|: false when none. */
static bool find_target(struct kill_registry *r, uint32_t id, int *out_worker,
			const struct user_slot **out_owner)
{
	bool found = false;
	pthread_mutex_lock(&r->lock);
	for (struct kill_node *n = *bucket_of(r, id); n; n = n->next) {
		if (n->id == id) {
			*out_worker = n->worker;
			*out_owner = n->owner;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}

void kill_mailbox_init(struct kill_mailbox *m)
{
	pthread_mutex_init(&m->lock, NULL);
	m->v = NULL;
	m->n = m->cap = 0;
}

void kill_mailbox_cleanup(struct kill_mailbox *m)
{
	xfree(m->v);
	m->v = NULL;
	pthread_mutex_destroy(&m->lock);
}

/* post appends a request to |w|'s mailbox and wakes it. */
static bool post(struct worker *w, const struct kill_request *req)
{
	struct kill_mailbox *m = &w->kills;
	bool ok = true;
	pthread_mutex_lock(&m->lock);
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 8;
		struct kill_request *grown = try_realloc(m->v, cap * sizeof(*grown));
		if (grown) {
			m->v = grown;
			m->cap = cap;
		}
	}
	if (m->n < m->cap)
		m->v[m->n++] = *req;
	else
		ok = false;
	pthread_mutex_unlock(&m->lock);
	if (ok)
		worker_wake(w);
	return ok;
}

const char *kill_outcome_str(enum kill_outcome outcome)
{
	switch (outcome) {
	case KILL_SENT: return "sent";
	case KILL_SELF: return "self";
	case KILL_UNKNOWN: return "unknown";
	case KILL_NOT_OWNER: return "not_owner";
	case KILL_NO_MEMORY: return "no_memory";
	}
	return "unknown";
}

enum kill_outcome kill_request_from(struct client *c, enum my_kill_kind kind, uint32_t id)
{
	struct runtime *rt = c->conn.w->rt;
	if (id == (uint32_t)c->conn.id)
		return kind == MY_KILL_CONNECTION ? KILL_SELF : KILL_SENT; /* its own query is over */
	int worker;
	const struct user_slot *owner;
	if (!find_target(&rt->kills, id, &worker, &owner))
		return KILL_UNKNOWN;
	/* As in MySQL without the CONNECTION_ADMIN privilege: a user's own
	 * connections only. */
	if (!owner || owner != c->user_slot)
		return KILL_NOT_OWNER;
	struct kill_request req = {.id = id, .kind = kind};
	return post(&rt->workers[worker], &req) ? KILL_SENT : KILL_NO_MEMORY;
}

/* find_client looks |id| up among the worker's connections (KILL is rare:
 * a scan is fine). */
static struct client *find_client(struct worker *w, uint32_t id)
{
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &w->conns)
	{
		struct conn *conn = list_entry(pos, struct conn, node);
		if (conn->tag == 'c' && !conn->closing && (uint32_t)conn->id == id)
			return container_of(conn, struct client, conn);
	}
	return NULL;
}

/* deliver stops what the request names: the statement the client's
 * backend connection is running, through a side connection (that one is
 * busy), and for KILL CONNECTION the client itself. A client that left
 * meanwhile, or has nothing running, needs nothing. */
static void deliver(struct worker *w, const struct kill_request *req)
{
	struct client *c = find_client(w, req->id);
	if (!c)
		return;
	struct server *s = c->server;
	bool whole = req->kind == MY_KILL_CONNECTION;
	if (s && s->state == SERVER_LINKED && !my_track_idle(&s->track)) {
		struct kill_target target = {.client_id = req->id,
					     .server_conn_id = s->conn.id,
					     .responses = s->track.responses};
		server_open_killer(s->bp, s->thread_id, whole, &target);
	}
	log_info("client KILL delivered", "conn=c%llu kind=%s running=%s",
		 (unsigned long long)c->conn.id, my_kill_kind_str(req->kind),
		 s && !my_track_idle(&s->track) ? "yes" : "no");
	if (whole)
		conn_close(&c->conn, LOG_INFO, "killed by KILL CONNECTION");
}

bool kill_target_running(struct worker *w, const struct kill_target *t)
{
	struct client *c = find_client(w, t->client_id);
	const struct server *s = c ? c->server : NULL;
	return s && s->conn.id == t->server_conn_id && s->state == SERVER_LINKED &&
	       !my_track_idle(&s->track) && s->track.responses == t->responses;
}

void kill_take_requests(struct worker *w)
{
	struct kill_mailbox *m = &w->kills;
	pthread_mutex_lock(&m->lock);
	struct kill_request *v = m->v;
	size_t n = m->n;
	m->v = NULL;
	m->n = m->cap = 0;
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; i < n && !w->stopping; i++)
		deliver(w, &v[i]);
	xfree(v);
}
