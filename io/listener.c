/* listener: listening sockets shared out by the kernel (SO_REUSEPORT), one per worker. */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "my_result.h"
#include "worker.h"

static bool parse_address(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return true;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return true;
	}
	return false;
}

bool listener_open(struct worker *w, size_t idx, struct worker_listener *out, char *why,
		   size_t why_len)
{
	const struct cfg_listener *l = &w->rt->cfg.listeners[idx];
	struct sockaddr_storage ss;
	socklen_t ss_len;
	if (!parse_address(l->address, l->port, &ss, &ss_len)) {
		snprintf(why, why_len, "[listener %s]: address '%s' is not an IP literal", l->name,
			 l->address);
		return false;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, ss_len) < 0 || listen(fd, l->backlog) < 0) {
		snprintf(why, why_len, "[listener %s]: cannot listen on %s:%d: %s", l->name,
			 l->address, l->port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	*out = (struct worker_listener){.fd = fd, .cfg_idx = idx, .w = w};
	return true;
}

void listener_arm(struct worker_listener *l)
{
	if (l->accept_armed || l->fd < 0)
		return;
	struct io_uring_sqe *sqe = worker_sqe(l->w);
	io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, ring_ud(l, RING_OP_ACCEPT));
	l->accept_armed = true;
}

/* refuse_one answers a client the process has no descriptor for: the
 * worker's reserve descriptor is freed to accept it, it gets ERR 1040 in
 * place of the greeting (as mysqld does), and the reserve is taken back.
 * False when no client could be taken off the backlog: another thread took
 * the freed descriptor first, or the reserve was lost that way before. */
static bool refuse_one(struct worker_listener *l, int error)
{
	struct worker *w = l->w;
	if (w->now_ms >= w->fd_warned_ms + 1000) {
		w->fd_warned_ms = w->now_ms;
		log_warn("out of file descriptors; refusing new clients",
			 "listener=%s error=\"%s\" hint=\"raise the nofile limit or lower max_clients\"",
			 w->rt->cfg.listeners[l->cfg_idx].name, strerror(error));
	}
	w->stats.errors_total[STATS_ERR_CLIENT_REFUSED]++;
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
	int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		struct buf out = {0};
		struct my_bld b;
		my_bld_init(&b, &out, 256);
		my_err_build(&b, 0, ER_CON_COUNT_ERROR, "08004",
			     "Too many connections (warmpool is out of file descriptors)");
		if (!b.err) {
			ssize_t sent = send(fd, buf_head(&out), buf_avail(&out), MSG_DONTWAIT);
			(void)sent; /* best effort: the close follows either way */
		}
		buf_cleanup(&out);
		close(fd);
	}
	w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0;
}

void listener_retry(struct worker_listener *l)
{
	struct worker *w = l->w;
	if (w->reserve_fd < 0)
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (l->accept_paused && !w->stopping && l->fd >= 0) {
		l->accept_paused = false;
		listener_arm(l);
	}
}

void listener_handle_accept(struct worker_listener *l, struct io_uring_cqe *cqe)
{
	if (!(cqe->flags & IORING_CQE_F_MORE))
		l->accept_armed = false;
	if (cqe->res >= 0) {
		if (l->w->stopping || l->fd < 0)
			close(cqe->res); /* raced with listener_close */
		else
			client_accept(l->w, cqe->res, l->cfg_idx);
	} else if (cqe->res == -EMFILE || cqe->res == -ENFILE) {
		/* Nothing taken off the backlog: accepting again now would fail
		 * the same way at once, in a busy loop. The next tick retries. */
		l->accept_paused = !refuse_one(l, -cqe->res);
	} else if (cqe->res != -ECANCELED) {
		log_warn("accept failed", "listener=%s error=\"%s\"",
			 l->w->rt->cfg.listeners[l->cfg_idx].name, strerror(-cqe->res));
	}
	if (!l->accept_armed && !l->accept_paused && !l->w->stopping)
		listener_arm(l);
}

void listener_close(struct worker_listener *l)
{
	if (l->fd < 0)
		return;
	/* The cancel looks the descriptor up when it is issued: submit it
	 * before closing, or the armed accept would keep the socket alive. */
	struct io_uring_sqe *sqe = worker_sqe(l->w);
	io_uring_prep_cancel_fd(sqe, l->fd, 0);
	io_uring_sqe_set_data64(sqe, ring_ud(NULL, RING_OP_NONE));
	io_uring_submit(&l->w->ring);
	close(l->fd);
	l->fd = -1;
}
