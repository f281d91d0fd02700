/* server: connecting, TLS per ssl_mode, authenticating, setting up, relaying and resetting a backend connection. */
#include "server.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "backend.h"
#include "backend_tls.h"
#include "client.h"
#include "handoff.h"
#include "log.h"
#include "my_charset.h"
#include "my_frame.h"
#include "my_handshake.h"
#include "my_result.h"
#include "readback.h"
#include "ring.h"
#include "stmt_relay.h"
#include "worker.h"

/* What warmpool asks of backends; masked with what the server offers.
 * Not CLIENT_MULTI_STATEMENTS: it is a session option, set per client
 * (build_setup), so a client that did not ask gets ERR 1064 for "a; b". */
#define SERVER_WANTED_CAPS                                                                      \
	(CLIENT_LONG_PASSWORD | CLIENT_LONG_FLAG | CLIENT_LOCAL_FILES | CLIENT_PROTOCOL_41 |  \
	 CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION |                                     \
	 CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS | CLIENT_PLUGIN_AUTH |                \
	 CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)

#define AUTH_PACKET_MAX 65536

static const struct conn_ops server_ops;
static void server_send_change_user(struct server *s);
static enum my_packet_status read_packet(struct server *s, struct buf *payload, uint8_t *out_seq);

const char *server_state_str(enum server_state state)
{
	switch (state) {
	case SERVER_CONNECTING: return "connecting";
	case SERVER_GREETING: return "greeting";
	case SERVER_TLS: return "tls";
	case SERVER_AUTH: return "auth";
	case SERVER_IDLE: return "idle";
	case SERVER_SETUP: return "setup";
	case SERVER_LINKED: return "linked";
	case SERVER_RESETTING: return "resetting";
	}
	return "unknown";
}

static struct server *server_of(struct conn *c)
{
	return container_of(c, struct server, conn);
}

static bool server_transition_allowed(enum server_state from, enum server_state to)
{
	switch (from) {
	case SERVER_CONNECTING: return to == SERVER_GREETING;
	case SERVER_GREETING: return to == SERVER_TLS || to == SERVER_AUTH;
	case SERVER_TLS: return to == SERVER_AUTH;
	case SERVER_AUTH: return to == SERVER_IDLE || to == SERVER_SETUP;
	case SERVER_IDLE: return to == SERVER_SETUP;
	case SERVER_SETUP: return to == SERVER_LINKED || to == SERVER_RESETTING;
	case SERVER_LINKED: return to == SERVER_RESETTING || to == SERVER_IDLE;
	case SERVER_RESETTING: return to == SERVER_IDLE || to == SERVER_SETUP;
	}
	return false;
}

/* server_set_state is the one place a backend connection changes phase. */
static void server_set_state(struct server *s, enum server_state to)
{
	if (!server_transition_allowed(s->state, to)) {
		log_error("impossible server transition", "conn=s%llu from=%s to=%s",
			  (unsigned long long)s->conn.id, server_state_str(s->state),
			  server_state_str(to));
		abort();
	}
	s->state = to;
}

static void server_fresh_session(struct server *s);

static const struct cfg_backend *server_cfg(const struct server *s)
{
	return backend_pool_cfg(s->bp);
}

/* server_fail_open ends a connection that could not be opened; the pool
 * backs off before the next attempt. */
static void server_fail_open(struct server *s, const char *reason)
{
	conn_close(&s->conn, LOG_DEBUG, reason);
}

struct server *server_open(struct backend_pool *bp)
{
	struct worker *w = bp->w;
	const struct cfg_backend *b = backend_pool_cfg(bp);
	const struct sockaddr_storage *addr = &w->rt->backend_addr[bp->backend_idx];
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		pool_connect_failed(&bp->pool, w->now_ms, POOL_FAILURE_OTHER, strerror(errno));
		backend_connect_failed(bp, strerror(errno));
		log_error("cannot create a socket", "backend=%s error=\"%s\"", b->name, strerror(errno));
		return NULL;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct server *s = xcalloc(1, sizeof(*s));
	conn_init(&s->conn, w, &server_ops, 's', fd);
	snprintf(s->conn.peer, sizeof(s->conn.peer), "%s:%d", b->host, b->port);
	s->bp = bp;
	RAND_bytes((uint8_t *)&s->marker_key, sizeof(s->marker_key)); /* unique among servers */
	s->state = SERVER_CONNECTING;
	s->deadline_ms = w->now_ms + (uint64_t)b->connect_timeout_ms;
	pool_conn_add(&bp->pool, &s->pc);
	backend_connect_started(bp);

	/* connect, bounded by a linked timeout for the TCP part. */
	struct io_uring_sqe *sqe = worker_sqe(w);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)addr,
			      w->rt->backend_addr_len[bp->backend_idx]);
	io_uring_sqe_set_data64(sqe, ring_ud(&s->conn, RING_OP_CONNECT));
	sqe->flags |= IOSQE_IO_LINK;
	conn_op_submitted(&s->conn);
	/* The kernel reads the timespec at submit time: it lives in |s|. */
	s->connect_timeout.tv_sec = b->connect_timeout_ms / 1000;
	s->connect_timeout.tv_nsec = (long long)(b->connect_timeout_ms % 1000) * 1000000;
	sqe = worker_sqe(w);
	io_uring_prep_link_timeout(sqe, &s->connect_timeout, 0);
	io_uring_sqe_set_data64(sqe, ring_ud(&s->conn, RING_OP_LINK_TIMEOUT));
	conn_op_submitted(&s->conn);
	return s;
}

void server_open_killer(struct backend_pool *bp, uint32_t thread_id, bool whole_connection,
			const struct kill_target *target)
{
	struct server *s = server_open(bp);
	if (!s)
		return;
	s->kill_thread_id = thread_id;
	s->kill_connection = whole_connection;
	s->kill_for = *target;
	s->retired = true; /* never pooled: its close is not a lost connection */
}

/* server_send_kill: the side connection is logged in; it sends its KILL
 * and waits in IDLE, outside the pool, for the one answer. */
static void server_send_kill(struct server *s)
{
	if (!s->kill_connection && !kill_target_running(s->conn.w, &s->kill_for)) {
		/* Its statement ended while this connection logged in; the thread
		 * may now run another client's. A KILL CONNECTION still goes: that
		 * backend connection is being closed with its client anyway. */
		conn_close(&s->conn, LOG_INFO, "KILL QUERY dropped: the statement had ended");
		return;
	}
	char sql[64];
	int len = snprintf(sql, sizeof(sql), "KILL %s %u", s->kill_connection ? "CONNECTION" : "QUERY",
			   s->kill_thread_id);
	struct my_bld b;
	conn_bld_begin(&s->conn, &b);
	my_bld_packet_begin(&b, 0);
	my_bld_u8(&b, COM_QUERY);
	my_bld_bytes(&b, sql, (size_t)len);
	my_bld_packet_end(&b);
	if (conn_bld_send(&s->conn, &b))
		server_set_state(s, SERVER_IDLE);
}

