/* commit_marker: with replay_commit_marker, a transaction that could run again writes a row just before its COMMIT, so that a COMMIT lost in flight is known committed or not from a new connection instead of unknown. */
#ifndef WP_COMMIT_MARKER_H
#define WP_COMMIT_MARKER_H

#include <stdbool.h>

struct client;
struct server;

/* commit_marker_write sends the row's write ahead of the client's COMMIT,
 * which waits at the head of c->in until it is answered. False when it
 * cannot go now: the COMMIT goes without one. */
bool commit_marker_write(struct client *c);

/* commit_marker_check sends, on the client's new connection, the locking
 * read of the row its lost COMMIT would have committed; the COMMIT waits
 * at the head of c->in for the verdict (client_lost_commit_settled). */
void commit_marker_check(struct client *c);

/* commit_marker_answered: the answer to the write or the check is in
 * (readback_ended). */
void commit_marker_answered(struct client *c, struct server *s);

/* commit_marker_lost: the connection died while the write or the check
 * was answered; true then (the client's COMMIT never left: the loss is
 * between its commands). A check goes again on the next connection. */
bool commit_marker_lost(struct client *c);

#endif
