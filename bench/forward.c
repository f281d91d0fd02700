/* forward: a naive single-threaded io_uring TCP forwarder, the floor a proxy's kernel cost is read against. */
/*
 * warmpool-forward LISTEN_PORT BACKEND_PORT
 *
 * Every accepted client gets a backend connection of its own on 127.0.0.1,
 * connected synchronously (it measures persistent connections, not connect
 * rates); each side has one 16 KiB buffer, one recv in flight, and a send to the
 * other side of what it read before its next recv. No parsing, no TLS, no
 * pool: what issue #18 measured as "a naive io_uring forwarder", kept here
 * so that warmpool-bench can put it side by side with HAProxy and warmpool.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum fwd_op { FWD_ACCEPT = 1, FWD_RECV, FWD_SEND };

#define FWD_BUF 16384

struct fwd_side {
	int fd;
	char buf[FWD_BUF];
	size_t len;  /* bytes read, being sent to the other side */
	size_t sent; /* of them, sent so far */
};

/* A client and its backend connection; freed when both are closed and no
 * operation of theirs is in flight. */
struct fwd_pair {
	struct fwd_side side[2]; /* 0: client, 1: backend */
	int pending;
	int closing;
};

/* user_data: the pair's address, the op in bits 0-1, the side in bit 2. */
static uint64_t fwd_tag(struct fwd_pair *p, enum fwd_op op, int side)
{
	return (uint64_t)(uintptr_t)p | (uint64_t)op | ((uint64_t)side << 2);
}

static struct io_uring ring;
static int listen_fd;
static struct sockaddr_in backend;

static struct io_uring_sqe *fwd_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	if (!sqe) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	if (!sqe) {
		fprintf(stderr, "forward: submission queue full\n");
		exit(1);
	}
	return sqe;
}

static void fwd_arm_accept(void)
{
	struct io_uring_sqe *sqe = fwd_sqe();
	io_uring_prep_accept(sqe, listen_fd, NULL, NULL, 0);
	io_uring_sqe_set_data64(sqe, FWD_ACCEPT);
}

static void fwd_arm_recv(struct fwd_pair *p, int i)
{
	struct io_uring_sqe *sqe = fwd_sqe();
	io_uring_prep_recv(sqe, p->side[i].fd, p->side[i].buf, FWD_BUF, 0);
	io_uring_sqe_set_data64(sqe, fwd_tag(p, FWD_RECV, i));
	p->pending++;
}

/* fwd_arm_send sends the rest of side |i|'s buffer to the other side. */
static void fwd_arm_send(struct fwd_pair *p, int i)
{
	struct fwd_side *s = &p->side[i];
	struct io_uring_sqe *sqe = fwd_sqe();
	io_uring_prep_send(sqe, p->side[!i].fd, s->buf + s->sent, s->len - s->sent, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, fwd_tag(p, FWD_SEND, i));
	p->pending++;
}

/* fwd_close shuts both sides down (their operations complete with errors)
 * and frees the pair at its last completion. */
static void fwd_close(struct fwd_pair *p)
{
	if (!p->closing) {
		p->closing = 1;
		shutdown(p->side[0].fd, SHUT_RDWR);
		shutdown(p->side[1].fd, SHUT_RDWR);
	}
	if (p->pending == 0) {
		close(p->side[0].fd);
		close(p->side[1].fd);
		free(p);
	}
}

static void fwd_on_accept(int fd)
{
	fwd_arm_accept();
	if (fd < 0)
		return;
	int b = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (b < 0 || connect(b, (struct sockaddr *)&backend, sizeof(backend)) != 0) {
		perror("forward: backend connect");
		close(fd);
		if (b >= 0)
			close(b);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct fwd_pair *p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		close(b);
		return;
	}
	p->side[0].fd = fd;
	p->side[1].fd = b;
	fwd_arm_recv(p, 0);
	fwd_arm_recv(p, 1);
}

static void fwd_on_cqe(uint64_t tag, int res)
{
	enum fwd_op op = (enum fwd_op)(tag & 3);
	if (op == FWD_ACCEPT) {
		fwd_on_accept(res);
		return;
	}
	struct fwd_pair *p = (struct fwd_pair *)(uintptr_t)(tag & ~(uint64_t)7);
	int i = (int)((tag >> 2) & 1);
	struct fwd_side *s = &p->side[i];
	p->pending--;
	if (p->closing || res <= 0) {
		fwd_close(p);
		return;
	}
	if (op == FWD_RECV) {
		s->len = (size_t)res;
		s->sent = 0;
		fwd_arm_send(p, i);
		return;
	}
	s->sent += (size_t)res;
	if (s->sent < s->len)
		fwd_arm_send(p, i);
	else
		fwd_arm_recv(p, i);
}

static int fwd_listen(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4096) != 0) {
		perror("forward: listen");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: warmpool-forward LISTEN_PORT BACKEND_PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	listen_fd = fwd_listen(atoi(argv[1]));
	backend.sin_family = AF_INET;
	backend.sin_port = htons((uint16_t)atoi(argv[2]));
	backend.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int err = io_uring_queue_init(4096, &ring, 0);
	if (err < 0) {
		fprintf(stderr, "forward: io_uring_queue_init: %s\n", strerror(-err));
		return 1;
	}
	fwd_arm_accept();
	for (;;) {
		err = io_uring_submit_and_wait(&ring, 1);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "forward: io_uring_submit_and_wait: %s\n", strerror(-err));
			return 1;
		}
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			fwd_on_cqe(cqe->user_data, cqe->res);
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
	}
}
