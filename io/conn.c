/* conn: socket I/O through the ring, TLS staging, and cancel -> close -> free. */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <liburing.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "ring.h"
#include "worker.h"

void conn_init(struct conn *c, struct worker *w, const struct conn_ops *ops, char tag, int fd)
{
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->ops = ops;
	c->tag = tag;
	c->fd = fd;
	c->id = ++w->next_conn_id * (uint64_t)w->rt->n_workers + (uint64_t)w->id;
	list_init(&c->rearm_node);
	list_add_tail(&w->conns, &c->node);
	w->n_conns++;
}

void conn_op_submitted(struct conn *c)
{
	c->pending++;
}

static void conn_submit_close(struct conn *c)
{
	struct io_uring_sqe *sqe = worker_sqe(c->w);
	io_uring_prep_close(sqe, c->fd);
	io_uring_sqe_set_data64(sqe, ring_ud(c, RING_OP_CLOSE));
	c->close_submitted = true;
	conn_op_submitted(c);
}

void conn_op_completed(struct conn *c)
{
	c->pending--;
	if (!c->closing) {
		if (c->pending == 0 && c->recv_paused && c->ops->on_quiet)
			c->ops->on_quiet(c); /* may hand |c| to another thread: last use */
		return;
	}
	if (c->pending > 0)
		return;
	if (!c->close_submitted && c->fd >= 0) {
		conn_submit_close(c);
		return;
	}
	/* Nothing left in flight: the object can go. */
	list_del(&c->node);
	list_del(&c->rearm_node);
	c->w->n_conns--;
	tls_conn_free(c->tls);
	buf_cleanup(&c->in);
	buf_cleanup(&c->out);
	buf_cleanup(&c->sending);
	buf_cleanup(&c->scratch);
	c->ops->on_free(c);
}

void conn_move_out(struct conn *c)
{
	list_del(&c->node);
	list_del(&c->rearm_node);
	c->w->n_conns--;
	c->w = NULL;
}

void conn_move_in(struct conn *c, struct worker *w)
{
	c->w = w;
	list_add_tail(&w->conns, &c->node);
	w->n_conns++;
}

void conn_arm_recv(struct conn *c)
{
	if (c->recv_armed || c->recv_paused || c->closing)
		return;
	struct io_uring_sqe *sqe = worker_sqe(c->w);
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = c->w->bufs.group_id;
	io_uring_sqe_set_data64(sqe, ring_ud(c, RING_OP_RECV));
	c->recv_armed = true;
	conn_op_submitted(c);
}

void conn_pause_recv(struct conn *c)
{
	if (c->recv_paused || c->closing)
		return;
	c->recv_paused = true;
	if (!c->recv_armed)
		return;
	struct io_uring_sqe *sqe = worker_sqe(c->w);
	io_uring_prep_cancel64(sqe, ring_ud(c, RING_OP_RECV), 0);
	io_uring_sqe_set_data64(sqe, ring_ud(c, RING_OP_CANCEL));
	conn_op_submitted(c);
}

void conn_resume_recv(struct conn *c)
{
	if (!c->recv_paused || c->closing)
		return;
	c->recv_paused = false;
	conn_arm_recv(c);
	/* Input that arrived before the pause took effect is still waiting. */
	if (buf_avail(&c->in) > 0)
		c->ops->on_input(c);
}

static void conn_flush(struct conn *c)
{
	if (c->send_inflight || c->closing)
		return;
	if (buf_avail(&c->out) == 0) {
		if (c->close_after_flush)
			conn_close(c, LOG_DEBUG, NULL);
		return;
	}
	/* The in-flight send owns |sending|; new output keeps going to |out|. */
	struct buf tmp = c->sending;
	c->sending = c->out;
	c->out = tmp;
	buf_reset(&c->out);
	struct io_uring_sqe *sqe = worker_sqe(c->w);
	io_uring_prep_send(sqe, c->fd, buf_head(&c->sending), buf_avail(&c->sending),
			   MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ring_ud(c, RING_OP_SEND));
	c->send_inflight = true;
	conn_op_submitted(c);
}

bool conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->closing)
		return false;
	bool ok = c->tls ? tls_conn_write(c->tls, data, len, &c->out)
			 : buf_append(&c->out, data, len, BUF_NO_LIMIT);
	if (!ok) {
		conn_close(c, LOG_ERROR, c->tls ? tls_conn_error(c->tls) : "out of memory");
		return false;
	}
	conn_flush(c);
	return true;
}

bool conn_write_buf(struct conn *c, struct buf *b)
{
	bool ok = conn_write(c, buf_head(b), buf_avail(b));
	buf_reset(b);
	buf_release_if_empty(b);
	return ok;
}

void conn_bld_begin(struct conn *c, struct my_bld *b)
{
	buf_reset(&c->scratch);
	my_bld_init(b, &c->scratch, BUF_NO_LIMIT);
}

bool conn_bld_send(struct conn *c, struct my_bld *b)
{
	if (!my_bld_ok(b)) {
		buf_reset(&c->scratch);
		conn_close(c, LOG_ERROR, "cannot build a packet (out of memory)");
		return false;
	}
	return conn_write_buf(c, &c->scratch);
}

bool conn_start_tls(struct conn *c, SSL_CTX *ctx, const struct tls_conn_opts *opts)
{
	c->tls = tls_conn_new(ctx, opts);
	if (!c->tls) {
		conn_close(c, LOG_ERROR, "cannot allocate a TLS session");
		return false;
	}
	enum tls_io r = TLS_IO_OK;
	if (opts->role == TLS_ROLE_CLIENT)
		r = tls_conn_start(c->tls, &c->out);
	if (r == TLS_IO_OK && buf_avail(&c->in) > 0) {
		struct buf early = c->in;
		c->in = (struct buf){0};
		r = tls_conn_input(c->tls, buf_head(&early), buf_avail(&early), &c->in, &c->out);
		buf_cleanup(&early);
	}
	if (r != TLS_IO_OK) {
		conn_close(c, LOG_WARN, tls_conn_error(c->tls));
		return false;
	}
	conn_flush(c);
	return true;
}

