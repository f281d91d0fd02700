/* kill: KILL between clients: which worker holds each client id and for which user, and the requests workers pass each other to stop a client's statement or connection. */
#ifndef WP_KILL_H
#define WP_KILL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "my_kill.h"

struct client;
struct user_slot;
struct worker;

/* A client's entry in the registry (inside struct client). */
struct kill_node {
	struct kill_node *next;
	uint32_t id; /* the connection id its greeting gave it */
	int worker;
	const struct user_slot *owner; /* its user: KILL needs the same one */
	bool listed;
};

#define KILL_BUCKETS 1024

/* Every logged-in client of the process, by id. The lock is taken when a
 * client logs in, changes user or leaves, and by KILL: never on the query
 * path. */
struct kill_registry {
	pthread_mutex_t lock;
	struct kill_node *buckets[KILL_BUCKETS];
};

void kill_registry_init(struct kill_registry *r);
void kill_registry_cleanup(struct kill_registry *r);

/* kill_client_listed: |c| logged in (or changed user): its id now names it. */
void kill_client_listed(struct client *c);
/* kill_client_unlisted: |c| is leaving. */
void kill_client_unlisted(struct client *c);

/* A KILL on its way to the worker that holds its target. */
struct kill_request {
	uint32_t id;
	enum my_kill_kind kind;
};

/* Requests for one worker, posted by any (under |lock|), taken by it. */
struct kill_mailbox {
	pthread_mutex_t lock;
	struct kill_request *v;
	size_t n, cap;
};

void kill_mailbox_init(struct kill_mailbox *m);
void kill_mailbox_cleanup(struct kill_mailbox *m);

/* What a KILL from client |c| came to. */
enum kill_outcome {
	KILL_SENT = 0,	      /* the target's worker was asked: answer OK */
	KILL_SELF = 1,	      /* KILL CONNECTION of its own id: close it */
	KILL_UNKNOWN = 2,     /* no client has that id: ERR 1094 */
	KILL_NOT_OWNER = 3,   /* another user's client: ERR 1095 */
	KILL_NO_MEMORY = 4,
};

const char *kill_outcome_str(enum kill_outcome outcome);

/* kill_request_from runs client |c|'s KILL of |id|. */
enum kill_outcome kill_request_from(struct client *c, enum my_kill_kind kind, uint32_t id);

/* What a side connection's KILL QUERY is for: the statement a client's
 * backend connection was running when the KILL was delivered. */
struct kill_target {
	uint32_t client_id;
	uint64_t server_conn_id;   /* that backend connection */
	uint64_t responses;	   /* its tracker's count of finished responses then */
};

/* kill_target_running: the statement is still the one running there (not
 * finished, and its connection not handed to another client since), so a
 * KILL QUERY of that backend thread stops it and nothing else. In the
 * target's worker. */
bool kill_target_running(struct worker *w, const struct kill_target *t);

/* kill_take_requests acts on the requests posted to |w|: in its own thread. */
void kill_take_requests(struct worker *w);

#endif