/* server_on_kill_reply logs what the backend said to the side connection's
 * KILL (an unknown thread: the statement had ended) and closes it. */
static void server_on_kill_reply(struct server *s)
{
	struct buf payload = {0};
	uint8_t seq;
	struct my_err err = {0};
	if (read_packet(s, &payload, &seq) == MY_PACKET_NEED_MORE) {
		buf_cleanup(&payload);
		return;
	}
	bool failed = my_err_parse(my_cur_make(buf_head(&payload), buf_avail(&payload)), &err);
	buf_cleanup(&payload);
	char msg[4 * sizeof(err.message)];
	log_info("backend KILL sent for a client", "conn=s%llu backend=%s thread=%u kind=%s result=\"%s\"",
		 (unsigned long long)s->conn.id, server_cfg(s)->name, s->kill_thread_id,
		 s->kill_connection ? "connection" : "query",
		 failed ? log_escape(msg, sizeof(msg), err.message) : "ok");
	conn_close(&s->conn, LOG_DEBUG, "KILL answered");
}

void server_handle_connect(struct conn *c, struct io_uring_cqe *cqe)
{
	struct server *s = server_of(c);
	if (!c->closing) {
		if (cqe->res < 0) {
			s->refused = cqe->res == -ECONNREFUSED;
			server_fail_open(s, cqe->res == -ECANCELED ? "connect timed out"
								   : strerror(-cqe->res));
		} else {
			server_set_state(s, SERVER_GREETING);
			conn_arm_recv(c);
		}
	}
	conn_op_completed(c);
}

/* read_packet takes one whole packet off s->conn.in. */
static enum my_packet_status read_packet(struct server *s, struct buf *payload, uint8_t *out_seq)
{
	size_t used;
	enum my_packet_status st = my_packet_read(
		my_cur_make(buf_head(&s->conn.in), buf_avail(&s->conn.in)), AUTH_PACKET_MAX,
		payload, &used, out_seq);
	if (st == MY_PACKET_COMPLETE)
		buf_consume(&s->conn.in, used);
	return st;
}

/* server_send_packet sends one connection-phase packet with the next seq. */
static bool server_send_packet(struct server *s, const uint8_t *payload, size_t len)
{
	struct my_bld b;
	conn_bld_begin(&s->conn, &b);
	my_bld_packet_begin(&b, s->seq++);
	my_bld_bytes(&b, payload, len);
	my_bld_packet_end(&b);
	return conn_bld_send(&s->conn, &b);
}

static void server_send_login(struct server *s)
{
	const struct cfg_user *u = &s->bp->user;
	struct my_login l = {
		.capabilities = s->caps,
		.max_packet = 1u << 30,
		.collation = MY_DEFAULT_COLLATION,
	};
	snprintf(l.user, sizeof(l.user), "%s", u->name);
	/* Servers offering another default plugin (ed25519, unix_socket) switch
	 * us to the one the account uses. */
	if (s->plugin != MY_AUTH_SHA2)
		s->plugin = MY_AUTH_NATIVE;
	snprintf(l.auth_plugin, sizeof(l.auth_plugin), "%s", my_auth_plugin_str(s->plugin));
	s->auth_path = "scramble"; /* native, or caching_sha2's fast path */
	bool ok = my_auth_token(s->plugin, u->password, s->scramble, l.auth, &l.auth_len);
	(void)ok; /* native and sha2 always produce a token */
	struct my_bld b;
	conn_bld_begin(&s->conn, &b);
	my_login_build(&b, s->seq++, &l);
	explicit_bzero(l.auth, sizeof(l.auth));
	if (!conn_bld_send(&s->conn, &b))
		return;
	server_set_state(s, SERVER_AUTH);
}

static bool server_wants_tls(struct server *s, const struct my_greeting *g, bool *out_refuse)
{
	const struct cfg_backend *b = server_cfg(s);
	bool offered = g->capabilities & CLIENT_SSL;
	*out_refuse = false;
	if (b->ssl_mode == CFG_SSL_DISABLED)
		return false;
	if (b->ssl_mode == CFG_SSL_PREFERRED)
		return offered;
	*out_refuse = !offered;
	return offered;
}

static void server_on_greeting(struct server *s, const struct buf *payload, uint8_t seq)
{
	struct my_cur p = my_cur_make(buf_head(payload), buf_avail(payload));
	struct my_greeting g;
	struct my_err err;
	if (my_reply_classify_auth(p) == MY_REPLY_ERR && my_err_parse(p, &err)) {
		server_fail_open(s, err.message);
		return;
	}
	if (!my_greeting_parse(p, &g)) {
		server_fail_open(s, "malformed server greeting");
		return;
	}
	struct worker *w = s->conn.w;
	struct stats_backend *st = &w->stats.backends[s->bp->backend_idx];
	snprintf(st->server_version, sizeof(st->server_version), "%.127s", g.server_version);
	memcpy(s->scramble, g.scramble, sizeof(s->scramble));
	s->thread_id = g.connection_id;
	s->tx_variables_old = my_vars_tx_names_old(g.server_version);
	s->plugin = my_auth_plugin_from_name(g.auth_plugin);
	s->caps = backend_profile_caps(s->bp->profile_caps, g.capabilities & SERVER_WANTED_CAPS) |
		  CLIENT_PROTOCOL_41;
	s->seq = (uint8_t)(seq + 1);
	backend_tls_greeting(s->bp, g.capabilities & CLIENT_SSL);
	bool refuse;
	bool tls = server_wants_tls(s, &g, &refuse);
	if (refuse) {
		char why[128];
		snprintf(why, sizeof(why), "server does not offer TLS (ssl_mode=%s)",
			 cfg_ssl_mode_str(server_cfg(s)->ssl_mode));
		server_fail_open(s, why);
		return;
	}
	if (!tls) {
		backend_tls_release(s->bp, &s->tls_claim); /* no ticket to bring */
		server_send_login(s);
		return;
	}
	s->caps |= CLIENT_SSL;
	struct my_bld b;
	conn_bld_begin(&s->conn, &b);
	my_ssl_request_build(&b, s->seq++, s->caps, MY_DEFAULT_COLLATION);
	if (!conn_bld_send(&s->conn, &b))
		return;
	server_set_state(s, SERVER_TLS);
	const struct cfg_backend *cb = server_cfg(s);
	size_t idx = s->bp->backend_idx;
	struct tls_conn_opts opts = {
		.role = TLS_ROLE_CLIENT,
		.sni = cb->ssl_server_name,
		.verify_name = cb->ssl_mode == CFG_SSL_VERIFY_IDENTITY ? cb->ssl_server_name : NULL,
		.cache = cb->tls_resumption ? &w->rt->tls_caches[idx] : NULL,
		.metrics = &w->stats.backends[idx].tls,
	};
	conn_start_tls(&s->conn, w->rt->backend_tls[idx], &opts);
}