void conn_close(struct conn *c, int level, const char *reason)
{
	if (c->closing)
		return;
	if (reason)
		log_at(level, "closing connection", "conn=%c%llu peer=%s reason=\"%s\"", c->tag,
		       (unsigned long long)c->id, c->peer, reason);
	c->closing = true;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason ? reason : "");
	c->ops->on_close(c);
	if (c->pending > 0) {
		/* Cancel everything on the descriptor: recv, send, connect. */
		struct io_uring_sqe *sqe = worker_sqe(c->w);
		io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, ring_ud(c, RING_OP_CANCEL));
		conn_op_submitted(c);
		return;
	}
	/* Nothing in flight: closing the descriptor is the last operation. */
	c->pending++;
	conn_op_completed(c);
}

void conn_close_after_flush(struct conn *c)
{
	c->close_after_flush = true;
	conn_flush(c);
}

/* conn_take_input moves received bytes into c->in, through TLS if on. */
static bool conn_take_input(struct conn *c, const uint8_t *data, size_t len)
{
	if (!c->tls) {
		if (buf_append(&c->in, data, len, BUF_NO_LIMIT))
			return true;
		conn_close(c, LOG_ERROR, "out of memory buffering input");
		return false;
	}
	enum tls_io r = tls_conn_input(c->tls, data, len, &c->in, &c->out);
	conn_flush(c);
	if (r == TLS_IO_OK)
		return true;
	if (r == TLS_IO_EOF)
		conn_close(c, LOG_DEBUG, "peer closed TLS");
	else
		conn_close(c, LOG_WARN, tls_conn_error(c->tls));
	return false;
}

/* count_bytes adds wire bytes (ciphertext under TLS) to the worker's totals. */
static void count_bytes(struct conn *c, size_t n, bool received)
{
	struct worker_stats *s = &c->w->stats;
	if (c->tag == 'c')
		*(received ? &s->client_bytes_received_total : &s->client_bytes_sent_total) += n;
	else
		*(received ? &s->backend_bytes_received_total : &s->backend_bytes_sent_total) += n;
}

void conn_handle_recv(struct conn *c, struct io_uring_cqe *cqe)
{
	bool more = cqe->flags & IORING_CQE_F_MORE;
	if (!more)
		c->recv_armed = false;
	if (cqe->res > 0) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		count_bytes(c, (size_t)cqe->res, true);
		bool ok = !c->closing &&
			  conn_take_input(c, bufring_buf(&c->w->bufs, bid), (size_t)cqe->res);
		/* The bytes are copied out: the buffer's last consumer is done. */
		bufring_recycle(&c->w->bufs, bid);
		if (ok && !c->close_after_flush)
			c->ops->on_input(c);
		buf_release_if_empty(&c->in); /* idle connections keep no buffers */
	} else if (cqe->res == 0) {
		conn_close(c, LOG_DEBUG, "peer closed the connection");
	} else if (cqe->res == -ENOBUFS) {
		/* Backpressure from the buffer ring: re-arm after this batch. */
		if (!c->closing)
			list_add_tail(&c->w->rearm, &c->rearm_node);
	} else if (cqe->res != -ECANCELED) {
		conn_close(c, LOG_INFO, strerror(-cqe->res));
	}
	if (!more) {
		/* Re-arm unless paused. -ECANCELED too: a pause whose cancel
		 * completes after the input was resumed again (conn_arm_recv then
		 * saw the old receive still armed and did nothing) would leave the
		 * connection with no receive at all, and stall it. */
		if (!c->closing && !c->recv_paused && (cqe->res > 0 || cqe->res == -ECANCELED))
			conn_arm_recv(c);
		conn_op_completed(c);
	}
}

void conn_handle_send(struct conn *c, struct io_uring_cqe *cqe)
{
	c->send_inflight = false;
	if (cqe->res < 0) {
		if (cqe->res != -ECANCELED)
			conn_close(c, LOG_INFO, strerror(-cqe->res));
	} else {
		count_bytes(c, (size_t)cqe->res, false);
		buf_consume(&c->sending, (size_t)cqe->res);
		if (buf_avail(&c->sending) > 0) {
			/* Short send: the rest goes first, ahead of newer output. */
			struct buf rest = c->sending;
			c->sending = (struct buf){0};
			if (!buf_append(&rest, buf_head(&c->out), buf_avail(&c->out), BUF_NO_LIMIT))
				conn_close(c, LOG_ERROR, "out of memory");
			buf_cleanup(&c->out);
			c->out = rest;
		}
		conn_flush(c);
		buf_release_if_empty(&c->sending);
		buf_release_if_empty(&c->out);
		struct conn *peer = c->relay_peer;
		if (peer && peer->recv_paused && conn_queued(c) < CONN_OUT_LOW)
			peer->ops->on_peer_drained(peer);
		if (c->ops->on_drained && c->recv_paused && !c->closing &&
		    conn_queued(c) < CONN_OUT_LOW)
			c->ops->on_drained(c);
	}
	conn_op_completed(c);
}

void conn_handle_done(struct conn *c, struct io_uring_cqe *cqe)
{
	conn_op_completed(c);
}

void conn_submit_rearms(struct worker *w)
{
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &w->rearm)
	{
		struct conn *c = list_entry(pos, struct conn, rearm_node);
		list_del(pos);
		conn_arm_recv(c);
	}
}
