/* bench_conn: greeting, SSLRequest, TLS through tls_layer, native login, quit - blocking code on non-blocking sockets (bench_sched). */
#include "bench_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_sched.h"
#include "my_auth.h"
#include "my_frame.h"
#include "my_handshake.h"
#include "my_result.h"
#include "my_track.h"

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool fail(struct bench_session *s, const char *what)
{
	snprintf(s->why, s->why_len, "%s", what);
	return false;
}

static bool flush(struct bench_session *s)
{
	while (buf_avail(&s->out) > 0) {
		ssize_t n = send(s->fd, buf_head(&s->out), buf_avail(&s->out), MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			bench_wait_io(s->fd, true);
			continue;
		}
		if (n < 0)
			return fail(s, strerror(errno));
		buf_consume(&s->out, (size_t)n);
	}
	return true;
}

/* pump reads once from the socket into s->in (through TLS when on). The
 * buffer is the thread's: it is used up before anything can switch tasks. */
static bool pump(struct bench_session *s)
{
	static __thread uint8_t raw[16384];
	ssize_t n;
	while ((n = recv(s->fd, raw, sizeof(raw), 0)) < 0 && errno == EAGAIN)
		bench_wait_io(s->fd, false);
	if (n <= 0)
		return fail(s, n == 0 ? "server closed the connection" : strerror(errno));
	if (!s->tls)
		return buf_append(&s->in, raw, (size_t)n, BUF_NO_LIMIT) || fail(s, "out of memory");
	if (tls_conn_input(s->tls, raw, (size_t)n, &s->in, &s->out) != TLS_IO_OK)
		return fail(s, tls_conn_error(s->tls));
	return flush(s);
}

/* The largest packet the bench reads: results of --large-first included. */
#define BENCH_MAX_PACKET (64u << 20)

static bool read_packet(struct bench_session *s, struct buf *payload, uint8_t *seq)
{
	for (;;) {
		size_t used;
		buf_reset(payload);
		enum my_packet_status st = my_packet_read(
			my_cur_make(buf_head(&s->in), buf_avail(&s->in)), BENCH_MAX_PACKET, payload, &used,
			seq);
		if (st == MY_PACKET_COMPLETE) {
			buf_consume(&s->in, used);
			return true;
		}
		if (st != MY_PACKET_NEED_MORE)
			return fail(s, my_packet_status_str(st));
		if (!pump(s))
			return false;
	}
}

static bool write_plain(struct bench_session *s, const struct buf *b)
{
	bool ok = s->tls ? tls_conn_write(s->tls, buf_head(b), buf_avail(b), &s->out)
			 : buf_append(&s->out, buf_head(b), buf_avail(b), BUF_NO_LIMIT);
	return (ok || fail(s, "cannot queue output")) && flush(s);
}