/* server_auth_fail ends a connection whose (re)authentication cannot go on:
 * quietly while opening (the pool logs the failed connect and marks the
 * backend down with |reason|), with a warning for a pooled connection. */
static void server_auth_fail(struct server *s, const char *reason)
{
	conn_close(&s->conn, s->pc.state == POOL_CONN_CONNECTING ? LOG_DEBUG : LOG_WARN, reason);
}

/* server_tls_verified: TLS whose certificate chain was checked against
 * ssl_ca (every ssl_mode but disabled verifies when ssl_ca is set). */
static bool server_tls_verified(const struct server *s)
{
	const struct cfg_backend *b = server_cfg(s);
	return s->conn.tls && b->ssl_ca && b->ssl_mode != CFG_SSL_DISABLED;
}

/* send_rsa_password sends the password encrypted to |pem|, the RSA key of
 * caching_sha2_password full authentication without TLS. */
static void send_rsa_password(struct server *s, const uint8_t *pem, size_t pem_len)
{
	struct buf enc = {0};
	if (my_sha2_rsa_encrypt(&enc, pem, pem_len, s->bp->user.password, s->scramble))
		server_send_packet(s, buf_head(&enc), buf_avail(&enc));
	else
		server_auth_fail(s, "cannot encrypt the password with the server's RSA key");
	buf_cleanup(&enc);
}

/* server_full_auth answers caching_sha2_password's "perform full
 * authentication". Over TLS the password travels as it is, as MySQL's
 * clients send it. Without TLS it is encrypted to the configured key; the
 * server's own key is asked for only when allow_public_key_retrieval says
 * so, since whoever strips TLS can answer with a key of its own. */
static void server_full_auth(struct server *s)
{
	const struct cfg_backend *b = server_cfg(s);
	const char *password = s->bp->user.password;
	if (s->conn.tls) {
		s->auth_path = "full-tls";
		server_send_packet(s, (const uint8_t *)password, strlen(password) + 1);
	} else if (b->server_public_key_pem) {
		s->auth_path = "full-rsa-configured-key";
		send_rsa_password(s, b->server_public_key_pem, b->server_public_key_pem_len);
	} else if (b->allow_public_key_retrieval) {
		s->auth_path = "full-rsa-retrieved-key";
		uint8_t req = MY_SHA2_REQUEST_PUBLIC_KEY;
		s->key_requested = true;
		server_send_packet(s, &req, 1);
	} else {
		server_auth_fail(s, "caching_sha2_password full authentication without TLS needs "
				    "server_public_key (or allow_public_key_retrieval = true)");
	}
}

/* server_on_auth_more handles caching_sha2_password's AuthMoreData. */
static void server_on_auth_more(struct server *s, struct my_cur data)
{
	uint8_t status;
	struct my_cur probe = data;
	if (s->plugin != MY_AUTH_SHA2 || !my_cur_u8(&probe, &status)) {
		server_auth_fail(s, "unexpected AuthMoreData");
		return;
	}
	if (data.len == 1 && status == MY_SHA2_FAST_AUTH_OK)
		return; /* OK follows */
	if (data.len == 1 && status == MY_SHA2_PERFORM_FULL_AUTH) {
		server_full_auth(s);
		return;
	}
	/* Anything else is the server's PEM public key, and only if asked for. */
	if (!s->key_requested || s->conn.tls) {
		server_auth_fail(s, "server sent a public key warmpool did not ask for");
		return;
	}
	s->key_requested = false;
	send_rsa_password(s, data.ptr, data.len);
}

/* server_clear_allowed: mysql_clear_password hands the password itself to
 * the peer: only over TLS, and over TLS whose certificate was verified
 * unless enable_cleartext_plugin says otherwise. */
static bool server_clear_allowed(const struct server *s, const char **out_why)
{
	if (!s->conn.tls) {
		*out_why = "server asks for mysql_clear_password without TLS";
		return false;
	}
	if (!server_tls_verified(s) && !server_cfg(s)->enable_cleartext_plugin) {
		*out_why = "server asks for mysql_clear_password over TLS without a verified "
			   "certificate (set ssl_ca, or enable_cleartext_plugin = true)";
		return false;
	}
	return true;
}

static void server_on_auth_switch(struct server *s, struct my_cur p)
{
	struct my_auth_switch sw;
	if (!my_auth_switch_parse(p, &sw)) {
		server_auth_fail(s, "malformed auth switch request");
		return;
	}
	s->plugin = my_auth_plugin_from_name(sw.plugin);
	s->key_requested = false;
	s->auth_path = s->plugin == MY_AUTH_CLEAR ? "clear" : "switched-scramble";
	const char *password = s->bp->user.password;
	if (s->plugin == MY_AUTH_CLEAR) {
		const char *why;
		if (!server_clear_allowed(s, &why)) {
			server_auth_fail(s, why);
			return;
		}
		server_send_packet(s, (const uint8_t *)password, strlen(password) + 1);
		return;
	}
	if (sw.data_len < MY_SCRAMBLE_LEN || (s->plugin != MY_AUTH_NATIVE && s->plugin != MY_AUTH_SHA2)) {
		char why[128];
		snprintf(why, sizeof(why), "unsupported auth plugin '%s'", sw.plugin);
		server_auth_fail(s, why);
		return;
	}
	memcpy(s->scramble, sw.data, MY_SCRAMBLE_LEN);
	uint8_t token[MY_AUTH_TOKEN_MAX];
	size_t token_len;
	bool ok = my_auth_token(s->plugin, password, s->scramble, token, &token_len);
	(void)ok;
	server_send_packet(s, token, token_len);
	explicit_bzero(token, sizeof(token));
}

/* server_on_auth_step handles a packet of an authentication exchange that
 * is not its end: an auth switch or AuthMoreData (for the login, and for a
 * COM_CHANGE_USER in a reset or a setup). Returns false, consuming nothing,
 * for anything else (OK, ERR, or what the caller must reject). */
static bool server_on_auth_step(struct server *s, struct my_cur p, uint8_t seq)
{
	struct my_cur data = p;
	switch (my_reply_classify_auth(p)) {
	case MY_REPLY_AUTH_SWITCH:
		s->seq = (uint8_t)(seq + 1);
		server_on_auth_switch(s, p);
		return true;
	case MY_REPLY_AUTH_MORE:
		s->seq = (uint8_t)(seq + 1);
		if (!my_cur_skip(&data, 1))
			server_auth_fail(s, "unexpected AuthMoreData");
		else
			server_on_auth_more(s, data);
		return true;
	default:
		return false;
	}
}

