/* listener: a worker's SO_REUSEPORT listening sockets and their multishot accepts. */
#ifndef WP_LISTENER_H
#define WP_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

struct worker;
struct worker_listener;
struct io_uring_cqe;

/* listener_open binds this worker's socket for config listener |idx|. */
bool listener_open(struct worker *w, size_t idx, struct worker_listener *out, char *why,
		   size_t why_len);
void listener_arm(struct worker_listener *l);
/* listener_retry (every tick) takes back a lost reserve descriptor and
 * accepts again after a pause for want of descriptors. */
void listener_retry(struct worker_listener *l);
/* listener_close stops accepting: the kernel refuses new connections to
 * this worker's socket (others may still listen on the port). */
void listener_close(struct worker_listener *l);
void listener_handle_accept(struct worker_listener *l, struct io_uring_cqe *cqe);

#endif