static int dial(const struct bench_target *t, char *why, size_t why_len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	char port[16];
	snprintf(port, sizeof(port), "%d", t->port);
	if (getaddrinfo(t->host, port, &hints, &res) != 0) {
		snprintf(why, why_len, "cannot resolve %s", t->host);
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int err = 0;
	socklen_t err_len = sizeof(err);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		err = errno;
		if (err == EINPROGRESS) {
			bench_wait_io(fd, true);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0)
				err = errno;
		}
	}
	if (fd >= 0 && err != 0) {
		snprintf(why, why_len, "connect: %s", strerror(err));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static bool start_tls(struct bench_session *s, const struct bench_target *t, uint32_t caps,
		      uint8_t *seq, struct bench_sample *out)
{
	struct buf pkt = {0};
	struct my_bld b;
	my_bld_init(&b, &pkt, BUF_NO_LIMIT);
	my_ssl_request_build(&b, (*seq)++, caps, MY_DEFAULT_COLLATION);
	bool ok = my_bld_ok(&b) && write_plain(s, &pkt);
	buf_cleanup(&pkt);
	if (!ok)
		return false;
	double t0 = bench_now(), c0 = bench_thread_cpu();
	struct tls_conn_opts opts = {
		.role = TLS_ROLE_CLIENT,
		.sni = t->server_name,
		.verify_name = t->server_name,
		.cache = t->cache,
	};
	s->tls = tls_conn_new(t->ctx, &opts);
	if (!s->tls || tls_conn_start(s->tls, &s->out) != TLS_IO_OK || !flush(s))
		return fail(s, "cannot start TLS");
	while (!tls_conn_established(s->tls)) {
		if (!pump(s))
			return false;
	}
	out->handshake_cpu = bench_thread_cpu() - c0;
	out->handshake_seconds = bench_now() - t0;
	out->resumed = tls_conn_resumed(s->tls);
	return true;
}

static bool login(struct bench_session *s, const struct bench_target *t, const struct my_greeting *g,
		  uint32_t caps, uint8_t seq)
{
	struct my_login l = {.capabilities = caps, .max_packet = 1 << 24,
			     .collation = MY_DEFAULT_COLLATION};
	snprintf(l.user, sizeof(l.user), "%s", t->user);
	enum my_auth_plugin plugin = my_auth_plugin_from_name(g->auth_plugin);
	if (plugin != MY_AUTH_SHA2)
		plugin = MY_AUTH_NATIVE;
	snprintf(l.auth_plugin, sizeof(l.auth_plugin), "%s", my_auth_plugin_str(plugin));
	if (!my_auth_token(plugin, t->password, g->scramble, l.auth, &l.auth_len))
		return fail(s, "cannot compute the auth token");
	struct buf pkt = {0}, payload = {0};
	struct my_bld b;
	my_bld_init(&b, &pkt, BUF_NO_LIMIT);
	my_login_build(&b, seq, &l);
	bool ok = my_bld_ok(&b) && write_plain(s, &pkt);
	uint8_t rseq;
	/* The sha2 fast path sends AuthMoreData before the OK. */
	while (ok && (ok = read_packet(s, &payload, &rseq))) {
		struct my_cur p = my_cur_make(buf_head(&payload), buf_avail(&payload));
		enum my_reply_kind kind = my_reply_classify_auth(p);
		if (kind == MY_REPLY_OK)
			break;
		if (kind != MY_REPLY_AUTH_MORE) {
			struct my_err err;
			ok = fail(s, kind == MY_REPLY_ERR && my_err_parse(p, &err) ? err.message
										 : "login refused");
		}
	}
	buf_cleanup(&pkt);
	buf_cleanup(&payload);
	return ok;
}

bool bench_open(const struct bench_target *t, struct bench_session *s,
		struct bench_sample *out, char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	memset(s, 0, sizeof(*s));
	s->why = why;
	s->why_len = why_len;
	double t0 = bench_now();
	s->fd = dial(t, why, why_len);
	if (s->fd < 0)
		return false;
	struct my_greeting g;
	uint8_t seq;
	bool ok = read_packet(s, &s->payload, &seq);
	if (ok && !my_greeting_parse(my_cur_make(buf_head(&s->payload), buf_avail(&s->payload)), &g))
		ok = fail(s, "bad greeting");
	uint32_t caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH |
			CLIENT_LONG_PASSWORD | CLIENT_TRANSACTIONS | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
	seq++;
	if (ok && t->tls) {
		caps |= CLIENT_SSL;
		ok = (g.capabilities & CLIENT_SSL) ? start_tls(s, t, caps, &seq, out)
						   : fail(s, "server does not offer TLS");
	}
	if (ok)
		ok = login(s, t, &g, caps, seq);
	out->connect_seconds = bench_now() - t0;
	return ok;
}

/* write_command sends one command packet (sequence id 0). */
static bool write_command(struct bench_session *s, uint8_t cmd, const char *arg)
{
	struct buf pkt = {0};
	struct my_bld b;
	my_bld_init(&b, &pkt, BUF_NO_LIMIT);
	my_bld_packet_begin(&b, 0);
	my_bld_u8(&b, cmd);
	my_bld_bytes(&b, arg, strlen(arg));
	my_bld_packet_end(&b);
	bool ok = my_bld_ok(&b) && write_plain(s, &pkt);
	buf_cleanup(&pkt);
	return ok;
}

bool bench_query(struct bench_session *s, const char *sql)
{
	if (!write_command(s, COM_QUERY, sql))
		return false;
	struct my_track track;
	my_track_init(&track);
	my_track_command(&track, COM_QUERY);
	uint8_t seq;
	while (!my_track_idle(&track)) {
		if (!read_packet(s, &s->payload, &seq))
			return false;
		struct my_cur p = my_cur_make(buf_head(&s->payload), buf_avail(&s->payload));
		my_track_server_packet(&track, p, buf_avail(&s->payload));
		if (track.failed)
			return fail(s, "response not understood");
	}
	if (!track.last_error)
		return true;
	struct my_err err;
	if (my_err_parse(my_cur_make(buf_head(&s->payload), buf_avail(&s->payload)), &err)) {
		snprintf(s->why, s->why_len, "the query failed: ERR %u: %s", err.code, err.message);
		return false;
	}
	return fail(s, "the query failed");
}

void bench_close(struct bench_session *s, bool quit)
{
	if (quit && s->fd >= 0)
		write_command(s, COM_QUIT, ""); /* the server counts no aborted connection */
	tls_conn_free(s->tls);
	if (s->fd >= 0)
		close(s->fd);
	buf_cleanup(&s->in);
	buf_cleanup(&s->out);
	buf_cleanup(&s->payload);
	s->fd = -1;
	s->tls = NULL;
}

bool bench_connect(const struct bench_target *t, struct bench_sample *out, char *why,
		   size_t why_len)
{
	struct bench_session s;
	bool ok = bench_open(t, &s, out, why, why_len);
	bench_close(&s, ok);
	return ok;
}