static void server_on_authenticated(struct server *s)
{
	struct backend_pool *bp = s->bp;
	backend_tls_release(bp, &s->tls_claim); /* its tickets are in */
	if (s->kill_thread_id) {
		server_send_kill(s);
		return;
	}
	pool_connect_succeeded(&bp->pool);
	backend_connect_succeeded(bp, s->conn.tls ? tls_conn_version(s->conn.tls) : NULL);
	server_fresh_session(s);
	struct tls_conn *t = s->conn.tls;
	log_info("backend connection ready",
		 "conn=s%llu backend=%s user=\"%s\" tls=%s resumed=%s ticket=%016llx handshake_ms=%.3f "
		 "auth=%s",
		 (unsigned long long)s->conn.id, server_cfg(s)->name, bp->user.name,
		 t ? tls_conn_version(t) : "off", t && tls_conn_resumed(t) ? "yes" : "no",
		 t ? (unsigned long long)tls_conn_offered_ticket(t) : 0ULL,
		 t ? tls_conn_handshake_seconds(t) * 1000 : 0.0, s->auth_path);
	server_set_state(s, SERVER_IDLE);
	backend_pool_connection_ready(bp, &s->pc);
	backend_pool_fill(bp); /* a handshake slot is free: the next may start */
}

static void server_on_auth_reply(struct server *s, const struct buf *payload, uint8_t seq)
{
	struct my_cur p = my_cur_make(buf_head(payload), buf_avail(payload));
	struct my_err err;
	s->seq = (uint8_t)(seq + 1);
	switch (my_reply_classify_auth(p)) {
	case MY_REPLY_OK:
		server_on_authenticated(s);
		return;
	case MY_REPLY_ERR:
		if (!my_err_parse(p, &err)) {
			server_fail_open(s, "malformed ERR packet");
			return;
		}
		server_fail_open(s, err.message);
		if (err.code == ER_ACCESS_DENIED_ERROR) {
			/* Waiting will not help: the credentials are wrong. */
			char msg[MY_ERR_MESSAGE_MAX + 64];
			snprintf(msg, sizeof(msg), "warmpool: backend refused login: %s", err.message);
			backend_pool_fail_waiters(s->bp, err.code, "28000", msg);
		}
		return;
	default:
		if (!server_on_auth_step(s, p, seq))
			server_fail_open(s, "unexpected packet during authentication");
	}
}

static void server_on_connection_phase(struct server *s)
{
	struct buf payload = {0};
	uint8_t seq;
	while (!s->conn.closing) {
		if (s->state == SERVER_TLS) {
			if (!tls_conn_established(s->conn.tls))
				break;
			server_send_login(s);
			continue;
		}
		buf_reset(&payload);
		enum my_packet_status st = read_packet(s, &payload, &seq);
		if (st == MY_PACKET_NEED_MORE)
			break;
		if (st != MY_PACKET_COMPLETE) {
			server_fail_open(s, my_packet_status_str(st));
			break;
		}
		if (s->state == SERVER_GREETING)
			server_on_greeting(s, &payload, seq);
		else if (s->state == SERVER_AUTH)
			server_on_auth_reply(s, &payload, seq);
		if (s->state == SERVER_IDLE)
			break;
	}
	buf_cleanup(&payload);
}

/* server_fresh_session: what a new login (or COM_CHANGE_USER) leaves. */
static void server_fresh_session(struct server *s)
{
	s->collation = MY_DEFAULT_COLLATION;
	s->db[0] = '\0';
	s->insert_id = 0;
	my_vars_clear(&s->vars);
	stmt_server_forget(s);
	s->repreparing = false;
	s->reading_back = false;
	buf_reset(&s->readback_reply);
	my_track_init(&s->track);
}

/* setup_query appends one COM_QUERY of the session setup. */
static void setup_query(struct my_bld *b, const char *q, size_t len)
{
	my_bld_packet_begin(b, 0);
	my_bld_u8(b, COM_QUERY);
	my_bld_bytes(b, q, len);
	my_bld_packet_end(b);
}

/* build_setup queues the commands that give the client its session where
 * this connection's differs: character set, insert id, session variables
 * and schema. */
static unsigned build_setup(struct server *s, const struct client *c, struct my_bld *b)
{
	unsigned n = 0;
	char q[128];
	int len;
	const struct my_collation *want = my_collation_find(c->collation);
	bool context_changes = (want && c->collation != s->collation) ||
			       !my_vars_equal(&s->vars, &c->vars) ||
			       (c->db[0] && strcmp(c->db, s->db) != 0);
	if (context_changes)
		stmt_server_invalidate(s, b); /* prepared for another session */
	if (want && c->collation != s->collation) {
		len = snprintf(q, sizeof(q), "SET NAMES %s COLLATE %s", want->charset,
			       want->collation);
		setup_query(b, q, (size_t)len);
		s->collation = c->collation;
		n++;
	}
	if (c->insert_id != s->insert_id) {
		/* LAST_INSERT_ID() follows the client: DO sets it without a result. */
		len = snprintf(q, sizeof(q), "DO LAST_INSERT_ID(%llu)", (unsigned long long)c->insert_id);
		setup_query(b, q, (size_t)len);
		s->insert_id = c->insert_id;
		n++;
	}
	if (client_multi_statements(c) != s->multi_statements || s->multi_statements_unknown) {
		/* COM_SET_OPTION: 0 turns multi-statements on, 1 off; EOF answers. */
		my_bld_packet_begin(b, 0);
		my_bld_u8(b, COM_SET_OPTION);
		my_bld_u8(b, client_multi_statements(c) ? 0 : 1);
		my_bld_u8(b, 0);
		my_bld_packet_end(b);
		s->multi_statements = client_multi_statements(c);
		s->multi_statements_unknown = false;
		n++;
	}
	if (!my_vars_equal(&s->vars, &c->vars)) {
		s->track.status_known = false; /* sql_mode may change: its flags with it */
		my_bld_packet_begin(b, 0);
		my_bld_u8(b, COM_QUERY);
		my_vars_write_restore(&s->vars, &c->vars, b);
		my_bld_packet_end(b);
		if (!my_vars_assign(&s->vars, &c->vars))
			s->stale = true; /* out of memory: retire it once free */
		n++;
	}
	if (c->db[0] && strcmp(c->db, s->db) != 0) {
		my_bld_packet_begin(b, 0);
		my_bld_u8(b, COM_INIT_DB);
		my_bld_bytes(b, c->db, strlen(c->db));
		my_bld_packet_end(b);
		/* If it fails, the client is refused and this connection reset. */
		snprintf(s->db, sizeof(s->db), "%s", c->db);
		n++;
	}
	if (s->track.diagnostics) {
		/* The warnings or error of an earlier response (another
		 * client's, maybe: SHOW WARNINGS, SHOW ERRORS, GET DIAGNOSTICS
		 * would read them). A statement that uses a table clears them
		 * (MariaDB keeps them through statements that use none, such as
		 * SELECT 1); last, so that it also clears the setup's own. */
		static const char clear[] = "DO (SELECT 1 FROM information_schema.COLLATIONS WHERE 0)";
		setup_query(b, clear, sizeof(clear) - 1);
		s->track.diagnostics = false;
		n++;
	}
	return n;
}

