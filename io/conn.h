/* conn: what clients and backend connections share: socket, buffers, TLS, lifetime. */
#ifndef WP_CONN_H
#define WP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "list.h"
#include "my_cursor.h"
#include "tls_layer.h"

struct conn;
struct worker;
struct io_uring_cqe;

/* What the owner of a connection (client.c, server.c) is told. */
struct conn_ops {
	/* New plaintext is in conn->in, or the TLS handshake moved on. */
	void (*on_input)(struct conn *c);
	/* Closing started (peer gone, error, or conn_close): drop links. */
	void (*on_close)(struct conn *c);
	/* The last operation completed: free the object around the conn. */
	void (*on_free)(struct conn *c);
	/* The output of the peer linked to this conn drained: resume relaying. */
	void (*on_peer_drained)(struct conn *c);
	/* Its own output went under CONN_OUT_LOW while its input was paused
	 * (may be NULL). */
	void (*on_drained)(struct conn *c);
	/* Its receive is paused and nothing is in flight on the ring any more
	 * (may be NULL): it may move to another worker (handoff.c). */
	void (*on_quiet)(struct conn *c);
};

struct conn {
	struct worker *w;
	const struct conn_ops *ops;
	char tag;     /* 'c' client, 's' server: log lines say c12, s7 */
	uint64_t id;
	int fd;
	char peer[64]; /* "addr:port", for logs */
	struct list node; /* on worker->conns; on an inbox while it moves (handoff.c) */
	struct list rearm_node;
	/* Operations in flight that name this conn; it is freed only at zero. */
	unsigned pending;
	bool recv_armed;
	bool recv_paused;
	bool send_inflight;
	bool closing;
	bool close_submitted;
	bool close_after_flush;
	struct buf in;	    /* plaintext received, not consumed yet */
	struct buf out;	    /* bytes for the socket (ciphertext under TLS) */
	struct buf sending; /* bytes the in-flight send owns */
	struct buf scratch; /* packets being built, before conn_bld_send */
	struct tls_conn *tls;
	struct conn *relay_peer; /* whose input we pause when our output piles up */
	char close_reason[160];	 /* why conn_close was called, for on_close */
};

/* High-water mark of a conn's output before its relay peer stops reading. */
#define CONN_OUT_HIGH (4u << 20)
#define CONN_OUT_LOW (1u << 20)

/* conn_queued: bytes waiting for the socket, in the in-flight send and
 * behind it. What the marks above bound: a peer that reads slowly but
 * steadily leaves each send short, and the unsent rest goes back in front
 * of |out|, so |out| alone can stay low while the whole grows. */
static inline size_t conn_queued(const struct conn *c)
{
	return buf_avail(&c->sending) + buf_avail(&c->out);
}

void conn_init(struct conn *c, struct worker *w, const struct conn_ops *ops, char tag, int fd);
/* conn_arm_recv starts the multishot receive (idempotent). */
void conn_arm_recv(struct conn *c);
void conn_pause_recv(struct conn *c);
void conn_resume_recv(struct conn *c);

/* conn_write queues plaintext for the peer (encrypting under TLS) and
 * starts a send. False when memory is exhausted (the conn is then closed). */
bool conn_write(struct conn *c, const void *data, size_t len);
/* conn_write_buf writes and empties |b| (a builder's scratch buffer). */
bool conn_write_buf(struct conn *c, struct buf *b);

/* conn_bld_begin points |b| at the conn's scratch buffer; conn_bld_send
 * writes what was built (a builder error closes the conn) and empties it. */
void conn_bld_begin(struct conn *c, struct my_bld *b);
bool conn_bld_send(struct conn *c, struct my_bld *b);

/* conn_start_tls begins TLS on the socket; bytes already in c->in are the
 * first ciphertext (a ClientHello may arrive with the SSLRequest). */
bool conn_start_tls(struct conn *c, SSL_CTX *ctx, const struct tls_conn_opts *opts);

/* conn_close begins teardown: on_close runs once, in-flight operations are
 * cancelled, the descriptor is closed and on_free runs at the end. |reason|
 * is logged at |level| (NULL: not logged). */
void conn_close(struct conn *c, int level, const char *reason);
/* conn_close_after_flush closes once queued output has been sent. */
void conn_close_after_flush(struct conn *c);

/* Completion handlers, called by the worker's dispatch table. */
void conn_handle_recv(struct conn *c, struct io_uring_cqe *cqe);
void conn_handle_send(struct conn *c, struct io_uring_cqe *cqe);
void conn_handle_done(struct conn *c, struct io_uring_cqe *cqe);

/* conn_op_submitted and conn_op_completed count operations in flight. */
void conn_op_submitted(struct conn *c);
void conn_op_completed(struct conn *c);

/* conn_move_out takes a quiet connection (see on_quiet) off its worker's
 * lists, to be moved; conn_move_in makes it |w|'s. Its receive stays paused
 * until conn_resume_recv, on the new worker's ring. */
void conn_move_out(struct conn *c);
void conn_move_in(struct conn *c, struct worker *w);

/* conn_submit_rearms re-arms receives that ended for lack of buffers. */
void conn_submit_rearms(struct worker *w);

#endif