static void server_link(struct server *s, struct client *c)
{
	s->client = c;
	c->server = s;
	s->conn.relay_peer = &c->conn;
	c->conn.relay_peer = &s->conn;
}

void server_link_client(struct server *s, struct client *c)
{
	if (client_refuses_connection(c, s))
		return;
	server_link(s, c);
	server_set_state(s, SERVER_SETUP);
	client_begin_setup(c);
	s->frame_left = 0;
	s->frame_continues = false;
	if (!c->db[0] && s->db[0]) {
		/* The session has a schema and this client wants none: only a new
		 * login clears it. The reset's reply ends the setup. */
		server_send_change_user(s);
		s->setup_replies = 1;
		s->setup_after_reset = true; /* then the rest of the setup */
		server_fresh_session(s);
		return;
	}
	struct my_bld b;
	conn_bld_begin(&s->conn, &b);
	s->setup_replies = build_setup(s, c, &b);
	buf_reset(&s->setup_error);
	if (s->setup_replies == 0) {
		server_set_state(s, SERVER_LINKED);
		client_backend_ready(c, NULL);
		return;
	}
	conn_bld_send(&s->conn, &b);
}

/* note_status keeps the status flags of an OK or EOF warmpool's own
 * commands got: the classifier reads NO_BACKSLASH_ESCAPES from them
 * (client_sql_mode), the tracker sees only the clients' replies. */
static void note_status(struct server *s, struct my_cur reply, enum my_reply_kind kind)
{
	struct my_ok ok;
	uint16_t warnings, status;
	struct my_cur eof = reply;
	if (kind == MY_REPLY_OK && my_ok_parse(reply, &ok)) {
		s->track.status = ok.status;
		s->track.status_known = true;
	} else if (kind == MY_REPLY_EOF && my_cur_skip(&eof, 1) && my_cur_u16le(&eof, &warnings) &&
		   my_cur_u16le(&eof, &status)) {
		s->track.status = status;
		s->track.status_known = true;
	}
}

/* retire_idle_peers drops the pool's idle connections when |s| learnt that
 * its server is leaving: they talk to the same one. They go before |s|, so
 * that its client is not handed one of them next. */
static void retire_idle_peers(struct server *s)
{
	struct list *idle = &s->bp->pool.conns[POOL_CONN_IDLE];
	while (!list_empty(idle))
		server_retire(container_of(container_of(idle->next, struct pool_conn, node),
					   struct server, pc),
			      "backend going away (another connection was told so)");
}

/* between_commands: lent to a client, with nothing on its way either way. */
static bool between_commands(const struct server *s)
{
	const struct client *c = s->client;
	return s->state == SERVER_LINKED && c && !s->conn.closing && my_track_idle(&s->track) &&
	       !s->frame_left && !s->frame_continues && !buf_avail(&s->conn.in) &&
	       !c->frame_left && !buf_avail(&c->conn.in);
}

void server_retire_idle_born_before(struct backend_pool *bp, uint64_t before_ms,
				    const char *why)
{
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &bp->pool.conns[POOL_CONN_IDLE])
	{
		struct pool_conn *pc = list_entry(pos, struct pool_conn, node);
		if (pc->born_ms < before_ms)
			server_retire(container_of(pc, struct server, pc), why);
	}
}

void server_retire_born_before(struct backend_pool *bp, uint64_t before_ms)
{
	static const char why[] = "backend going away (another connection was told so)";
	struct list *pos, *tmp;
	server_retire_idle_born_before(bp, before_ms, why);
	list_for_each_safe(pos, tmp, &bp->pool.conns[POOL_CONN_ACTIVE])
	{
		struct pool_conn *pc = list_entry(pos, struct pool_conn, node);
		struct server *s = container_of(pc, struct server, pc);
		if (pc->born_ms < before_ms && between_commands(s))
			server_retire(s, why);
	}
}

/* server_leaving: |s|'s server said it is shutting down. No command goes to
 * it any more, from any worker (backend_server_leaving), and |s| closes
 * once its answer is relayed. */
static void server_leaving(struct server *s)
{
	s->leaving = true;
	backend_server_leaving(s->bp);
}

/* server_going_away closes the connection when |p| (numbered |seq|) is an
 * ERR that ends it rather than refuses a command: the server is shutting
 * down (MySQL answers what arrives during its shutdown with ERR 1053),
 * killed the session, or said goodbye before reading the command (numbered
 * 0: see farewell_crossed). The client of a setup then gets another
 * connection (client_backend_lost), instead of this ERR as if its schema or
 * character set were refused. */
static bool server_going_away(struct server *s, struct my_cur p, uint8_t seq)
{
	struct my_err err;
	if (!my_err_parse(p, &err) ||
	    (seq != 0 && err.code != ER_SERVER_SHUTDOWN && err.code != ER_CONNECTION_KILLED))
		return false;
	char why[MY_ERR_MESSAGE_MAX + 32];
	snprintf(why, sizeof(why), "backend going away: %s", err.message);
	if (err.code == ER_SERVER_SHUTDOWN)
		server_leaving(s);
	else if (err.code == ER_CONNECTION_KILLED)
		retire_idle_peers(s);
	conn_close(&s->conn, LOG_INFO, why);
	return true;
}

static void server_on_setup_reply(struct server *s)
{
	struct buf payload = {0};
	uint8_t seq;
	while (s->setup_replies > 0 && !s->conn.closing) {
		buf_reset(&payload);
		enum my_packet_status st = read_packet(s, &payload, &seq);
		if (st == MY_PACKET_NEED_MORE)
			break;
		struct my_cur p = my_cur_make(buf_head(&payload), buf_avail(&payload));
		enum my_reply_kind kind = my_reply_classify_command(p);
		/* The change-user of a setup may take more than one round trip
		 * (otherwise 0xfe is the EOF that answers COM_SET_OPTION). */
		if (st == MY_PACKET_COMPLETE && s->changing_user && server_on_auth_step(s, p, seq))
			continue;
		s->changing_user = false;
		if (st != MY_PACKET_COMPLETE ||
		    (kind != MY_REPLY_OK && kind != MY_REPLY_ERR && kind != MY_REPLY_EOF)) {
			conn_close(&s->conn, LOG_WARN, "unexpected reply to session setup");
			break;
		}
		if (kind == MY_REPLY_ERR && server_going_away(s, p, seq))
			break;
		if (kind == MY_REPLY_ERR && buf_avail(&s->setup_error) == 0 &&
		    !buf_append(&s->setup_error, p.ptr, p.len, BUF_NO_LIMIT)) {
			conn_close(&s->conn, LOG_ERROR, "out of memory");
			break;
		}
		note_status(s, p, kind);
		s->setup_replies--;
	}
	buf_cleanup(&payload);
	if (s->setup_replies > 0 || s->conn.closing)
		return;
	struct client *c = s->client;
	if (buf_avail(&s->setup_error) > 0) {
		/* The client is refused; the connection itself is fine. */
		s->client = NULL;
		c->server = NULL;
		s->conn.relay_peer = c->conn.relay_peer = NULL;
		client_backend_ready(c, &s->setup_error);
		server_release(s);
		return;
	}
	if (s->setup_after_reset) {
		/* The reset gave a fresh session: now its charset and insert id. */
		s->setup_after_reset = false;
		struct my_bld b;
		conn_bld_begin(&s->conn, &b);
		s->setup_replies = build_setup(s, c, &b);
		if (s->setup_replies > 0) {
			conn_bld_send(&s->conn, &b);
			return;
		}
	}
	server_set_state(s, SERVER_LINKED);
	client_backend_ready(c, NULL);
}

/* server_send_change_user logs in again as the pool's user, with no
 * schema and the default collation: a fresh session. Unlike
 * COM_RESET_CONNECTION it also drops the schema, and MySQL 5.6 has it. */
static void server_send_change_user(struct server *s)
{
	const struct cfg_user *u = &s->bp->user;
	uint8_t token[MY_AUTH_TOKEN_MAX];
	size_t token_len;
	enum my_auth_plugin plugin = s->plugin == MY_AUTH_SHA2 ? MY_AUTH_SHA2 : MY_AUTH_NATIVE;
	bool ok = my_auth_token(plugin, u->password, s->scramble, token, &token_len);
	(void)ok; /* native and sha2 always produce a token */
	struct my_bld b;
	conn_bld_begin(&s->conn, &b);
	my_change_user_build(&b, u->name, token, token_len, "", MY_DEFAULT_COLLATION,
			     my_auth_plugin_str(plugin));
	explicit_bzero(token, sizeof(token));
	s->changing_user = true;
	s->key_requested = false;
	conn_bld_send(&s->conn, &b);
}

/* retire_if_poisoned closes a connection an XA statement ran on instead of
 * giving it back: a prepared XA branch survives both COM_CHANGE_USER and
 * COM_RESET_CONNECTION, and would hold locks and refuse the next client's
 * writes (ERR 1399/1031). */
static bool retire_if_poisoned(struct server *s)
{
	if (!s->poisoned)
		return false;
	s->client = NULL;
	s->conn.relay_peer = NULL;
	server_retire(s, "an XA transaction ran on it: no reset clears that state");
	return true;
}

/* retire_if_outlived closes a connection coming free that was opened before
 * its server said it is leaving (another connection was answered ERR 1053,
 * backend_server_leaving): its answer came in time, but the server kills the
 * next command there. Not lent again: a statement re-sent after the ERR 1053
 * would meet it (and get ERR 1927, with no proof it did not run). */
static bool retire_if_outlived(struct server *s)
{
	if (s->pc.born_ms >= s->bp->leaving_seen_ms)
		return false;
	s->client = NULL;
	s->conn.relay_peer = NULL;
	server_retire(s, "backend going away (another connection was told so)");
	return true;
}

void server_release(struct server *s)
{
	if (retire_if_poisoned(s) || retire_if_outlived(s))
		return;
	s->client = NULL;
	s->conn.relay_peer = NULL;
	server_set_state(s, SERVER_RESETTING);
	pool_conn_set_state(&s->bp->pool, &s->pc, POOL_CONN_RESETTING);
	server_send_change_user(s);
	if (s->conn.recv_paused)
		conn_resume_recv(&s->conn);
}

bool server_clean(const struct server *s)
{
	return my_track_idle(&s->track) && !(s->track.status & SERVER_STATUS_IN_TRANS) &&
	       s->frame_left == 0 && buf_avail(&s->conn.in) == 0;
}

void server_unlink(struct server *s)
{
	if (retire_if_poisoned(s) || retire_if_outlived(s))
		return;
	s->client = NULL;
	s->conn.relay_peer = NULL;
	server_set_state(s, SERVER_IDLE);
	if (s->conn.recv_paused)
		conn_resume_recv(&s->conn);
	backend_pool_connection_released(s->bp, &s->pc);
}

/* server_on_reset_reply reads the answer to the reset's COM_CHANGE_USER:
 * its auth steps (caching_sha2_password answers with AuthMoreData, fast
 * authentication, before its OK), then an OK and nothing after it. */
static void server_on_reset_reply(struct server *s)
{
	struct buf payload = {0};
	uint8_t seq;
	for (;;) {
		buf_reset(&payload);
		enum my_packet_status st = read_packet(s, &payload, &seq);
		if (st == MY_PACKET_NEED_MORE)
			break;
		struct my_cur p = my_cur_make(buf_head(&payload), buf_avail(&payload));
		if (st == MY_PACKET_COMPLETE && server_on_auth_step(s, p, seq)) {
			if (s->conn.closing)
				break;
			continue;
		}
		s->changing_user = false;
		if (st == MY_PACKET_COMPLETE && my_reply_classify_command(p) == MY_REPLY_ERR &&
		    server_going_away(s, p, seq))
			break; /* not a failed reset: the server is leaving */
		bool ok = st == MY_PACKET_COMPLETE && my_reply_classify_command(p) == MY_REPLY_OK &&
			  buf_avail(&s->conn.in) == 0;
		if (!ok) {
			conn_close(&s->conn, LOG_WARN, "COM_CHANGE_USER reset failed; connection dropped");
			break;
		}
		server_fresh_session(s);
		note_status(s, p, MY_REPLY_OK);
		server_set_state(s, SERVER_IDLE);
		backend_pool_connection_ready(s->bp, &s->pc);
		break;
	}
	buf_cleanup(&payload);
}

bool server_forward(struct server *s, const uint8_t *data, size_t len)
{
	return conn_write(&s->conn, data, len);
}


/* TRACK_HEAD is how much of a packet the tracker needs to see. */
#define TRACK_HEAD 32

/* relay_span walks the frames in s->conn.in from its head, showing the
 * start of each packet to the tracker, and returns how many bytes can go to
 * the client in one write: up to the end of the data, a frame start whose
 * first bytes have not arrived, or the end of a response (|*out_ended|). */
static size_t relay_span(struct server *s, bool *out_ended)
{
	struct my_cur all = my_cur_make(buf_head(&s->conn.in), buf_avail(&s->conn.in));
	size_t span = 0;
	*out_ended = false;
	for (;;) {
		if (s->frame_left > 0) {
			size_t n = all.len - span < s->frame_left ? all.len - span : s->frame_left;
			span += n;
			s->frame_left -= n;
			if (s->frame_left > 0)
				return span; /* the rest of this frame is on its way */
			if (s->response_ended) {
				s->response_ended = false;
				*out_ended = true;
				return span;
			}
			continue;
		}
		struct my_cur h = my_cur_make(all.ptr + span, all.len - span);
		uint32_t len;
		uint8_t seq;
		bool prepare_reply = !s->frame_continues && s->track.state == MY_TRACK_FIRST &&
				     s->track.len > 0 &&
				     s->track.queue[s->track.head] == COM_STMT_PREPARE;
		/* Every read below is bounded by what has arrived: the tracker
		 * reads TRACK_HEAD bytes, a prepare's reply STMT_REPLY_HEAD. */
		size_t need = prepare_reply ? STMT_REPLY_HEAD : TRACK_HEAD;
		if (!my_cur_u24le(&h, &len) || !my_cur_u8(&h, &seq) || h.len < (len < need ? len : need))
			return span; /* wait for the bytes the tracker reads */
		if (prepare_reply) /* our own buffer: writable */
			stmt_server_prepare_reply(s, (uint8_t *)h.ptr, h.len < len ? h.len : len);
		s->response_ended = !s->frame_continues && my_track_server_packet(&s->track, h, len);
		s->frame_continues = len == MY_MAX_FRAME_PAYLOAD;
		s->frame_left = MY_FRAME_HEADER_LEN + (size_t)len;
	}
}

/* server_relay forwards backend bytes to the client in as few writes (and
 * TLS records) as possible, one span per response at most. When a response
 * ends, the client decides (client_response_ended) whether the connection
 * goes back to the pool. */
/* killed_before_answering: the server killed the statement before its answer
 * was complete, as it shuts down (ERR 1053) or kills the session (ERR 1927),
 * and nothing of the answer has been relayed yet. When the client keeps the
 * statement for a retry, that is a connection dying unanswered (see
 * client_backend_lost), not an answer. The ERR may come first, or (MySQL)
 * after a result set's header and some rows, in the same read: everything up
 * to it is checked to be there, and no result to have ended before it (no
 * second EOF: backend connections never negotiate CLIENT_DEPRECATE_EOF).
 * |*out_code| is the error's code. */
static bool killed_before_answering(const struct server *s, uint16_t *out_code)
{
	if (!s->client || !my_track_unanswered(&s->track) || s->frame_left || s->frame_continues)
		return false;
	struct my_cur all = my_cur_make(buf_head(&s->conn.in), buf_avail(&s->conn.in));
	unsigned eofs = 0;
	for (unsigned i = 0;; i++) {
		uint32_t len;
		uint8_t seq, marker;
		struct my_cur payload;
		if (!my_cur_u24le(&all, &len) || !my_cur_u8(&all, &seq) ||
		    !my_cur_bytes(&all, &payload, len) || !my_cur_u8(&payload, &marker))
			return false; /* not all here: what came may be relayed */
		if (marker == 0xff) {
			uint16_t code;
			if (!my_cur_u16le(&payload, &code))
				return false;
			*out_code = code;
			return my_err_ends_session(code);
		}
		if ((i == 0 && (marker == 0x00 || marker == 0xfb)) || len == MY_MAX_FRAME_PAYLOAD)
			return false; /* an OK, LOCAL INFILE, or a packet too big to look through */
		if (marker == 0xfe && len < 9 && ++eofs == 2)
			return false; /* the result ended: an ERR after it is not this answer */
	}
}

/* farewell_crossed: the awaited answer starts with an ERR numbered 0. The
 * server numbers its answer to a command from 1; an ERR numbered 0 is one it
 * sent unasked, before reading the command, as it closes the connection
 * (MySQL says so when wait_timeout ends an idle connection: ERR 4031). The
 * command crossed it on the wire and was never read: the connection is lost
 * with the command unanswered, and the client may send it again
 * (client_backend_lost). */
static bool farewell_crossed(const struct server *s)
{
	struct my_cur all = my_cur_make(buf_head(&s->conn.in), buf_avail(&s->conn.in));
	uint32_t len;
	uint8_t seq, marker;
	struct my_cur payload;
	if (!s->client || !my_track_unanswered(&s->track) || s->frame_left || s->frame_continues ||
	    s->repreparing || s->reading_back)
		return false;
	return my_cur_u24le(&all, &len) && my_cur_u8(&all, &seq) &&
	       my_cur_bytes(&all, &payload, len) && my_cur_u8(&payload, &marker) && seq == 0 &&
	       marker == 0xff;
}

/* spoke_unasked: a packet starts while no command awaits an answer. A server
 * closing a connection may say why first (MySQL's wait_timeout: ERR 4031,
 * numbered 0), between a transaction's statements too: relayed, the client
 * would read it as the answer to its next command, and every answer after
 * that would be one off. */
static bool spoke_unasked(const struct server *s)
{
	return my_track_idle(&s->track) && s->frame_left == 0 && !s->frame_continues &&
	       buf_avail(&s->conn.in) > 0;
}

/* close_unasked ends a connection that spoke unasked (|what| says when),
 * with the server's reason when it is an ERR; a client between commands is
 * kept (and told at its next command if its transaction went with the
 * connection). */
static void close_unasked(struct server *s, const char *what)
{
	struct buf payload = {0};
	uint8_t seq;
	struct my_err err = {0};
	char why[MY_ERR_MESSAGE_MAX + 80];
	snprintf(why, sizeof(why), "%s", what);
	if (read_packet(s, &payload, &seq) == MY_PACKET_COMPLETE &&
	    my_err_parse(my_cur_make(buf_head(&payload), buf_avail(&payload)), &err))
		snprintf(why, sizeof(why), "%s: %s", what, err.message);
	buf_cleanup(&payload);
	conn_close(&s->conn, LOG_INFO, why);
}

static void server_relay(struct server *s)
{
	struct buf *in = &s->conn.in;
	uint16_t code;
	if (farewell_crossed(s)) {
		s->client->unread = true;
		close_unasked(s, "backend said goodbye before reading the command");
		return;
	}
	if (!s->leaving && killed_before_answering(s, &code)) {
		/* The server closes this connection after the ERR: it is not lent
		 * again. A shutdown takes the other connections to that server
		 * too, so that neither a retry nor another client meets one. */
		if (code == ER_SERVER_SHUTDOWN)
			server_leaving(s);
		s->leaving = true;
		if (client_statement_killed(s->client, code)) {
			conn_close(&s->conn, LOG_INFO,
				   "the backend killed the statement before answering");
			return;
		}
	}
	while (buf_avail(in) > 0 && s->client && !s->conn.closing) {
		bool ended;
		if (spoke_unasked(s)) {
			close_unasked(s, "backend spoke between commands");
			return;
		}
		size_t span = relay_span(s, &ended);
		if (span == 0)
			return;
		if (s->repreparing) {
			/* The answer to warmpool's own prepare: not the client's. */
			buf_consume(in, span);
			if (ended)
				stmt_server_reprepared(s);
			continue;
		}
		if (s->reading_back) {
			/* The answer to warmpool's own read-back: not the client's. */
			bool kept = readback_reply(s, buf_head(in), span);
			buf_consume(in, span);
			if (kept && ended)
				readback_ended(s);
			continue;
		}
		struct client *c = s->client;
		if (!client_relay_answer(c, buf_head(in), span))
			return;
		buf_consume(in, span);
		if (ended)
			client_response_ended(c); /* may unlink us (and retire us: leaving) */
		if (ended && s->leaving) {
			if (!s->conn.closing) /* still lent: its client gets another */
				conn_close(&s->conn, LOG_INFO, "backend going away after a kill");
			return;
		}
		if (s->client && conn_queued(&s->client->conn) > CONN_OUT_HIGH) {
			conn_pause_recv(&s->conn);
			return;
		}
	}
}

static void server_on_input(struct conn *conn)
{
	struct server *s = server_of(conn);
	switch (s->state) {
	case SERVER_CONNECTING:
		break;
	case SERVER_GREETING:
	case SERVER_TLS:
	case SERVER_AUTH:
		server_on_connection_phase(s);
		break;
	case SERVER_IDLE: {
		if (s->kill_thread_id) {
			server_on_kill_reply(s);
			break;
		}
		/* An idle connection that speaks was killed or is shutting down. */
		struct buf payload = {0};
		uint8_t seq;
		struct my_err err = {0};
		if (read_packet(s, &payload, &seq) == MY_PACKET_COMPLETE &&
		    !my_err_parse(my_cur_make(buf_head(&payload), buf_avail(&payload)), &err))
			err.message[0] = '\0';
		buf_cleanup(&payload);
		conn_close(conn, LOG_DEBUG, err.message[0] ? err.message : "backend spoke while idle");
		break;
	}
	case SERVER_SETUP:
		server_on_setup_reply(s);
		break;
	case SERVER_LINKED:
		server_relay(s);
		break;
	case SERVER_RESETTING:
		server_on_reset_reply(s);
		break;
	}
}

static void server_on_close(struct conn *conn)
{
	struct server *s = server_of(conn);
	struct backend_pool *bp = s->bp;
	/* Opening, and not cut short by warmpool itself (stop, reload). */
	bool was_opening = s->pc.linked && s->pc.state == POOL_CONN_CONNECTING &&
			   !conn->w->stopping && !s->retired;
	if (s->lending)
		handoff_server_closed(s);
	pool_conn_remove(&bp->pool, &s->pc);
	backend_tls_release(bp, &s->tls_claim);
	/* A connection the server ended may mean a restart, whose new ticket
	 * keys refuse every ticket in the stash: one connection checks them
	 * before a burst trusts them. */
	if (was_opening || (!s->retired && !conn->w->stopping))
		backend_tls_suspect(bp);
	if (was_opening) {
		const char *reason = conn->close_reason[0] ? conn->close_reason : "closed during login";
		/* Retries that fail for the same reason (a refused login, a server
		 * still down) say it once, not once per backoff step. */
		enum log_level level = strcmp(bp->pool.last_error, reason) == 0 ? LOG_DEBUG : LOG_WARN;
		log_at(level, "backend connect failed",
		       "conn=s%llu backend=%s user=\"%s\" state=%s reason=\"%s\"",
		       (unsigned long long)conn->id, server_cfg(s)->name, bp->user.name,
		       server_state_str(s->state), reason);
		pool_connect_failed(&bp->pool, conn->w->now_ms,
				    s->refused ? POOL_FAILURE_REFUSED : POOL_FAILURE_OTHER, reason);
		backend_connect_failed(bp, reason);
	} else if (!s->retired && !conn->w->stopping) {
		conn->w->stats.backends[bp->backend_idx].lost_total++;
	}
	struct client *c = s->client;
	s->client = NULL;
	if (c)
		client_backend_lost(c, s);
	if (s->state == SERVER_IDLE && !conn->w->stopping)
		log_info("idle backend connection closed", "conn=s%llu backend=%s reason=\"%s\"",
			 (unsigned long long)conn->id, server_cfg(s)->name, conn->close_reason);
	else if (!was_opening)
		log_debug("backend connection closed", "conn=s%llu state=%s",
			  (unsigned long long)s->conn.id, server_state_str(s->state));
	/* Keep the pool at min_idle (and serve waiters), unless stopping. */
	if (!conn->w->stopping)
		backend_pool_fill(bp);
}

static void server_on_free(struct conn *conn)
{
	struct server *s = server_of(conn);
	buf_cleanup(&s->setup_error);
	buf_cleanup(&s->reprepare_error);
	buf_cleanup(&s->readback_reply);
	my_vars_clear(&s->vars);
	stmt_server_forget(s);
	xfree(s);
}

static void server_on_peer_drained(struct conn *conn)
{
	conn_resume_recv(conn);
}

/* server_on_quiet: a connection being lent can leave now. */
static void server_on_quiet(struct conn *conn)
{
	struct server *s = server_of(conn);
	if (s->lending)
		handoff_server_quiet(s);
}

static const struct conn_ops server_ops = {
	.on_input = server_on_input,
	.on_close = server_on_close,
	.on_free = server_on_free,
	.on_peer_drained = server_on_peer_drained,
	.on_quiet = server_on_quiet,
};

void server_check_deadline(struct server *s, uint64_t now_ms)
{
	if (s->pc.state == POOL_CONN_CONNECTING && now_ms >= s->deadline_ms && !s->conn.closing) {
		char why[96];
		snprintf(why, sizeof(why), "no login within connect_timeout_ms (stuck in %s)",
			 server_state_str(s->state));
		server_fail_open(s, why);
	}
}

void server_retire(struct server *s, const char *reason)
{
	s->retired = true;
	conn_close(&s->conn, LOG_INFO, reason);
}
