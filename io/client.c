/* client: greeting, frontend TLS, authentication, waiting, and relaying for one client. */
#include "client.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backend.h"
#include "balance.h"
#include "commit_marker.h"
#include "log.h"
#include "my_command.h"
#include "my_frame.h"
#include "my_charset.h"
#include "my_result.h"
#include "readback.h"
#include "server.h"
#include "stmt_relay.h"
#include "worker.h"

/* What warmpool offers clients: nothing that would make the backend's reply
 * format differ from what pooled connections negotiated (no DEPRECATE_EOF,
 * no SESSION_TRACK, no compression, no query attributes). */
#define CLIENT_OFFERED_CAPS                                                                  \
	(CLIENT_LONG_PASSWORD | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG | CLIENT_CONNECT_WITH_DB | \
	 CLIENT_LOCAL_FILES | CLIENT_IGNORE_SPACE | CLIENT_PROTOCOL_41 | CLIENT_INTERACTIVE |   \
	 CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_STATEMENTS |            \
	 CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS | CLIENT_PLUGIN_AUTH |                 \
	 CLIENT_CONNECT_ATTRS | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)

#define LOGIN_PACKET_MAX 65536

/* Commands a client may have waiting behind the one in hand before warmpool
 * stops reading from it (client_flow), and where reading starts again. */
#define CLIENT_IN_HIGH (1u << 20)
#define CLIENT_IN_LOW (256u << 10)

static const struct conn_ops client_ops;

const char *client_state_str(enum client_state state)
{
	switch (state) {
	case CLIENT_GREETED: return "greeted";
	case CLIENT_TLS: return "tls";
	case CLIENT_LOGIN: return "login";
	case CLIENT_AUTH_SWITCH: return "auth_switch";
	case CLIENT_WAITING: return "waiting";
	case CLIENT_SETUP: return "setup";
	case CLIENT_LINKED: return "linked";
	case CLIENT_IDLE: return "idle";
	}
	return "unknown";
}

static struct client *client_of(struct conn *c)
{
	return container_of(c, struct client, conn);
}

static bool client_transition_allowed(enum client_state from, enum client_state to)
{
	switch (from) {
	case CLIENT_GREETED: return to == CLIENT_TLS || to == CLIENT_AUTH_SWITCH || to == CLIENT_WAITING;
	case CLIENT_TLS: return to == CLIENT_LOGIN;
	case CLIENT_LOGIN: return to == CLIENT_AUTH_SWITCH || to == CLIENT_WAITING;
	case CLIENT_AUTH_SWITCH: return to == CLIENT_WAITING;
	case CLIENT_WAITING: return to == CLIENT_SETUP;
	case CLIENT_SETUP: return to == CLIENT_LINKED || to == CLIENT_WAITING; /* lost: retry */
	case CLIENT_LINKED: return to == CLIENT_IDLE;
	case CLIENT_IDLE: return to == CLIENT_WAITING;
	}
	return false;
}

/* client_set_state is the one place a client changes phase. */
static void client_set_state(struct client *c, enum client_state to)
{
	if (!client_transition_allowed(c->state, to)) {
		log_error("impossible client transition", "conn=c%llu from=%s to=%s",
			  (unsigned long long)c->conn.id, client_state_str(c->state),
			  client_state_str(to));
		abort();
	}
	c->state = to;
	if (to == CLIENT_LINKED)
		list_del(&c->handshake_node);
}

static const struct cfg_listener *client_listener(const struct client *c)
{
	return &c->conn.w->rt->cfg.listeners[c->listener_idx];
}

/* send_packet_and_close answers with an ERR and closes once it is sent. */
void client_fail(struct client *c, uint16_t code, const char *sqlstate, const char *message)
{
	struct my_bld b;
	conn_bld_begin(&c->conn, &b);
	my_err_build(&b, c->seq++, code, sqlstate, message);
	conn_bld_send(&c->conn, &b);
	conn_close_after_flush(&c->conn);
}

static void client_send_greeting(struct client *c)
{
	struct worker *w = c->conn.w;
	const struct cfg *cfg = &w->rt->cfg;
	const struct cfg_listener *l = client_listener(c);
	struct my_greeting g = {
		.connection_id = (uint32_t)c->conn.id,
		.capabilities = CLIENT_OFFERED_CAPS | (w->rt->listener_tls[c->listener_idx] ? CLIENT_SSL : 0),
		.collation = MY_DEFAULT_COLLATION,
		.status = SERVER_STATUS_AUTOCOMMIT,
	};
	const char *version = cfg->server_version ? cfg->server_version
						  : w->stats.backends[l->backend_idx].server_version;
	snprintf(g.server_version, sizeof(g.server_version), "%s",
		 version[0] ? version : "8.0.0-warmpool");
	memcpy(g.scramble, c->scramble, sizeof(g.scramble));
	snprintf(g.auth_plugin, sizeof(g.auth_plugin), "%s", my_auth_plugin_str(c->plugin));
	struct my_bld b;
	conn_bld_begin(&c->conn, &b);
	my_greeting_build(&b, c->seq++, &g);
	conn_bld_send(&c->conn, &b);
}

/* client_read_peer names the client's peer for logs ("addr:port") and
 * keeps its address for the per-address budget (IPv4 mapped into IPv6). */
static void client_read_peer(struct client *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (getpeername(fd, (struct sockaddr *)&ss, &ss_len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
			port = ntohs(a->sin_port);
			c->peer_key.b[10] = c->peer_key.b[11] = 0xff;
			memcpy(&c->peer_key.b[12], &a->sin_addr, 4);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			port = ntohs(a->sin6_port);
			memcpy(c->peer_key.b, &a->sin6_addr, 16);
		}
	}
	snprintf(c->conn.peer, sizeof(c->conn.peer), "%s:%d", host, port);
}

static struct addr_budget_limits client_addr_limits(const struct client *c)
{
	const struct cfg *cfg = &c->conn.w->rt->cfg;
	return (struct addr_budget_limits){
		.max_handshakes = cfg->max_handshakes_per_address,
		.max_failures = cfg->max_auth_failures_per_address,
		.window_ms = (uint64_t)cfg->auth_failure_window_ms,
	};
}

/* client_admit_address applies the per-address budget to a new client:
 * false after refusing it (an address still logging in too many times at
 * once, or blocked after failed logins; as mysqld, the ERR replaces the
 * greeting). */
static bool client_admit_address(struct client *c)
{
	struct worker *w = c->conn.w;
	struct addr_budget_limits lim = client_addr_limits(c);
	uint64_t retry_ms;
	enum addr_verdict v = addr_budget_admit(&w->rt->addrs, &c->peer_key, &lim, w->now_ms,
						 &retry_ms);
	c->budget_admitted = v == ADDR_ADMITTED;
	if (v == ADDR_ADMITTED || v == ADDR_UNTRACKED)
		return true;
	char host[64], msg[256];
	snprintf(host, sizeof(host), "%s", c->conn.peer);
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	log_warn("client refused by its address's budget", "conn=c%llu peer=%s verdict=%s",
		 (unsigned long long)c->conn.id, c->conn.peer, addr_verdict_str(v));
	w->stats.errors_total[STATS_ERR_CLIENT_REFUSED]++;
	if (v == ADDR_BLOCKED) {
		snprintf(msg, sizeof(msg), "Host '%s' is blocked because of many failed logins "
			 "(warmpool max_auth_failures_per_address); retry in %llu s", host,
			 (unsigned long long)(retry_ms + 999) / 1000);
		client_fail(c, ER_HOST_IS_BLOCKED, "HY000", msg);
	} else {
		client_fail(c, ER_CON_COUNT_ERROR, "08004", "Too many connections from this address "
			    "still logging in (warmpool max_handshakes_per_address)");
	}
	return false;
}

/* client_settle_address ends the client's login for the budget: |failed|
 * adds to its address's failures (a denied COM_CHANGE_USER too). */
static void client_settle_address(struct client *c, bool failed)
{
	if (!c->budget_admitted && !failed)
		return;
	struct addr_budget_limits lim = client_addr_limits(c);
	addr_budget_settle(&c->conn.w->rt->addrs, &c->peer_key, c->budget_admitted, failed, &lim,
			   c->conn.w->now_ms);
	c->budget_admitted = false;
}

void client_accept(struct worker *w, int fd, size_t listener_idx)
{
	struct runtime *rt = w->rt;
	struct client *c = xcalloc(1, sizeof(*c));
	conn_init(&c->conn, w, &client_ops, 'c', fd);
	c->listener_idx = listener_idx;
	c->plugin = (enum my_auth_plugin)rt->cfg.listeners[listener_idx].auth_plugin;
	c->transaction_mode = rt->cfg.listeners[listener_idx].pool_mode == CFG_POOL_TRANSACTION;
	c->handshake_deadline_ms = w->now_ms + (uint64_t)rt->cfg.handshake_timeout_ms;
	c->avoid_backend = SIZE_MAX;
	list_add_tail(&w->handshaking, &c->handshake_node);
	list_init(&c->waiter.node);

	client_read_peer(c, fd);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	if (atomic_fetch_add(&rt->n_clients, 1) >= rt->cfg.max_clients) {
		atomic_fetch_sub(&rt->n_clients, 1);
		log_warn("max_clients reached; refusing client", "conn=c%llu peer=%s max_clients=%d",
			 (unsigned long long)c->conn.id, c->conn.peer, rt->cfg.max_clients);
		w->stats.errors_total[STATS_ERR_CLIENT_REFUSED]++;
		client_fail(c, ER_CON_COUNT_ERROR, "08004", "Too many connections (warmpool max_clients)");
		return;
	}
	if (!client_admit_address(c)) {
		atomic_fetch_sub(&rt->n_clients, 1);
		return;
	}
	c->counted = true;
	w->stats.clients++;
	w->stats.clients_handshaking++;
	w->stats.listeners[listener_idx].accepted_total++;
	my_random_scramble(c->scramble);
	log_debug("client connected", "conn=c%llu peer=%s", (unsigned long long)c->conn.id,
		  c->conn.peer);
	client_send_greeting(c);
	conn_arm_recv(&c->conn);
}

/* read_login_packet takes one connection-phase packet off c->in into
 * |payload|. Returns false while incomplete or after closing on bad input. */
static bool read_login_packet(struct client *c, struct buf *payload, bool *out_closed)
{
	size_t used;
	uint8_t seq;
	*out_closed = false;
	enum my_packet_status st = my_packet_read(my_cur_make(buf_head(&c->conn.in), buf_avail(&c->conn.in)),
						  LOGIN_PACKET_MAX, payload, &used, &seq);
	if (st == MY_PACKET_NEED_MORE)
		return false;
	if (st != MY_PACKET_COMPLETE || seq != c->seq) {
		log_warn("bad packet during login", "conn=c%llu peer=%s status=%s seq=%u expected=%u",
			 (unsigned long long)c->conn.id, c->conn.peer, my_packet_status_str(st), seq,
			 c->seq);
		*out_closed = true;
		c->conn.w->stats.errors_total[STATS_ERR_CLIENT_PROTOCOL]++;
		client_fail(c, ER_HANDSHAKE_ERROR, "08S01", "Bad handshake");
		return false;
	}
	buf_consume(&c->conn.in, used);
	c->seq = (uint8_t)(seq + 1);
	return true;
}

static void client_deny(struct client *c, bool used_password)
{
	char msg[MY_NAME_MAX + 128];
	char host[64];
	snprintf(host, sizeof(host), "%s", c->conn.peer);
	char *colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	snprintf(msg, sizeof(msg), "Access denied for user '%s'@'%s' (using password: %s)",
		 c->user, host, used_password ? "YES" : "NO");
	char user[4 * MY_NAME_MAX];
	log_warn("authentication failed", "conn=c%llu peer=%s user=\"%s\"",
		 (unsigned long long)c->conn.id, c->conn.peer, log_escape(user, sizeof(user), c->user));
	c->conn.w->stats.errors_total[STATS_ERR_CLIENT_AUTH]++;
	client_settle_address(c, true);
	client_fail(c, ER_ACCESS_DENIED_ERROR, "28000", msg);
}

static void client_request_backend(struct client *c);

/* client_take_user_slot counts the client against its user's max_clients;
 * false (and the client refused, as MySQL does) when that is reached. */
static bool client_take_user_slot(struct client *c, const struct cfg_user *u)
{
	struct user_slot *slot = runtime_user_slot(c->conn.w->rt, u->name);
	if (!slot)
		return true; /* a user added by a reload still in progress: no limit yet */
	long had = atomic_fetch_add(&slot->clients, 1);
	c->user_slot = slot;
	if (u->max_clients == 0 || had < u->max_clients)
		return true;
	char msg[MY_NAME_MAX + 96];
	snprintf(msg, sizeof(msg), "User '%s' already has more than %d active connections "
		 "(warmpool max_clients of the user)", u->name, u->max_clients);
	log_warn("user max_clients reached; refusing client", "conn=c%llu user=\"%s\" max_clients=%d",
		 (unsigned long long)c->conn.id, u->name, u->max_clients);
	c->conn.w->stats.errors_total[STATS_ERR_CLIENT_REFUSED]++;
	client_fail(c, ER_TOO_MANY_USER_CONNECTIONS, "42000", msg);
	return false;
}

/* client_verify_token checks the client's answer to our scramble for user
 * c->user and tells a caching_sha2 client that the fast path applied. The
 * user on success; NULL after refusing it (the ERR and the close are on
 * their way). */
static const struct cfg_user *client_verify_token(struct client *c, const uint8_t *token,
						  size_t token_len)
{
	static const char no_such_user[] = "\x01warmpool: a password no token matches";
	const struct cfg_user *u = cfg_find_user(&c->conn.w->rt->cfg, c->user);
	/* Unknown users go through the same hashing against a password that
	 * is never accepted, so that neither the reply nor its timing tells
	 * which users exist. */
	bool verified = my_auth_verify(c->plugin, u ? u->password : no_such_user, c->scramble,
				       token, token_len);
	if (!u || !verified) {
		client_deny(c, token_len > 0);
		return NULL;
	}
	if (c->plugin == MY_AUTH_SHA2 && u->password[0]) {
		/* We know the password, so the fast path always applies. */
		struct my_bld b;
		conn_bld_begin(&c->conn, &b);
		my_bld_packet_begin(&b, c->seq++);
		my_bld_u8(&b, MY_AUTH_MORE_HEADER);
		my_bld_u8(&b, MY_SHA2_FAST_AUTH_OK);
		my_bld_packet_end(&b);
		if (!conn_bld_send(&c->conn, &b))
			return NULL;
	}
	return u;
}

/* client_start_session: |u| is authenticated (a login, or a client's
 * COM_CHANGE_USER): count it against the user's max_clients, and ask for a
 * backend connection of the user's pool; its setup checks the schema and
 * the login's OK goes out when it is ready (client_backend_ready). */
static void client_start_session(struct client *c, const struct cfg_user *u)
{
	if (!client_take_user_slot(c, u))
		return;
	kill_client_listed(c);
	c->transaction_mode = u->pool_mode
		? u->pool_mode - 1 == CFG_POOL_TRANSACTION
		: client_listener(c)->pool_mode == CFG_POOL_TRANSACTION;
	client_set_state(c, CLIENT_WAITING);
	c->bp = backend_pool_get(c->conn.w, balance_pick(c->conn.w, c->listener_idx, SIZE_MAX), u,
				 backend_profile_of(c->caps));
	client_request_backend(c);
}

/* client_check_token verifies the client's answer to our scramble. */
static void client_check_token(struct client *c, const uint8_t *token, size_t token_len)
{
	const struct cfg_user *u = client_verify_token(c, token, token_len);
	if (!u)
		return;
	client_settle_address(c, false);
	c->authenticated = true;
	c->conn.w->stats.clients_handshaking--;
	client_start_session(c, u);
}

/* client_collation_of: the collation a client gets for the one its login
 * names. One warmpool does not know cannot be set by name on a connection,
 * which would then keep whatever character set the previous client left
 * there: such a client gets the one backend connections log in with. */
static uint8_t client_collation_of(uint8_t id)
{
	return my_collation_find(id) ? id : MY_DEFAULT_COLLATION;
}

static void client_handle_login(struct client *c, const struct my_login *login)
{
	c->caps = login->capabilities & (CLIENT_OFFERED_CAPS | CLIENT_SSL);
	c->collation = client_collation_of(login->collation);
	snprintf(c->user, sizeof(c->user), "%s", login->user);
	snprintf(c->db, sizeof(c->db), "%s", login->db);
	if (!(c->caps & CLIENT_SECURE_CONNECTION)) {
		client_fail(c, ER_HANDSHAKE_ERROR, "08S01", "Client does not support 4.1 authentication");
		return;
	}
	if (client_listener(c)->require_tls && !c->conn.tls) {
		char user[4 * MY_NAME_MAX];
		log_warn("client without TLS refused", "conn=c%llu peer=%s user=\"%s\"",
			 (unsigned long long)c->conn.id, c->conn.peer,
			 log_escape(user, sizeof(user), c->user));
		client_fail(c, ER_SECURE_TRANSPORT_REQUIRED, "HY000",
			    "Connections using insecure transport are prohibited (require_tls)");
		return;
	}
	enum my_auth_plugin theirs = login->auth_plugin[0]
					     ? my_auth_plugin_from_name(login->auth_plugin)
					     : MY_AUTH_NATIVE;
	if (theirs != c->plugin) {
		/* The client answered for another plugin: ask again with ours. */
		struct my_bld b;
		conn_bld_begin(&c->conn, &b);
		my_auth_switch_build(&b, c->seq++, my_auth_plugin_str(c->plugin), c->scramble);
		conn_bld_send(&c->conn, &b);
		client_set_state(c, CLIENT_AUTH_SWITCH);
		return;
	}
	client_check_token(c, login->auth, login->auth_len);
}

static void client_on_login_packet(struct client *c, const struct buf *payload)
{
	struct my_login login;
	if (!my_login_parse(my_cur_make(buf_head(payload), buf_avail(payload)), &login)) {
		log_warn("malformed login packet", "conn=c%llu peer=%s", (unsigned long long)c->conn.id,
			 c->conn.peer);
		c->conn.w->stats.errors_total[STATS_ERR_CLIENT_PROTOCOL]++;
		client_fail(c, ER_HANDSHAKE_ERROR, "08S01", "Bad handshake");
		return;
	}
	if (!login.is_ssl_request) {
		client_handle_login(c, &login);
		return;
	}
	SSL_CTX *ctx = c->conn.w->rt->listener_tls[c->listener_idx];
	if (c->state != CLIENT_GREETED || !ctx) {
		client_fail(c, ER_HANDSHAKE_ERROR, "08S01", "TLS is not available on this listener");
		return;
	}
	client_set_state(c, CLIENT_TLS);
	struct tls_conn_opts opts = {
		.role = TLS_ROLE_SERVER,
		.metrics = &c->conn.w->stats.listeners[c->listener_idx].tls,
	};
	if (conn_start_tls(&c->conn, ctx, &opts) &&
	    tls_conn_established(c->conn.tls))
		client_set_state(c, CLIENT_LOGIN);
}

static void client_on_connection_phase(struct client *c)
{
	struct buf payload = {0};
	bool closed = false;
	/* One login attempt per connection: once it is refused (the ERR is on
	 * its way, then the close), nothing after it in the input is read, so
	 * a client cannot pipeline guesses. */
	while (!c->conn.closing && !c->conn.close_after_flush && !closed) {
		if (c->state == CLIENT_TLS) {
			if (!tls_conn_established(c->conn.tls))
				break;
			log_debug("client TLS established", "conn=c%llu version=%s resumed=%s",
				  (unsigned long long)c->conn.id, tls_conn_version(c->conn.tls),
				  tls_conn_resumed(c->conn.tls) ? "yes" : "no");
			client_set_state(c, CLIENT_LOGIN);
		}
		if (c->state != CLIENT_GREETED && c->state != CLIENT_LOGIN &&
		    c->state != CLIENT_AUTH_SWITCH)
			break;
		buf_reset(&payload);
		if (!read_login_packet(c, &payload, &closed))
			break;
		if (c->state == CLIENT_AUTH_SWITCH)
			client_check_token(c, buf_head(&payload), buf_avail(&payload));
		else
			client_on_login_packet(c, &payload);
	}
	buf_cleanup(&payload);
}

/* client_pick_backend chooses the group member of the client's next
 * backend connection (each transaction in transaction mode, each new
 * connection in session mode). */
static void client_pick_backend(struct client *c)
{
	struct worker *w = c->conn.w;
	/* A lost COMMIT's marker row is read on the server the COMMIT went to:
	 * another member may not have it yet (replication), and "no row" there
	 * would run a committed transaction again. */
	if (client_listener(c)->n_members < 2 || c->marker == CLIENT_MARKER_CHECK_DUE)
		return;
	const struct cfg_user *u = cfg_find_user(&w->rt->cfg, c->user);
	if (!u)
		return; /* removed by a reload: it stays with the pool it has */
	size_t avoid = c->avoid_backend;
	c->avoid_backend = SIZE_MAX;
	c->bp = backend_pool_get(w, balance_pick(w, c->listener_idx, avoid), u,
				 backend_profile_of(c->caps));
}

/* request_backend_until asks c->bp for a connection, waiting until |deadline_ms|. */
static void request_backend_until(struct client *c, uint64_t deadline_ms)
{
	struct pool_conn *pc = pool_acquire(&c->bp->pool, &c->waiter, deadline_ms);
	if (pc) {
		server_link_client(container_of(pc, struct server, pc), c);
		return;
	}
	log_debug("client waits for a backend connection", "conn=c%llu waiters=%zu",
		  (unsigned long long)c->conn.id, c->bp->pool.n_waiters);
	backend_pool_fill(c->bp);
}

static void client_request_backend(struct client *c)
{
	struct worker *w = c->conn.w;
	c->wait_start_ms = w->now_ms;
	client_pick_backend(c);
	request_backend_until(c, w->now_ms + (uint64_t)w->rt->cfg.client_wait_timeout_ms);
}

void client_reroute(struct client *c)
{
	struct worker *w = c->conn.w;
	struct backend_pool *from = c->bp;
	client_pick_backend(c);
	if (c->bp == from)
		return; /* nowhere better: it keeps its place */
	pool_waiter_cancel(&from->pool, &c->waiter);
	log_info("client moved to another group member", "conn=c%llu backend=%s",
		 (unsigned long long)c->conn.id, backend_pool_cfg(c->bp)->name);
	request_backend_until(c, c->wait_start_ms + (uint64_t)w->rt->cfg.client_wait_timeout_ms);
}

bool client_refuses_connection(struct client *c, struct server *s)
{
	if (s->pc.born_ms >= c->fresh_after_ms || s->bp->backend_idx != c->fresh_backend)
		return false;
	/* Idle, it was retired when the lost connection died (client_replay);
	 * busy then, it came free since, and may have died too, its EOF not
	 * read yet: sent there, the command would be lost again, one of its
	 * retries spent for nothing. Another member's did not die with it. */
	server_retire(s, "opened before a connection died under a statement now re-sent");
	struct worker *w = c->conn.w;
	request_backend_until(c, c->wait_start_ms + (uint64_t)w->rt->cfg.client_wait_timeout_ms);
	return true;
}

void client_begin_setup(struct client *c)
{
	struct worker *w = c->conn.w;
	metric_hist_observe(&w->stats.wait_seconds, (double)(w->now_ms - c->wait_start_ms) / 1000);
	client_set_state(c, CLIENT_SETUP);
}

/* client_keeps_session: its backend connection holds state of the client
 * that warmpool does not restore elsewhere: a pin (until it leaves or
 * resets), or a hold (a read-back in flight, the next transaction's
 * characteristics, long data: until they are used). */
static bool client_keeps_session(const struct client *c)
{
	return c->pin != MY_PIN_NONE || c->readback.n > 0 || c->reading_insert_id ||
	       c->hold_transaction || c->long_data_n > 0;
}

/* client_readback_blocks: a SET of expressions is in flight or its values
 * (or LAST_INSERT_ID()) are being read back, or the commit marker is
 * written or checked (commit_marker.c): the client's next commands
 * wait in c->in, so that the read-back runs right after the SET (drivers
 * such as Connector/J pipeline their first queries behind it). */
static bool client_readback_blocks(const struct client *c)
{
	return c->readback.n > 0 || c->reading_insert_id ||
	       (c->marker != CLIENT_MARKER_IDLE && c->marker != CLIENT_MARKER_CHECK_DUE) ||
	       (c->pending_response && c->pending.readback.n > 0);
}

/* client_drop_holds: the session's holds are gone with it (a reset). */
static void client_drop_holds(struct client *c)
{
	c->hold_transaction = c->hold_transaction_began = false;
	c->long_data_n = 0;
	c->long_data_consumer = 0;
}

/* client_maybe_release gives the backend connection back at a transaction
 * boundary: transaction mode, nothing kept (client_keeps_session), no
 * response outstanding, no open transaction. */
static void client_maybe_release(struct client *c)
{
	struct server *s = c->server;
	if (!c->transaction_mode || client_keeps_session(c) || !s || c->state != CLIENT_LINKED ||
	    !server_clean(s) || c->frame_left > 0)
		return;
	c->server = NULL;
	c->conn.relay_peer = NULL;
	client_set_state(c, CLIENT_IDLE);
	server_unlink(s);
}

void client_backend_ready(struct client *c, const struct buf *setup_err)
{
	struct my_bld b;
	conn_bld_begin(&c->conn, &b);
	if (setup_err && buf_avail(setup_err) > 0) {
		/* The backend refused the schema or charset: relay its ERR (as the
		 * answer to the login, or to the command that was waiting). */
		my_bld_packet_begin(&b, c->seq++);
		my_bld_bytes(&b, buf_head(setup_err), buf_avail(setup_err));
		my_bld_packet_end(&b);
		conn_bld_send(&c->conn, &b);
		conn_close_after_flush(&c->conn);
		return;
	}
	if (!c->logged_in) {
		struct my_ok ok = {.status = SERVER_STATUS_AUTOCOMMIT};
		my_ok_build(&b, c->seq++, &ok);
		if (!conn_bld_send(&c->conn, &b))
			return;
		c->logged_in = true;
	}
	client_set_state(c, CLIENT_LINKED);
	c->setup_retries = 0;
	c->frame_left = 0;
	log_debug("client linked", "conn=c%llu server=s%llu", (unsigned long long)c->conn.id,
		  (unsigned long long)c->server->conn.id);
	conn_resume_recv(&c->conn);
	/* Commands that arrived meanwhile are waiting in c->in. */
	if (buf_avail(&c->conn.in) > 0)
		c->conn.ops->on_input(&c->conn);
	else
		client_maybe_release(c);
}

/* client_after_reset: the client's own COM_RESET_CONNECTION succeeded. Its
 * session is clean again (only the schema survives), so the pin goes; the
 * server reset the character set to its global default, so the connection
 * is given back and the client's next statement gets a set-up one (with its
 * charset), in session mode too. */
static void client_after_reset(struct client *c, struct server *s)
{
	log_debug("client reset its session; unpinned", "conn=c%llu pin=%s",
		  (unsigned long long)c->conn.id, my_pin_reason_str(c->pin));
	c->pin = MY_PIN_NONE;
	client_drop_holds(c); /* the next transaction's characteristics, long data */
	c->insert_id = s->insert_id = 0;
	my_vars_clear(&c->vars); /* the server took its variables back to the globals */
	my_vars_clear(&s->vars);
	stmt_client_forget(c); /* and closed its prepared statements */
	stmt_server_forget(s);
	s->collation = 0; /* the server's global default: unknown here */
	if (!server_clean(s) || c->frame_left > 0)
		return; /* more pipelined behind it: the next boundary will do */
	c->server = NULL;
	c->conn.relay_peer = NULL;
	client_set_state(c, CLIENT_IDLE);
	server_unlink(s);
}

void client_pin(struct client *c, enum my_pin_reason reason)
{
	if (c->pin != MY_PIN_NONE || reason == MY_PIN_NONE)
		return;
	c->pin = reason;
	c->conn.w->stats.pins_total[reason]++;
	log_debug("client pinned to its backend connection", "conn=c%llu reason=%s",
		  (unsigned long long)c->conn.id, my_pin_reason_str(reason));
}

/* client_apply_pending: the tracked change succeeded; both the client and
 * its connection now hold it. */
static void client_apply_pending(struct client *c, struct server *s)
{
	const struct my_session_change *ch = &c->pending;
	if (c->pending_multi_statements != CLIENT_OPTION_AS_LOGIN) {
		c->multi_statements = c->pending_multi_statements;
		s->multi_statements = c->pending_multi_statements == CLIENT_OPTION_ON;
		return;
	}
	if (s->stmts.n > 0) {
		/* Statements cached there were prepared for the session before. */
		struct my_bld b;
		conn_bld_begin(&s->conn, &b);
		stmt_server_invalidate(s, &b);
		conn_bld_send(&s->conn, &b);
	}
	if (ch->vars.n > 0 &&
	    (!my_vars_apply(&c->vars, &ch->vars) || !my_vars_apply(&s->vars, &ch->vars))) {
		/* Out of memory: the connection alone knows the session now. */
		client_pin(c, MY_PIN_SET);
		s->stale = true;
	}
	if (ch->collation)
		c->collation = s->collation = ch->collation;
	if (ch->use) {
		snprintf(c->db, sizeof(c->db), "%s", ch->db);
		snprintf(s->db, sizeof(s->db), "%s", ch->db);
	}
}

/* client_pending_ended: the response that carries the tracked change
 * ended. A multi-statement stops at its first error: which statements ran
 * is unknown, so the session is the connection's alone (unless the option
 * is off: then the server refused the whole text before running any). */
static void client_pending_ended(struct client *c, struct server *s)
{
	if (!s->track.last_error) {
		client_apply_pending(c, s);
		/* A replay's connection is set up with the client's session as it
		 * is at the loss: the statements before this change would run
		 * under it (another schema, character set, sql_mode...) and answer
		 * the same. A transaction that changed its session is not replayed. */
		if (s->track.status & SERVER_STATUS_IN_TRANS)
			c->replay.broken = true;
		/* Variables set by expression: their values are read on this
		 * connection before anything else runs there. */
		if (c->pending.readback.n > 0 && !readback_start(c, &c->pending.readback))
			client_pin(c, MY_PIN_SET); /* something is pipelined behind it */
	} else if (c->pending.statements > 1 && client_multi_statements(c)) {
		client_pin(c, MY_PIN_SET);
	}
	c->pending_response = 0;
	c->pending_multi_statements = CLIENT_OPTION_AS_LOGIN;
	my_session_change_cleanup(&c->pending);
	c->pending = (struct my_session_change){0};
}

/* long_data_remove forgets the long data of statement |id|. */
static void long_data_remove(struct client *c, uint32_t id)
{
	for (uint8_t i = 0; i < c->long_data_n; i++) {
		if (c->long_data[i] == id) {
			c->long_data[i] = c->long_data[--c->long_data_n];
			return;
		}
	}
}

void client_long_data(struct client *c, uint8_t command, uint32_t id)
{
	bool has = false;
	for (uint8_t i = 0; i < c->long_data_n; i++)
		has = has || c->long_data[i] == id;
	if (command == COM_STMT_SEND_LONG_DATA && !has) {
		if (c->long_data_n < CLIENT_LONG_DATA_MAX) {
			c->long_data[c->long_data_n++] = id;
			c->conn.w->stats.holds_total[STATS_HOLD_LONG_DATA]++;
		} else {
			client_pin(c, MY_PIN_PREPARED_STATEMENT);
		}
	} else if (has && command == COM_STMT_CLOSE) {
		client_pin(c, MY_PIN_PREPARED_STATEMENT);
		long_data_remove(c, id);
	} else if (has && (command == COM_STMT_EXECUTE || command == COM_STMT_RESET)) {
		/* It answers alone (stmt_client_command waits for an idle
		 * tracker), so its response is the next one. */
		c->long_data_consumer_id = id;
		c->long_data_consumer = c->server->track.responses + 1;
	}
}

/* client_update_holds: a response ended. Long data goes with the execute
 * or reset that took it; the next transaction's characteristics go when
 * the transaction they configure has begun and ended (SET TRANSACTION
 * survives statements run in autocommit mode, on MariaDB at least). */
static void client_update_holds(struct client *c, const struct server *s)
{
	if (c->long_data_consumer && s->track.responses >= c->long_data_consumer) {
		if (!s->track.last_error && s->track.responses == c->long_data_consumer)
			long_data_remove(c, c->long_data_consumer_id);
		c->long_data_consumer = 0;
	}
	if (!c->hold_transaction || !my_track_idle(&s->track))
		return;
	if (s->track.status & SERVER_STATUS_IN_TRANS)
		c->hold_transaction_began = true;
	else if (c->hold_transaction_began)
		c->hold_transaction = c->hold_transaction_began = false;
}

static bool client_replay_answered(struct client *c, struct server *s);

/* client_insert_id_reported: the response's OK carried an insert id. It is
 * the id an insert generated or one it wrote explicitly, and the server's
 * LAST_INSERT_ID() changes only for the first: in transaction mode, where
 * the value is restored on the client's next connection, it is read back
 * from the session (readback.c) before anything else runs there. A pinned
 * client keeps its connection (reset when it leaves): the OK's id is kept.
 *
 * A replay's connection is given the client's id as it is at the loss, the
 * id it had when the transaction began only if no statement changed it: a
 * transaction where LAST_INSERT_ID() changed, or may have, is not replayed
 * (client_insert_id_changed). An explicit id leaves it as it was, so such
 * inserts replay; a generated one would differ on replay anyway. */
static void client_insert_id_reported(struct client *c, struct server *s)
{
	uint64_t reported = s->track.last_insert_id;
	s->track.last_insert_id = 0; /* the next response's own, or none */
	if (reported == c->insert_id) {
		s->insert_id = reported; /* the value it held before, generated or not */
		return;
	}
	if (c->replay.running) {
		/* Checked against the original's answer: the client's id stays
		 * the one read back then; the connection's is unknown. */
		s->insert_id = UINT64_MAX;
		return;
	}
	if (!c->transaction_mode || c->pin != MY_PIN_NONE) {
		client_insert_id_changed(c, s, reported);
		return;
	}
	c->insert_id_reported = reported;
	if (!readback_insert_id_start(c)) {
		/* Something is pipelined behind it: the value stays unknown. */
		client_pin(c, MY_PIN_LAST_INSERT_ID);
		client_insert_id_changed(c, s, reported);
	}
}

void client_insert_id_changed(struct client *c, struct server *s, uint64_t id)
{
	if (id != c->insert_id && (s->track.status & SERVER_STATUS_IN_TRANS))
		c->replay.broken = true;
	c->insert_id = s->insert_id = id;
}

void client_response_ended(struct client *c)
{
	struct server *s = c->server;
	bool blocked = client_readback_blocks(c);
	if (s->track.last_insert_id)
		client_insert_id_reported(c, s);
	if (c->pending_response && s->track.responses >= c->pending_response)
		client_pending_ended(c, s);
	if (c->reset_response && s->track.responses >= c->reset_response) {
		bool done = !s->track.last_error && s->track.responses == c->reset_response;
		c->reset_response = 0;
		if (done)
			client_after_reset(c, s);
	}
	client_update_holds(c, s);
	if (client_replay_answered(c, s))
		return;
	buf_cleanup(&c->retry); /* answered: nothing to re-send */
	client_maybe_release(c);
	if (c->stmt_blocked && c->state == CLIENT_LINKED && !c->conn.closing &&
	    my_track_idle(&c->server->track)) {
		c->stmt_blocked = false; /* its statement command can go now */
		c->conn.ops->on_input(&c->conn);
		return;
	}
	if (c->conn.w->draining)
		client_drain(c);
	bool unblocked = blocked && !client_readback_blocks(c); /* the SET failed */
	if (!c->conn.closing && (c->state == CLIENT_IDLE || unblocked) &&
	    buf_avail(&c->conn.in) > 0)
		c->conn.ops->on_input(&c->conn);
}

/* client_at_rest: nothing in flight that a drain should wait for. */
static bool client_at_rest(const struct client *c)
{
	if (c->state < CLIENT_WAITING)
		return true;
	if (c->state == CLIENT_IDLE)
		return buf_avail(&c->conn.in) == 0;
	return c->state == CLIENT_LINKED && server_clean(c->server) && c->frame_left == 0 &&
	       buf_avail(&c->conn.in) == 0;
}

void client_drain(struct client *c)
{
	if (!c->conn.closing && client_at_rest(c))
		conn_close(&c->conn, LOG_DEBUG, "warmpool is draining");
}

/* client_give_back returns the backend connection of a client that is
 * leaving: as it is when nothing of the client's session is on it, reset
 * when something is, closed when a response is still on its way. */
static void client_give_back(struct client *c)
{
	struct server *s = c->server;
	c->server = NULL;
	c->conn.relay_peer = NULL;
	if (!s)
		return;
	s->client = NULL;
	s->conn.relay_peer = NULL;
	if (s->state != SERVER_LINKED || !my_track_idle(&s->track) || s->frame_left > 0) {
		/* Mid-response or mid-setup: its state is unknown. */
		s->retired = true;
		conn_close(&s->conn, LOG_DEBUG, "its client left mid-response");
	} else if (c->transaction_mode && !client_keeps_session(c) && server_clean(s)) {
		server_unlink(s);
	} else {
		server_release(s);
	}
}

/* client_quit: COM_QUIT arrived; it is answered here, not forwarded. */
static void client_quit(struct client *c)
{
	client_give_back(c);
	conn_close(&c->conn, LOG_DEBUG, "client quit");
}

/* client_forget_session: the client's session starts afresh (its own
 * COM_CHANGE_USER): nothing it set follows it any more. */
static void client_forget_session(struct client *c, const struct my_login *l)
{
	c->pin = MY_PIN_NONE;
	client_drop_holds(c);
	c->insert_id = 0;
	c->transaction_lost = false;
	c->pending_response = c->reset_response = 0;
	my_session_change_cleanup(&c->pending);
	c->pending_multi_statements = CLIENT_OPTION_AS_LOGIN;
	my_vars_clear(&c->vars); /* the multi-statement option stays, as on the server */
	stmt_client_forget(c);
	stmt_client_prepares_lost(c);
	buf_cleanup(&c->retry);
	/* Its transaction went with the reset: never to be run again. */
	if (!c->replay.running)
		replay_log_clear(&c->replay);
	snprintf(c->db, sizeof(c->db), "%s", l->db);
	if (l->collation)
		c->collation = client_collation_of(l->collation);
}

/* client_change_user: the client logs in again, as another user or the
 * same, without reconnecting. It is authenticated against warmpool's users
 * like a login (its token answers the greeting's scramble) and never
 * reaches a backend: its backend connection goes back to its pool (reset
 * there), and the next one comes from the new user's pool, set up with the
 * schema and character set it asked for. A refusal closes the connection,
 * as MySQL does. Waits (false) while the command is not all there or a
 * response is still coming. */
static bool client_change_user(struct client *c, uint32_t len)
{
	struct buf *in = &c->conn.in;
	if (len > LOGIN_PACKET_MAX) {
		client_fail(c, ER_HANDSHAKE_ERROR, "08S01", "Bad COM_CHANGE_USER");
		return false;
	}
	if (buf_avail(in) < MY_FRAME_HEADER_LEN + (size_t)len)
		return false;
	if (c->server && (!my_track_idle(&c->server->track) || c->server->frame_left > 0)) {
		c->stmt_blocked = true; /* after the responses in flight */
		return false;
	}
	struct my_login l;
	bool parsed = my_change_user_parse(my_cur_make(buf_head(in) + MY_FRAME_HEADER_LEN, len),
					   c->caps, &l);
	buf_consume(in, MY_FRAME_HEADER_LEN + (size_t)len);
	c->seq = 1;
	if (!parsed || (l.auth_plugin[0] && my_auth_plugin_from_name(l.auth_plugin) != c->plugin)) {
		log_warn("bad COM_CHANGE_USER", "conn=c%llu peer=%s", (unsigned long long)c->conn.id,
			 c->conn.peer);
		c->conn.w->stats.errors_total[STATS_ERR_CLIENT_PROTOCOL]++;
		client_fail(c, ER_HANDSHAKE_ERROR, "08S01",
			    parsed ? "warmpool: COM_CHANGE_USER must answer with the plugin of the login"
				   : "Bad COM_CHANGE_USER");
		return false;
	}
	snprintf(c->user, sizeof(c->user), "%s", l.user);
	const struct cfg_user *u = client_verify_token(c, l.auth, l.auth_len);
	if (!u)
		return false;
	if (c->user_slot) {
		atomic_fetch_sub(&c->user_slot->clients, 1);
		c->user_slot = NULL;
	}
	client_give_back(c);
	client_forget_session(c, &l);
	if (c->state == CLIENT_LINKED)
		client_set_state(c, CLIENT_IDLE);
	c->logged_in = false; /* its OK goes out once the new session is set up */
	log_debug("client changed user", "conn=c%llu", (unsigned long long)c->conn.id);
	client_start_session(c, u);
	return true;
}

/* Queries this long are not parsed for session state; they pin instead. */
#define PIN_SCAN_MAX (1u << 20)

/* What client_relay and client_idle_command do after client_kill. */
enum client_kill_step {
	CLIENT_KILL_NOT = 0,  /* not a KILL: go on as usual */
	CLIENT_KILL_WAIT = 1, /* more of it first, or the responses in flight */
	CLIENT_KILL_DONE = 2, /* answered here; the frame is consumed */
};

/* kill_target_of reads the KILL at the head of c->in (|command|, payload
 * |len|, all there): its kind (MY_KILL_NONE when it is not one) and id. */
static enum my_kill_kind kill_target_of(const struct client *c, uint8_t command, uint32_t len,
					uint32_t *out_id)
{
	struct my_cur payload = my_cur_make(buf_head(&c->conn.in) + MY_FRAME_HEADER_LEN, len);
	*out_id = 0;
	if (command == COM_PROCESS_KILL)
		return my_process_kill_parse(payload, out_id) ? MY_KILL_CONNECTION
							      : MY_KILL_UNSUPPORTED;
	return my_kill_parse((const char *)payload.ptr + 1, len - 1, out_id);
}

/* client_kill_answer tells the client what its KILL came to. */
static void client_kill_answer(struct client *c, enum my_kill_kind kind,
			       enum kill_outcome outcome, uint32_t id)
{
	char msg[96];
	struct my_bld b;
	conn_bld_begin(&c->conn, &b);
	if (kind == MY_KILL_UNSUPPORTED) {
		my_err_build(&b, 1, ER_NOT_SUPPORTED_YET, "42000",
			     "warmpool interprets KILL [CONNECTION | QUERY] <id> only");
	} else if (outcome == KILL_SENT) {
		struct my_ok ok = {.status = c->server ? c->server->track.status
						       : SERVER_STATUS_AUTOCOMMIT};
		my_ok_build(&b, 1, &ok);
	} else if (outcome == KILL_SELF) {
		my_err_build(&b, 1, ER_CONNECTION_KILLED, "70100", "Connection was killed");
	} else if (outcome == KILL_NOT_OWNER) {
		snprintf(msg, sizeof(msg), "You are not owner of thread %u", id);
		my_err_build(&b, 1, ER_KILL_DENIED_ERROR, "HY000", msg);
	} else if (outcome == KILL_UNKNOWN) {
		snprintf(msg, sizeof(msg), "Unknown thread id: %u", id);
		my_err_build(&b, 1, ER_NO_SUCH_THREAD, "HY000", msg);
	} else {
		my_err_build(&b, 1, ER_OUT_OF_RESOURCES, "HY000", "warmpool: out of memory");
	}
	if (conn_bld_send(&c->conn, &b) && outcome == KILL_SELF && kind != MY_KILL_UNSUPPORTED)
		conn_close_after_flush(&c->conn); /* its own connection: the ERR, then the end */
}

/* client_refuse_text answers a query that holds a KILL among other
 * statements (whole in c->in: a query is classified whole) with ERR 1235. */
static void client_refuse_text(struct client *c, uint32_t len)
{
	c->refuse_text = false;
	buf_consume(&c->conn.in, MY_FRAME_HEADER_LEN + (size_t)len);
	struct my_bld b;
	conn_bld_begin(&c->conn, &b);
	my_err_build(&b, 1, ER_NOT_SUPPORTED_YET, "42000",
		     "warmpool interprets KILL [CONNECTION | QUERY] <id> only as a statement of "
		     "its own");
	conn_bld_send(&c->conn, &b);
}

/* client_kill: KILL [CONNECTION|QUERY] n and COM_PROCESS_KILL are never
 * sent to a backend, where n would name another session (the id a client
 * has is warmpool's). warmpool finds the client n names, on any worker; a
 * client may kill its own user's clients, as MySQL allows without
 * CONNECTION_ADMIN. KILL QUERY reaches the backend thread running that
 * client's statement over a side connection; KILL CONNECTION also closes
 * the client. */
static enum client_kill_step client_kill(struct client *c, uint8_t command, uint32_t len)
{
	if ((command != COM_QUERY && command != COM_PROCESS_KILL) || len == 0)
		return CLIENT_KILL_NOT;
	size_t have = buf_avail(&c->conn.in) - MY_FRAME_HEADER_LEN;
	if (have < len && len <= PIN_SCAN_MAX)
		return CLIENT_KILL_WAIT; /* the whole text (a query waits for it anyway) */
	uint32_t id;
	enum my_kill_kind kind = kill_target_of(c, command, have < len ? (uint32_t)have : len, &id);
	if (kind == MY_KILL_NONE)
		return CLIENT_KILL_NOT;
	if (have < len)
		return CLIENT_KILL_WAIT;
	if (c->server && !my_track_idle(&c->server->track)) {
		c->stmt_blocked = true; /* its answer follows theirs */
		return CLIENT_KILL_WAIT;
	}
	buf_consume(&c->conn.in, MY_FRAME_HEADER_LEN + (size_t)len);
	enum kill_outcome outcome = kind == MY_KILL_UNSUPPORTED ? KILL_UNKNOWN
								: kill_request_from(c, kind, id);
	log_info("client KILL", "conn=c%llu kind=%s target=%u outcome=%s",
		 (unsigned long long)c->conn.id, my_kill_kind_str(kind), id,
		 kill_outcome_str(outcome));
	client_kill_answer(c, kind, outcome, id);
	return CLIENT_KILL_DONE;
}

bool client_multi_statements(const struct client *c)
{
	if (c->multi_statements == CLIENT_OPTION_AS_LOGIN)
		return (c->caps & CLIENT_MULTI_STATEMENTS) != 0;
	return c->multi_statements == CLIENT_OPTION_ON;
}

/* client_server_kind: the kind of the client's backend, from its last
 * greeting (a builtin of one kind is a stored function's name to the
 * other); either before one. */
static enum my_server_kind client_server_kind(const struct client *c)
{
	if (!c->bp)
		return MY_SERVER_EITHER;
	return my_server_kind_of(c->conn.w->stats.backends[c->bp->backend_idx].server_version);
}

struct my_sql_mode client_sql_mode(const struct client *c)
{
	struct my_sql_mode m = my_sql_mode_of(&c->vars);
	/* gbk and its kind are not lexed: such a client pins (reason charset). */
	m.charset_unreadable = c->charset_unreadable || my_collation_hides_backslash(c->collation);
	m.space_byte = my_collation_space_byte(c->collation);
	m.server = client_server_kind(c);
	if (c->pending_response && c->pending.collation &&
	    my_collation_space_byte(c->pending.collation) != m.space_byte) {
		/* A SET NAMES in flight: its spaces may or may not apply. */
		m.space_byte |= my_collation_space_byte(c->pending.collation);
		m.space_unknown = true;
	}
	if (c->pending_response && my_vars_get(&c->pending.vars, "sql_mode")) {
		/* A SET sql_mode in flight: it may or may not succeed. */
		struct my_sql_mode pending = my_sql_mode_of(&c->pending.vars);
		pending.charset_unreadable = m.charset_unreadable;
		pending.space_byte = m.space_byte;
		pending.space_unknown = m.space_unknown;
		pending.server = m.server;
		return my_sql_mode_merge(m, pending);
	}
	const struct server *s = c->server;
	if (m.no_backslash_escapes == MY_MODE_UNKNOWN && s && s->track.status_known &&
	    my_track_idle(&s->track)) {
		/* The server says it in every OK and EOF. */
		m.no_backslash_escapes = (s->track.status & SERVER_STATUS_NO_BACKSLASH_ESCAPES)
						 ? MY_MODE_ON
						 : MY_MODE_OFF;
	}
	return m;
}

/* client_expect_change records a tracked change for the next response, or
 * pins when another command is outstanding (pipelined): its response would
 * be hard to attribute. Takes |ch|'s contents. */
static void client_expect_change(struct client *c, struct my_session_change *ch,
				 enum client_option multi_statements)
{
	struct server *s = c->server;
	if (!my_track_idle(&s->track) || c->pending_response) {
		client_pin(c, ch->use ? MY_PIN_OTHER_COMMAND : MY_PIN_SET);
		my_session_change_cleanup(ch);
		return;
	}
	my_session_change_cleanup(&c->pending);
	c->pending = *ch;
	*ch = (struct my_session_change){0};
	c->pending_multi_statements = multi_statements;
	c->pending_response = s->track.responses + 1;
}

/* client_rename_tx_variables: servers without transaction_isolation and
 * transaction_read_only (MariaDB before 11.1, MySQL before 5.7.20) call
 * them tx_isolation and tx_read_only; the classifier reads SET SESSION
 * TRANSACTION as the new names. Out of memory leaves the new names (the
 * restore then fails and the client gets the error). */
static void client_rename_tx_variables(struct my_vars *vars)
{
	static const char *const names[][2] = {{"transaction_isolation", "tx_isolation"},
					       {"transaction_read_only", "tx_read_only"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!my_vars_rename(vars, names[i][0], names[i][1]))
			return;
	}
}

/* client_track_session_change classifies a COM_QUERY or COM_INIT_DB: its
 * tracked changes (USE, SET NAMES, SET of literals, in every statement)
 * are applied when it succeeds and restored on the next connection; any
 * other effect pins. */
static void client_track_session_change(struct client *c, uint8_t cmd, struct my_cur body)
{
	struct my_session_change ch = {0};
	if (cmd == COM_INIT_DB) {
		ch.use = my_cur_copy_str(&body, ch.db, sizeof(ch.db));
		ch.statements = 1;
		if (!ch.use)
			ch.pin = MY_PIN_OTHER_COMMAND;
	} else {
		my_classify(&ch, client_sql_mode(c), MY_TEXT_QUERY, body.ptr, body.len);
		/* Kept for a retry, outside a transaction (client_keep_for_retry). */
		c->retry_begin = ch.begins && ch.pin == MY_PIN_NONE;
	}
	c->charset_unreadable = c->charset_unreadable || ch.charset_unreadable;
	if (ch.kill) {
		/* A KILL standing alone was answered by client_kill; one among
		 * other statements would reach the backend by number. */
		c->refuse_text = true;
		my_session_change_cleanup(&ch);
		return;
	}
	if (ch.xa)
		c->server->poisoned = true;
	if (ch.pin == MY_PIN_NONE && ch.readback.n > 0 && ch.statements > 1)
		ch.pin = MY_PIN_SET; /* read back after which statement? */
	if (ch.next_transaction) {
		if (!c->hold_transaction)
			c->conn.w->stats.holds_total[STATS_HOLD_TRANSACTION]++;
		c->hold_transaction = true; /* set before the reply: conservative */
		c->hold_transaction_began = false;
	}
	client_pin(c, ch.pin);
	if (c->server->tx_variables_old)
		client_rename_tx_variables(&ch.vars);
	if (my_session_change_tracks(&ch))
		client_expect_change(c, &ch, CLIENT_OPTION_AS_LOGIN);
	my_session_change_cleanup(&ch);
}

/* client_track_set_option: COM_SET_OPTION turns multi-statements on (0) or
 * off (1) for the session; tracked like a SET, restored on every
 * connection. One that cannot be attributed (pipelined, malformed) pins,
 * and the connection's option is unknown until a setup sets it again. */
static void client_track_set_option(struct client *c, struct my_cur args)
{
	struct server *s = c->server;
	uint16_t option;
	if (args.len != 2 || !my_cur_u16le(&args, &option) || option > 1 ||
	    !my_track_idle(&s->track) || c->pending_response) {
		s->multi_statements_unknown = true;
		client_pin(c, MY_PIN_OTHER_COMMAND);
		return;
	}
	struct my_session_change none = {0};
	client_expect_change(c, &none, option == 0 ? CLIENT_OPTION_ON : CLIENT_OPTION_OFF);
}

/* Session setups lost with their backend connection before a client gets
 * an error: each retry waits for a connection again. */
#define CLIENT_SETUP_RETRIES 3


/* client_track_command tells the tracker about a command and decides what
 * it does to the session. |payload| is the whole first frame when it is
 * short enough. Returns false to wait for more of the frame. */
static bool client_track_command(struct client *c, struct my_cur frame, size_t payload_len)
{
	uint8_t cmd;
	struct my_cur p = frame;
	if (payload_len == 0) {
		/* No command byte: the server answers with an error the tracker
		 * does not expect, so this connection is never reused. */
		client_pin(c, MY_PIN_OTHER_COMMAND);
		return true;
	}
	if (!my_cur_skip(&p, MY_FRAME_HEADER_LEN) || !my_cur_u8(&p, &cmd))
		return false;
	struct server *s = c->server;
	c->conn.w->stats.queries_total++;
	c->conn.w->stats.backends[c->bp->backend_idx].queries_total++;
	bool whole = p.len >= payload_len - 1;
	/* Both modes: what cannot be rebuilt decides what a lost connection costs. */
	switch (my_command_rule(cmd)) {
	case MY_CMD_TEXT:
		if (payload_len > PIN_SCAN_MAX) {
			client_pin(c, MY_PIN_OTHER_COMMAND);
			break;
		}
		if (!whole)
			return false;
		struct my_cur body;
		bool ok = my_cur_bytes(&p, &body, payload_len - 1);
		(void)ok;
		client_track_session_change(c, cmd, body);
		break;
	case MY_CMD_SET_OPTION:
		if (!whole)
			return false;
		client_track_set_option(c, p);
		break;
	case MY_CMD_RESET:
		/* Behind another command, what it resets is hard to tell. */
		if (my_track_idle(&s->track))
			c->reset_response = s->track.responses + 1;
		else
			client_pin(c, MY_PIN_OTHER_COMMAND);
		break;
	case MY_CMD_PIN:
	case MY_CMD_KILL: /* a COM_PROCESS_KILL that client_kill did not answer */
		client_pin(c, MY_PIN_OTHER_COMMAND);
		break;
	case MY_CMD_STATELESS:
	case MY_CMD_STATEMENT: /* decided by stmt_client_command */
	case MY_CMD_QUIT:
	case MY_CMD_CHANGE_USER: /* both answered before they get here */
		break;
	}
	if (c->refuse_text)
		return true; /* answered here: the backend never sees it */
	if (!my_track_command(&s->track, cmd))
		client_pin(c, MY_PIN_OTHER_COMMAND); /* 16 commands pipelined: stop guessing */
	return true;
}

/* Statements longer than this are not kept for a retry. */
#define RETRY_MAX (64u << 10)

/* command_is_read: the command framed at |frame| (whole, |len| bytes of
 * payload) is a read retry_reads may re-send: a COM_QUERY that
 * my_query_is_read accepts, or an execute of a statement whose text is one
 * (judged at its prepare). */
static bool command_is_read(struct client *c, const uint8_t *frame, uint32_t len)
{
	const uint8_t *payload = frame + MY_FRAME_HEADER_LEN;
	if (!client_listener(c)->retry_reads)
		return false;
	if (payload[0] == COM_QUERY)
		return my_query_is_read(client_sql_mode(c), payload + 1, len - 1);
	return stmt_execute_is_read(c, payload, len);
}

/* client_keep_for_retry copies the command at the head of c->in when it
 * could be re-sent if its connection died unanswered: one whole COM_QUERY
 * or COM_STMT_EXECUTE frame, nothing kept on the connection, no transaction
 * open, nothing else outstanding. A read may be re-sent with retry_reads;
 * any statement may be re-sent when the server provably never read it
 * (server.c: farewell_crossed) or answered that it aborted it as it shut
 * down (client_statement_killed). */
static void client_keep_for_retry(struct client *c, uint32_t len)
{
	const struct server *s = c->server;
	struct buf *in = &c->conn.in;
	const uint8_t *frame = buf_head(in);
	if (!c->replaying)
		c->retries = 0;
	c->retry_read = c->retry_begin = false;
	c->unread = false;
	c->aborted = false;
	buf_reset(&c->retry);
	if (len < 2 || len > RETRY_MAX || buf_avail(in) < MY_FRAME_HEADER_LEN + (size_t)len ||
	    (frame[MY_FRAME_HEADER_LEN] != COM_QUERY &&
	     (frame[MY_FRAME_HEADER_LEN] != COM_STMT_EXECUTE || len < 5)) ||
	    client_keeps_session(c) || !my_track_idle(&s->track) ||
	    (s->track.status & SERVER_STATUS_IN_TRANS))
		return;
	if (!buf_append(&c->retry, frame, MY_FRAME_HEADER_LEN + (size_t)len, RETRY_MAX + 8)) {
		buf_reset(&c->retry); /* out of memory: no retry, nothing else lost */
		return;
	}
	c->retry_read = command_is_read(c, frame, len);
	/* A text BEGIN is judged with its classification (client_track_session_change),
	 * an executed one at its prepare. */
	if (frame[MY_FRAME_HEADER_LEN] == COM_STMT_EXECUTE)
		c->retry_begin = stmt_execute_begins_transaction(c, frame + MY_FRAME_HEADER_LEN, len);
}

/* client_command_text: the SQL text the COM_QUERY or COM_STMT_EXECUTE
 * |payload| (|len| bytes) runs; false when it is neither, or unknown. */
static bool client_command_text(struct client *c, const uint8_t *payload, size_t len,
				const uint8_t **sql, size_t *sql_len)
{
	if (payload[0] == COM_STMT_EXECUTE)
		return stmt_execute_text(c, payload, (uint32_t)len, sql, sql_len);
	*sql = payload + 1;
	*sql_len = len - 1;
	return payload[0] == COM_QUERY && len >= 1;
}

/* client_command_commits: the command |payload| is a lone COMMIT, as a
 * text query or an execute (MariaDB prepares COMMIT; sysbench does). */
static bool client_command_commits(struct client *c, const uint8_t *payload, size_t len)
{
	const uint8_t *sql;
	size_t n;
	return client_command_text(c, payload, len, &sql, &n) &&
	       my_query_is_commit(client_sql_mode(c), sql, n);
}

/* client_statement_may_write: the COM_QUERY or COM_STMT_EXECUTE |payload|
 * (|len| bytes) may change something a COMMIT would commit: anything but a
 * read, a lone BEGIN or a lone COMMIT (an execute's read, judged at its
 * prepare, needs no look at its text). */
static bool client_statement_may_write(struct client *c, const uint8_t *payload, uint32_t len)
{
	const uint8_t *sql;
	size_t n;
	if (payload[0] == COM_STMT_EXECUTE && stmt_execute_is_read(c, payload, len))
		return false;
	return !client_command_text(c, payload, len, &sql, &n) ||
	       !my_query_writes_nothing(client_sql_mode(c), sql, n);
}

/* client_keep_for_replay copies the command at the head of c->in for the
 * transaction log (replay.c), on listeners with replay_transactions: a whole
 * COM_QUERY or COM_STMT_EXECUTE, alone on the connection. Prepares and pings
 * are neutral (a statement prepares again wherever it runs); anything else
 * inside a transaction makes it one that is not replayed. */
static void client_keep_for_replay(struct client *c, uint32_t len)
{
	const struct server *s = c->server;
	struct replay_log *log = &c->replay;
	const struct cfg_listener *l = client_listener(c);
	const uint8_t *frame = buf_head(&c->conn.in);
	if (!l->replay_transactions || log->running)
		return;
	if (len == 0 || buf_avail(&c->conn.in) <= MY_FRAME_HEADER_LEN) {
		replay_log_forget_pending(log, false); /* not here yet: looked at again then */
		return;
	}
	uint8_t cmd = frame[MY_FRAME_HEADER_LEN];
	if (cmd == COM_STMT_PREPARE || cmd == COM_PING) {
		replay_log_forget_pending(log, true);
		return;
	}
	if (cmd == COM_STMT_CLOSE && (s->track.status & SERVER_STATUS_IN_TRANS))
		log->broken = true; /* an execute of it run again would be answered here */
	if (len < 2 || buf_avail(&c->conn.in) < MY_FRAME_HEADER_LEN + (size_t)len ||
	    (cmd != COM_QUERY && cmd != COM_STMT_EXECUTE) || !my_track_idle(&s->track)) {
		replay_log_forget_pending(log, false);
		return;
	}
	bool stays = false, in_trans = (s->track.status & SERVER_STATUS_IN_TRANS) != 0;
	if (in_trans) /* what a lost statement may be */
		stays = cmd == COM_QUERY ? my_query_stays_in_transaction(
						   client_sql_mode(c), frame + MY_FRAME_HEADER_LEN + 1,
						   len - 1)
					 : stmt_execute_stays_in_transaction(
						   c, frame + MY_FRAME_HEADER_LEN, len);
	replay_log_keep(log, frame, MY_FRAME_HEADER_LEN + (size_t)len, stays,
			(size_t)l->replay_max_bytes);
	if (l->replay_commit_marker && !log->wrote)
		log->wrote = client_statement_may_write(c, frame + MY_FRAME_HEADER_LEN, len);
	/* One that may commit the open transaction and still answer "in a
	 * transaction" (BEGIN, COMMIT AND CHAIN, a DDL failing after its
	 * implicit commit): replayed, what it committed would run twice. */
	log->pending_commits = in_trans && !stays;
}

/* client_commit_chains: the client set completion_type to CHAIN or
 * RELEASE: its COMMIT also begins a transaction, or ends the session,
 * which an OK answered in its place would not do. */
static bool client_commit_chains(const struct client *c)
{
	const char *v = my_vars_get(&c->vars, "completion_type");
	return v && strcmp(v, "0") != 0 && strcasecmp(v, "'NO_CHAIN'") != 0 &&
	       strcasecmp(v, "NO_CHAIN") != 0;
}

/* client_commit_marker_due: the command at the head of c->in, just kept for
 * the transaction log, is a plain COMMIT of a transaction that may have
 * written and could run again, on a listener with replay_commit_marker: the
 * marker row goes first. A transaction that only read has nothing to
 * commit: a row would make its commit a write. */
static bool client_commit_marker_due(struct client *c, uint32_t len)
{
	const struct replay_log *log = &c->replay;
	const uint8_t *payload = buf_head(&c->conn.in) + MY_FRAME_HEADER_LEN;
	return client_listener(c)->replay_commit_marker && log->marker == REPLAY_MARKER_NONE &&
	       log->wrote && log->pending_commits && replay_log_replayable(log) &&
	       !client_keeps_session(c) && !client_commit_chains(c) &&
	       client_command_commits(c, payload, len);
}

/* client_command_sent: the command at the head of c->in (command byte
 * |cmd|) starts going out: a re-sent one is on its way, and the digest of
 * its answer starts. */
static void client_command_sent(struct client *c, uint8_t cmd)
{
	c->replaying = false;
	c->fresh_after_ms = 0;
	if (!client_listener(c)->replay_transactions)
		return;
	replay_log_sent(&c->replay, cmd);
	if (c->replay.running)
		c->replay.awaiting = true; /* the client's own wait behind it */
}

static void client_between_transactions(struct client *c);

/* client_answered_here: warmpool answered the client's command itself; a
 * boundary like any response's end, where the connection may go back.
 * True while the client stays linked (its next command follows). */
static bool client_answered_here(struct client *c)
{
	c->replaying = false; /* a re-sent command answered here, if it was one */
	c->fresh_after_ms = 0;
	client_maybe_release(c);
	if (c->state == CLIENT_LINKED)
		return true;
	client_between_transactions(c);
	return false;
}

/* A query longer than PIN_SCAN_MAX is not classified (it pins), but the
 * word KILL in it could reach a backend session by number (in a compound
 * statement, dynamic SQL, a multi-statement). It is searched for as the
 * query is relayed: the server runs a query only once all of it has come,
 * so one found before its last byte went out is refused in time. A text
 * that can run only itself (multi-statements off, a first word such as
 * INSERT) is not searched: a bulk INSERT may hold the word in its data. */
static bool client_long_query_may_kill(const struct client *c, uint32_t len)
{
	const struct server *s = c->server;
	const struct buf *in = &c->conn.in;
	size_t head = MY_FRAME_HEADER_LEN + 1;
	if (s->multi_statements || s->multi_statements_unknown ||
	    (c->pending_response && c->pending_multi_statements == CLIENT_OPTION_ON))
		return true;
	if (buf_avail(in) <= head)
		return true;
	size_t have = buf_avail(in) - head; /* of this frame's text only */
	return my_text_may_run_kill(client_sql_mode(c), buf_head(in) + head,
				    have < (size_t)len - 1 ? have : (size_t)len - 1);
}

static void client_kill_scan_frame(struct client *c, bool command_frame, uint8_t command,
				   uint32_t len)
{
	if (command_frame) {
		c->kill_scanning = command == COM_QUERY && len > PIN_SCAN_MAX &&
				   client_long_query_may_kill(c, len);
		my_kill_scan_init(&c->kill_scan);
		c->kill_scan_skip = MY_FRAME_HEADER_LEN + 1; /* and the command byte */
	} else {
		c->kill_scan_skip = MY_FRAME_HEADER_LEN; /* a continuation frame's */
	}
	c->kill_scan_last = len < MY_MAX_FRAME_PAYLOAD;
}

/* client_kill_scan_passes searches the next |n| bytes of the frame at the
 * head of c->in before they are relayed. False when the query holds a
 * KILL: the client gets ERR 1235 and is closed, and its backend
 * connection, which has part of the query, with it. */
static bool client_kill_scan_passes(struct client *c, size_t n)
{
	size_t skip = c->kill_scan_skip < n ? c->kill_scan_skip : n;
	c->kill_scan_skip -= skip;
	my_kill_scan_feed(&c->kill_scan, buf_head(&c->conn.in) + skip, n - skip);
	if (c->kill_scan_last && n == c->frame_left)
		my_kill_scan_end(&c->kill_scan);
	if (!c->kill_scan.found)
		return true;
	c->kill_scanning = false;
	log_info("long query with KILL refused", "conn=c%llu", (unsigned long long)c->conn.id);
	struct my_bld b;
	conn_bld_begin(&c->conn, &b);
	my_err_build(&b, 1, ER_NOT_SUPPORTED_YET, "42000",
		     "warmpool interprets KILL [CONNECTION | QUERY] <id> only as a statement of "
		     "its own (a query over 1 MiB holding KILL is refused)");
	if (conn_bld_send(&c->conn, &b))
		conn_close_after_flush(&c->conn);
	return false;
}

/* client_relay forwards whole and partial frames to the backend, watching
 * for COM_QUIT at frame starts (it is answered here, not forwarded). */
static void client_relay(struct client *c)
{
	struct buf *in = &c->conn.in;
	while (buf_avail(in) > 0 && !c->conn.closing &&
	       conn_queued(&c->server->conn) <= CONN_OUT_HIGH) {
		if (c->frame_left == 0) {
			struct my_cur h = my_cur_make(buf_head(in), buf_avail(in));
			uint32_t len;
			uint8_t seq, command;
			if (client_readback_blocks(c))
				return; /* after warmpool's read-back (readback_ended) */
			if (!my_cur_u24le(&h, &len) || !my_cur_u8(&h, &seq))
				return; /* wait for the whole header */
			c->last_seq = seq;
			bool uploading = c->server->track.uploading;
			if (uploading && len == 0)
				my_track_upload_ended(&c->server->track);
			if (uploading) /* a file sent with LOAD DATA LOCAL: not kept to replay */
				replay_log_forget_pending(&c->replay, false);
			command = 0;
			if (seq == 0 && !uploading && c->replay.running && c->replay.awaiting)
				return; /* a statement run again: its answer is checked first */
			if (seq == 0 && !uploading && c->marker == CLIENT_MARKER_CHECK_DUE) {
				commit_marker_check(c); /* of the lost COMMIT at the head */
				return;
			}
			if (seq == 0 && !uploading) {
				client_keep_for_retry(c, len);
				client_keep_for_replay(c, len);
				if (client_commit_marker_due(c, len) && commit_marker_write(c))
					return; /* the COMMIT goes once its marker is written */
				if (!my_cur_u8(&h, &command))
					return;
				if (command == COM_QUIT) {
					buf_consume(in, MY_FRAME_HEADER_LEN + (size_t)len);
					client_quit(c);
					return;
				}
				if (command == COM_CHANGE_USER) {
					client_change_user(c, len);
					return;
				}
				enum client_kill_step kill = client_kill(c, command, len);
				if (kill == CLIENT_KILL_WAIT)
					return;
				if (kill == CLIENT_KILL_DONE) {
					if (!client_answered_here(c))
						return;
					continue;
				}
				if (len > 0 && stmt_is_command(command)) {
					enum stmt_step step = stmt_client_command(c, len);
					if (step == STMT_WAIT)
						return;
					if (step == STMT_HANDLED && !client_answered_here(c))
						return;
					if (step != STMT_RELAY)
						continue;
				}
				if (!client_track_command(c, my_cur_make(buf_head(in), buf_avail(in)), len))
					return; /* the rest of the query is on its way */
				if (c->refuse_text) {
					client_refuse_text(c, len);
					if (!client_answered_here(c))
						return;
					continue;
				}
			}
			c->frame_left = MY_FRAME_HEADER_LEN + (size_t)len;
			if (seq == 0 && !uploading)
				client_command_sent(c, command);
			client_kill_scan_frame(c, seq == 0 && !uploading, command, len);
		}
		size_t n = buf_avail(in) < c->frame_left ? buf_avail(in) : c->frame_left;
		if (c->kill_scanning && !client_kill_scan_passes(c, n))
			return;
		if (!server_forward(c->server, buf_head(in), n))
			return;
		buf_consume(in, n);
		c->frame_left -= n;
		if (c->kill_scanning && c->frame_left == 0 && c->kill_scan_last)
			c->kill_scanning = false; /* the query went out whole */
	}
}

/* client_discard drops what is left of a refused command. */
static void client_discard(struct client *c)
{
	size_t n = buf_avail(&c->conn.in) < c->discard_left ? buf_avail(&c->conn.in)
							     : c->discard_left;
	buf_consume(&c->conn.in, n);
	c->discard_left -= n;
}

/* client_idle_command handles the command at the head of c->in while the
 * client has no backend connection (transaction mode, or its connection
 * died): answered or dropped here (true: the next one may follow), or
 * queued for a backend connection, or not all there yet (false). */
static bool client_idle_command(struct client *c)
{
	struct buf *in = &c->conn.in;
	if (c->discard_left > 0) {
		client_discard(c);
		return c->discard_left == 0;
	}
	if (stmt_client_close_idle(c))
		return true; /* dropped here: no connection needed, and it has no reply */
	struct my_cur h = my_cur_make(buf_head(in), buf_avail(in));
	uint32_t len;
	uint8_t seq, command;
	if (!my_cur_u24le(&h, &len) || !my_cur_u8(&h, &seq) || !my_cur_u8(&h, &command) ||
	    command == COM_STMT_CLOSE) /* not all there yet */
		return false;
	if (command == COM_QUIT) {
		conn_close(&c->conn, LOG_DEBUG, "client quit");
		return false;
	}
	if (command == COM_CHANGE_USER) {
		client_change_user(c, len);
		return false;
	}
	enum client_kill_step kill = client_kill(c, command, len);
	if (kill != CLIENT_KILL_NOT)
		return kill == CLIENT_KILL_DONE;
	if (c->transaction_lost && command != COM_PING) {
		/* Its transaction died with the backend: this statement must not
		 * run outside it. Refuse it; the connection stays usable. */
		c->transaction_lost = false;
		c->discard_left = MY_FRAME_HEADER_LEN + (size_t)len;
		client_discard(c);
		struct my_bld b;
		conn_bld_begin(&c->conn, &b);
		my_err_build(&b, 1, ER_CONNECTION_KILLED, "70100",
			     "warmpool: the backend connection was lost during a transaction; "
			     "the transaction was rolled back, start it again");
		return conn_bld_send(&c->conn, &b);
	}
	if (command == COM_PING && len == 1) {
		/* Answered here: a ping needs no backend connection. */
		buf_consume(in, MY_FRAME_HEADER_LEN + 1);
		struct my_bld b;
		conn_bld_begin(&c->conn, &b);
		struct my_ok ok = {.status = SERVER_STATUS_AUTOCOMMIT};
		my_ok_build(&b, 1, &ok);
		return conn_bld_send(&c->conn, &b);
	}
	client_set_state(c, CLIENT_WAITING);
	c->seq = 1; /* an error while waiting answers this command */
	client_request_backend(c);
	return false;
}

/* client_between_transactions handles the commands that arrive while the
 * client has no backend connection, as many as are there, until one needs
 * a connection or the answers pile up unread (the client is then paused;
 * see client_flow). */
static void client_between_transactions(struct client *c)
{
	while (c->state == CLIENT_IDLE && !c->conn.closing && buf_avail(&c->conn.in) > 0 &&
	       conn_queued(&c->conn) <= CONN_OUT_HIGH && client_idle_command(c))
		;
}

/* client_input_backlog: bytes of c->in beyond the frame at its head (which
 * may have to arrive whole before it can be handled). */
static size_t client_input_backlog(const struct client *c)
{
	size_t have = buf_avail(&c->conn.in), head = c->frame_left + c->discard_left;
	if (head == 0) {
		struct my_cur h = my_cur_make(buf_head(&c->conn.in), have);
		uint32_t len;
		head = my_cur_u24le(&h, &len) ? MY_FRAME_HEADER_LEN + (size_t)len : have;
	}
	return have > head ? have - head : 0;
}

/* client_flow is the client's one input valve: reading stops while its
 * answers pile up unread, while its backend connection's output is full,
 * or while more than CLIENT_IN_HIGH of commands wait behind the one being
 * handled; it starts again when all of them are under their low marks. So
 * a client holds at most about CONN_OUT_HIGH + CLIENT_IN_HIGH + the frame
 * in hand, whatever it sends. */
static void client_flow(struct client *c)
{
	const struct conn *peer = c->server ? &c->server->conn : NULL;
	size_t backlog = client_input_backlog(c), out = conn_queued(&c->conn);
	size_t peer_out = peer ? conn_queued(peer) : 0;
	if (c->conn.closing)
		return;
	if (out > CONN_OUT_HIGH || peer_out > CONN_OUT_HIGH || backlog > CLIENT_IN_HIGH)
		conn_pause_recv(&c->conn);
	else if (c->conn.recv_paused && out < CONN_OUT_LOW && peer_out < CONN_OUT_LOW &&
		 backlog < CLIENT_IN_LOW)
		conn_resume_recv(&c->conn);
}

static void client_on_input(struct conn *conn)
{
	struct client *c = client_of(conn);
	switch (c->state) {
	case CLIENT_LINKED:
		client_relay(c);
		break;
	case CLIENT_IDLE:
		client_between_transactions(c);
		break;
	case CLIENT_WAITING:
	case CLIENT_SETUP:
		break; /* input waits in c->in until linked */
	default:
		client_on_connection_phase(c);
		return;
	}
	client_flow(c);
}

void client_after_local_answer(struct client *c)
{
	client_maybe_release(c);
	if (!c->conn.closing && buf_avail(&c->conn.in) > 0)
		c->conn.ops->on_input(&c->conn);
}

bool client_forward(struct client *c, const uint8_t *data, size_t len)
{
	return conn_write(&c->conn, data, len);
}

bool client_relay_answer(struct client *c, const uint8_t *data, size_t len)
{
	if (!client_listener(c)->replay_transactions)
		return client_forward(c, data, len);
	replay_log_feed(&c->replay, data, len);
	if (c->replay.awaiting)
		return true; /* the answer of a statement run again: checked, not relayed */
	return client_forward(c, data, len);
}

/* prepend_frame puts |frame| (|len| bytes) before what c->in holds. False
 * (the client closed) when out of memory. */
static bool prepend_frame(struct client *c, const uint8_t *frame, size_t len)
{
	struct buf in = {0};
	if (!buf_append(&in, frame, len, BUF_NO_LIMIT) ||
	    !buf_append(&in, buf_head(&c->conn.in), buf_avail(&c->conn.in), BUF_NO_LIMIT)) {
		buf_cleanup(&in);
		conn_close(&c->conn, LOG_ERROR, "out of memory");
		return false;
	}
	buf_cleanup(&c->conn.in);
	c->conn.in = in;
	return true;
}

/* client_replay_refused: the transaction lost with its connection is not
 * run again (|outcome| says why), or no longer: the client is told at the
 * statement it waits for, or its next one, that the transaction was rolled
 * back (ERR 1927), as without replay_transactions. A connection where part
 * of it ran again goes back with a reset (the reset rolls it back). */
static void client_replay_refused(struct client *c, enum replay_outcome outcome)
{
	/* at: the statement of the log (from 1) whose answer differed or that
	 * was out when the new connection died too. */
	log_info("transaction lost with its backend connection not replayed",
		 "conn=c%llu outcome=%s statements=%u at=%u", (unsigned long long)c->conn.id,
		 replay_outcome_str(outcome), c->replay.n, c->replay.next + 1);
	c->conn.w->stats.replays_total[outcome]++;
	replay_log_clear(&c->replay);
	client_give_back(c);
	c->transaction_lost = true;
	c->conn.w->stats.errors_total[STATS_ERR_TRANSACTION_LOST]++;
	if (c->state == CLIENT_LINKED)
		client_set_state(c, CLIENT_IDLE);
	client_between_transactions(c);
}

bool client_replay_refuse_local_answer(struct client *c)
{
	if (!c->replay.running)
		return false;
	replay_log_stop(&c->replay);
	client_replay_refused(c, REPLAY_DIFFERENT_RESULT);
	return true;
}

/* client_replay_read_insert_id: the transaction ran again up to the insert
 * whose LAST_INSERT_ID() was lost with the first connection: it is read
 * back here, before the client's statement goes on. */
static void client_replay_read_insert_id(struct client *c)
{
	c->replay.insert_id_unread = false;
	if (!readback_insert_id_start(c)) { /* never so: the replay's answer ended */
		c->insert_id = c->insert_id_reported;
		c->replay.broken = true;
	}
}

/* client_replay_answered: an answer ended. Outside a replay, the log learns
 * whether its statement is part of the open transaction (false: go on as
 * usual). During one, the answer of a statement run again is checked: the
 * next one goes out, or the statement that waited for the replay does, or
 * the replay is refused (true: all done here). */
static bool client_replay_answered(struct client *c, struct server *s)
{
	struct replay_log *log = &c->replay;
	if (!log->awaiting) {
		if (!client_listener(c)->replay_transactions)
			return false;
		bool in_transaction = (s->track.status & SERVER_STATUS_IN_TRANS) != 0;
		/* An ERR carries no status, and some roll the whole transaction
		 * back (a deadlock, a lock wait with innodb_rollback_on_timeout):
		 * the statements after it may run in autocommit and commit, and a
		 * replay that meets the same error would run them again. */
		if (in_transaction && s->track.last_error)
			log->broken = true;
		replay_log_answered(log, in_transaction);
		return false;
	}
	const uint8_t *frame = NULL;
	size_t len = 0;
	enum replay_check check = replay_log_check(log, &frame, &len);
	buf_cleanup(&c->retry); /* a statement of the log: never re-sent on its own */
	if (check == REPLAY_CHECK_DIFFERENT) {
		client_replay_refused(c, REPLAY_DIFFERENT_RESULT);
		return true;
	}
	if (check == REPLAY_CHECK_DONE) {
		c->conn.w->stats.replays_total[REPLAY_REPLAYED]++;
		log_info("transaction lost with its backend connection replayed",
			 "conn=c%llu statements=%u", (unsigned long long)c->conn.id, log->n);
		if (log->insert_id_unread)
			client_replay_read_insert_id(c);
	} else if (!prepend_frame(c, frame, len)) {
		return true;
	}
	if (!c->conn.closing && buf_avail(&c->conn.in) > 0)
		c->conn.ops->on_input(&c->conn);
	return true;
}

/* unanswered: the client's one command went out whole and not a byte of
 * its answer came back, so warmpool can still answer in its place. */
static bool unanswered(const struct client *c, const struct server *s)
{
	return my_track_unanswered(&s->track) && s->frame_left == 0 && !s->frame_continues &&
	       c->frame_left == 0 && buf_avail(&c->conn.in) == 0;
}

/* Times one lost statement is re-sent before the client gets the error. */
#define RETRY_LIMIT 2

/* client_may_resend: the statement kept in c->retry may go to a new
 * connection: a read retry_reads allows, a BEGIN (sent outside a
 * transaction: a transaction it began ended with the connection), one the
 * server never read, or one it aborted; but not when the statement itself
 * left state on the connection (a cursor, a routine's pin: an aborted CALL
 * may have committed its first statements) that would not come with it. */
static bool client_may_resend(const struct client *c)
{
	if (buf_avail(&c->retry) == 0 || c->retries >= RETRY_LIMIT)
		return false;
	if (c->unread)
		return true;
	return (c->retry_read || c->retry_begin || c->aborted) && !client_keeps_session(c);
}

/* client_replay_may_start: a transaction is open on |s|, all of it kept,
 * and the statement in flight never commits: when |s| dies, the transaction
 * can run again (client_replay_start). */
static bool client_replay_may_start(const struct client *c, const struct server *s)
{
	const struct replay_log *log = &c->replay;
	return client_listener(c)->replay_transactions && (s->track.status & SERVER_STATUS_IN_TRANS) &&
	       !client_keeps_session(c) && replay_log_replayable(log) &&
	       buf_avail(&log->pending) > 0 && log->pending_stays;
}

bool client_statement_killed(struct client *c, uint16_t code)
{
	if (c->frame_left > 0 || buf_avail(&c->conn.in) > 0)
		return false; /* more behind it: only a whole answer keeps them in step */
	if (code == ER_SERVER_SHUTDOWN && client_replay_may_start(c, c->server))
		return true; /* its transaction runs again (client_replay_start) */
	c->aborted = code == ER_SERVER_SHUTDOWN;
	if (client_may_resend(c))
		return true;
	c->aborted = false;
	return false;
}

/* client_replay puts a lost statement back at the head of c->in (empty:
 * see unanswered) and runs it again on a new backend connection: a read
 * retry_reads allows, one the server never read, or one it aborted. */
static bool client_replay(struct client *c)
{
	if (!client_may_resend(c))
		return false;
	const char *what =
		c->unread ? "statement the backend never read re-sent on a new backend connection"
		: c->retry_read ? "read statement re-sent on a new backend connection"
		: c->retry_begin
			? "BEGIN re-sent on a new backend connection (a transaction it began ended "
			  "with the lost one)"
			: "statement the backend aborted as it shut down re-sent on a new backend "
			  "connection";
	struct worker_stats *stats = &c->conn.w->stats;
	if (!c->unread && c->retry_read)
		stats->retried_reads_total++;
	else if (!c->unread && c->retry_begin)
		stats->retried_begins_total++;
	else if (!c->unread)
		stats->retried_aborted_total++;
	c->retries++;
	c->replaying = true;
	c->unread = c->aborted = false;
	bool ok = buf_append(&c->conn.in, buf_head(&c->retry), buf_avail(&c->retry), BUF_NO_LIMIT);
	buf_cleanup(&c->retry);
	if (!ok)
		return false;
	c->avoid_backend = c->bp->backend_idx; /* another member, if there is one up */
	/* The connections that sat idle while this one died may have died with
	 * it, unnoticed yet (their EOFs can be in the same batch of
	 * completions): sent to one of them, the statement would be lost again,
	 * a retry spent for nothing. The re-sent statement gets a connection
	 * opened from now on: those busy now are turned away as they come free
	 * (client_refuses_connection). */
	c->fresh_after_ms = c->conn.w->now_ms + 1;
	c->fresh_backend = c->bp->backend_idx;
	server_retire_idle_born_before(c->bp, c->fresh_after_ms,
				       "idle while another connection died under a statement");
	log_info(what, "conn=c%llu attempt=%u", (unsigned long long)c->conn.id, c->retries);
	client_set_state(c, CLIENT_IDLE);
	client_between_transactions(c);
	return true;
}

/* What a client is told when its transaction was lost with the statement
 * in flight. */
static const char lost_in_transaction[] =
	"warmpool: the backend connection was lost during a transaction; the transaction was "
	"rolled back, unless the lost statement was the one that ended it (COMMIT, or one that "
	"commits implicitly): its outcome is then unknown";

/* answer_lost_command sends ERR 1927 in place of the lost answer. The
 * statement may or may not have run (never re-sent: it may have written);
 * an open transaction was rolled back, unless the statement lost was its
 * COMMIT (warmpool does not classify every statement of a transaction to
 * tell, so the message says both). The client stays, unless state
 * warmpool cannot restore went with the connection. */
static void answer_lost_command(struct client *c, const struct server *s)
{
	if (client_replay(c))
		return;
	bool in_transaction = (s->track.status & SERVER_STATUS_IN_TRANS) != 0;
	struct my_bld b;
	conn_bld_begin(&c->conn, &b);
	my_err_build(&b, (uint8_t)(c->last_seq + 1), ER_CONNECTION_KILLED, "70100",
		     in_transaction ? lost_in_transaction
				    : "warmpool: the backend connection was lost while the statement ran; it "
			       "may or may not have taken effect");
	if (!conn_bld_send(&c->conn, &b))
		return;
	if (in_transaction)
		c->conn.w->stats.errors_total[STATS_ERR_TRANSACTION_LOST]++;
	log_info("backend connection lost under a statement; client told and kept",
		 "conn=c%llu in_transaction=%s pinned=%s", (unsigned long long)c->conn.id,
		 in_transaction ? "yes" : "no", client_keeps_session(c) ? "yes" : "no");
	if (client_keeps_session(c)) {
		conn_close_after_flush(&c->conn); /* its session state is gone */
		return;
	}
	client_set_state(c, CLIENT_IDLE);
}

static void client_replay_run(struct client *c, const char *in_flight);

/* Times a transaction runs again, in all: a restart's new connections may
 * die with the old server's last sessions, or in a second restart. */
#define REPLAY_RUNS_MAX 3

/* client_replay_lost_again: the connection of a replay died too: the
 * statement of the log not sent yet goes (the client's own stays), and the
 * transaction runs again from its start: the server rolled back what the
 * replay ran, as it did the original. */
static void client_replay_lost_again(struct client *c)
{
	if (!c->replay.awaiting) {
		size_t len = c->frame_left;
		struct my_cur h = my_cur_make(buf_head(&c->conn.in), buf_avail(&c->conn.in));
		uint32_t payload;
		if (len == 0 && my_cur_u24le(&h, &payload))
			len = MY_FRAME_HEADER_LEN + (size_t)payload;
		buf_consume(&c->conn.in, len < buf_avail(&c->conn.in) ? len : buf_avail(&c->conn.in));
	}
	c->frame_left = 0;
	if (c->replay.runs >= REPLAY_RUNS_MAX) {
		client_replay_refused(c, REPLAY_LOST_AGAIN);
		return;
	}
	replay_log_stop(&c->replay);
	client_replay_run(c, "again");
}

/* client_insert_id_lost: the connection went while LAST_INSERT_ID() was
 * being read back; the client's next command waits in c->in, so it is lost
 * between commands. Inside a transaction that can run again, the replay
 * runs the insert again on the new connection, given the id the client had
 * before it (still c->insert_id): the value is read back there once the
 * replay is done (client_replay_answered). Otherwise the session is gone
 * with its value: the id the OK reported is kept, as the value a generated
 * id gives (an explicit one would have left the previous value). Closing
 * the client instead would make a restart visible to every client that
 * inserts; a transaction open there is lost as any other (ERR 1927 at the
 * next statement). */
static void client_insert_id_lost(struct client *c)
{
	c->reading_insert_id = false;
	if (c->replay.n > 0 && replay_log_replayable(&c->replay)) {
		c->replay.insert_id_unread = true;
		log_info("backend connection lost while reading back LAST_INSERT_ID(); read back "
			 "again once the transaction has run again",
			 "conn=c%llu", (unsigned long long)c->conn.id);
		return;
	}
	c->insert_id = c->insert_id_reported;
	if (c->replay.n > 0)
		c->replay.broken = true; /* inside a transaction: the value is a guess */
	log_info("backend connection lost while reading back LAST_INSERT_ID(); the id its OK "
		 "reported is kept",
		 "conn=c%llu id=%llu", (unsigned long long)c->conn.id,
		 (unsigned long long)c->insert_id);
}

/* client_lost_commit_check: the COMMIT in flight was lost, after its
 * marker row was written: it waits at the head of c->in while a new
 * connection reads the row (commit_marker_check). */
static void client_lost_commit_check(struct client *c)
{
	struct replay_log *log = &c->replay;
	if (!buf_append(&c->conn.in, buf_head(&log->pending), buf_avail(&log->pending),
			BUF_NO_LIMIT)) {
		conn_close(&c->conn, LOG_ERROR, "out of memory");
		return;
	}
	replay_log_forget_pending(log, false);
	buf_cleanup(&c->retry);
	c->marker = CLIENT_MARKER_CHECK_DUE;
	c->marker_checks = 0;
	c->transaction_lost = false;
	server_retire_idle_born_before(c->bp, c->conn.w->now_ms + 1,
				       "idle while another connection died under a COMMIT");
	log_info("COMMIT lost in flight; its marker row is read on a new connection",
		 "conn=c%llu statements=%u", (unsigned long long)c->conn.id, log->n);
	client_set_state(c, CLIENT_IDLE);
	client_between_transactions(c);
}

/* take_head_command drops the whole command frame at the head of c->in,
 * answered here; the sequence id of its answer. */
static uint8_t take_head_command(struct client *c)
{
	struct buf *in = &c->conn.in;
	const uint8_t *h = buf_head(in);
	uint8_t seq = h[3];
	buf_consume(in, MY_FRAME_HEADER_LEN + ((size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16));
	return (uint8_t)(seq + 1);
}

/* answer_lost_commit answers the COMMIT at the head of c->in in the lost
 * one's place: its OK (committed, with the session's |status|) or ERR 1927
 * (outcome unknown). */
static void answer_lost_commit(struct client *c, bool committed, uint16_t status)
{
	uint8_t seq = take_head_command(c);
	struct my_bld b;
	conn_bld_begin(&c->conn, &b);
	if (committed) {
		struct my_ok ok = {.status = status & ~SERVER_STATUS_IN_TRANS};
		my_ok_build(&b, seq, &ok);
	} else {
		my_err_build(&b, seq, ER_CONNECTION_KILLED, "70100", lost_in_transaction);
		c->conn.w->stats.errors_total[STATS_ERR_TRANSACTION_LOST]++;
	}
	conn_bld_send(&c->conn, &b);
}

void client_commit_refused(struct client *c)
{
	struct buf *err = &c->replay.marker_error;
	uint8_t seq = take_head_command(c);
	struct my_bld b;
	conn_bld_begin(&c->conn, &b);
	if (buf_avail(err) > 0) {
		my_bld_packet_begin(&b, seq);
		my_bld_bytes(&b, buf_head(err), buf_avail(err));
		my_bld_packet_end(&b);
	} else { /* not kept (out of memory, or not an ERR) */
		my_err_build(&b, seq, ER_CONNECTION_KILLED, "70100",
			     "warmpool: the commit marker could not be written; the transaction was "
			     "not committed");
	}
	log_info("commit marker refused and the transaction no longer open; the COMMIT gets the "
		 "server's error",
		 "conn=c%llu", (unsigned long long)c->conn.id);
	replay_log_clear(&c->replay);
	conn_bld_send(&c->conn, &b);
}

void client_lost_commit_settled(struct client *c, enum lost_commit outcome)
{
	struct replay_log *log = &c->replay;
	c->marker_checks = 0;
	if (outcome == LOST_COMMIT_ROLLED_BACK) {
		/* Nothing committed: the transaction runs again, then the COMMIT. */
		const uint8_t *frame;
		size_t len;
		log_info("COMMIT lost in flight had not committed (no marker row); running the "
			 "transaction again",
			 "conn=c%llu statements=%u", (unsigned long long)c->conn.id, log->n);
		replay_log_begin(log, &frame, &len);
		prepend_frame(c, frame, len);
		return;
	}
	bool committed = outcome == LOST_COMMIT_COMMITTED;
	enum replay_outcome counted = committed ? REPLAY_COMMITTED : REPLAY_UNKNOWN_OUTCOME;
	log_info(committed ? "COMMIT lost in flight had committed (its marker row is there); "
			     "the client gets its OK"
			   : "transaction lost with its backend connection not replayed",
		 "conn=c%llu outcome=%s statements=%u", (unsigned long long)c->conn.id,
		 replay_outcome_str(counted), log->n);
	c->conn.w->stats.replays_total[counted]++;
	replay_log_clear(log);
	answer_lost_commit(c, committed,
			   c->server ? c->server->track.status : SERVER_STATUS_AUTOCOMMIT);
}

/* client_replay_start: |s| died inside the client's transaction. With
 * replay_transactions, and a transaction whose statements were all kept,
 * none committed: the server rolled it back when the connection went, as
 * long as the statement in flight (if any) is one that never commits. Then
 * it runs again on a new connection, statement by statement, each answer
 * checked against the original (client_replay_answered), before the
 * statement in flight, or the client's next one. True when started (or
 * refused here: the client is told); false: as without replay. */
static bool client_replay_start(struct client *c, const struct server *s, bool between_commands)
{
	struct replay_log *log = &c->replay;
	if (log->running) {
		client_replay_lost_again(c);
		return true;
	}
	if (!client_listener(c)->replay_transactions ||
	    !(s->track.status & SERVER_STATUS_IN_TRANS))
		return false;
	if (!between_commands && !unanswered(c, s))
		return false; /* part of an answer went out: the client is closed */
	enum replay_outcome refused = REPLAY_OUTCOME_COUNT;
	if (client_keeps_session(c) || !replay_log_replayable(log) ||
	    (!between_commands && buf_avail(&log->pending) == 0))
		refused = REPLAY_NOT_KEPT;
	else if (!between_commands && !log->pending_stays)
		refused = REPLAY_UNKNOWN_OUTCOME; /* a COMMIT, or what may commit */
	if (refused == REPLAY_UNKNOWN_OUTCOME && log->marker == REPLAY_MARKER_WRITTEN) {
		client_lost_commit_check(c);
		return true;
	}
	if (refused != REPLAY_OUTCOME_COUNT) {
		log_info("transaction lost with its backend connection not replayed",
			 "conn=c%llu outcome=%s statements=%u", (unsigned long long)c->conn.id,
			 replay_outcome_str(refused), log->n);
		c->conn.w->stats.replays_total[refused]++;
		replay_log_clear(log);
		return false;
	}
	/* The statement in flight goes again after the transaction. */
	if (!between_commands && !buf_append(&c->conn.in, buf_head(&log->pending),
					     buf_avail(&log->pending), BUF_NO_LIMIT)) {
		conn_close(&c->conn, LOG_ERROR, "out of memory");
		return true;
	}
	replay_log_forget_pending(log, false);
	client_replay_run(c, between_commands ? "no" : "yes");
	return true;
}

/* client_replay_run puts the log's first statement ahead of whatever the
 * client has in c->in and asks for a new connection (|in_flight|: for the
 * log line). */
static void client_replay_run(struct client *c, const char *in_flight)
{
	const uint8_t *frame;
	size_t len;
	replay_log_begin(&c->replay, &frame, &len);
	if (!prepend_frame(c, frame, len))
		return;
	buf_cleanup(&c->retry);
	c->transaction_lost = false;
	c->fresh_after_ms = c->conn.w->now_ms + 1;
	c->fresh_backend = c->bp->backend_idx;
	server_retire_idle_born_before(c->bp, c->fresh_after_ms,
				       "idle while another connection died inside a transaction");
	log_info("backend connection lost inside a transaction; running it again",
		 "conn=c%llu statements=%u in_flight=%s run=%u", (unsigned long long)c->conn.id,
		 c->replay.n, in_flight, c->replay.runs);
	client_set_state(c, CLIENT_IDLE);
	client_between_transactions(c);
}

void client_backend_lost(struct client *c, const struct server *s)
{
	c->server = NULL;
	c->conn.relay_peer = NULL;
	/* A tracked change whose answer never came: it may or may not have
	 * run, on a session that is gone. Its response count means nothing on
	 * the next connection. */
	c->pending_response = 0;
	c->pending_multi_statements = CLIENT_OPTION_AS_LOGIN;
	my_session_change_cleanup(&c->pending);
	stmt_client_prepares_lost(c);
	if (c->state == CLIENT_SETUP) {
		/* Only warmpool's own setup (SET NAMES, USE) reached the server;
		 * the client's command waits in c->in: another connection may
		 * serve it. */
		if (c->setup_retries++ < CLIENT_SETUP_RETRIES) {
			log_info("backend connection lost during session setup; retrying",
				 "conn=c%llu attempt=%u", (unsigned long long)c->conn.id,
				 c->setup_retries);
			client_set_state(c, CLIENT_WAITING);
			client_request_backend(c);
			return;
		}
		client_fail(c, ER_BACKEND_UNAVAILABLE, "HY000",
			    "warmpool: backend connection lost during session setup");
		return;
	}
	bool marker_unanswered = commit_marker_lost(c);
	bool insert_id_unread = c->reading_insert_id;
	if (insert_id_unread)
		client_insert_id_lost(c);
	if (c->readback.n > 0) {
		/* The client's SET succeeded on a session that is gone, and its
		 * values were never read: nothing can set them again. */
		conn_close(&c->conn, LOG_INFO,
			   "backend connection lost while reading back session variables");
		return;
	}
	/* warmpool's own prepare (stmt_relay.c) runs between client commands:
	 * the client's command waits in c->in. */
	bool between_commands = s->repreparing || insert_id_unread || marker_unanswered ||
				(my_track_idle(&s->track) && s->frame_left == 0 && c->frame_left == 0);
	c->stmt_blocked = false;
	c->conn.w->stats.errors_total[STATS_ERR_BACKEND_LOST]++;
	if (client_replay_start(c, s, between_commands))
		return;
	if (!between_commands && unanswered(c, s)) {
		answer_lost_command(c, s);
		return;
	}
	if (!between_commands || client_keeps_session(c)) {
		/* A response was cut, or state warmpool cannot rebuild went with
		 * the connection: the client must learn its session is gone. */
		conn_close(&c->conn, LOG_INFO, between_commands
			? "backend connection lost with session state warmpool cannot restore"
			: "backend connection lost mid-response");
		return;
	}
	/* Between commands: the next one gets a new connection, with the
	 * schema and character set restored; the client notices nothing, unless
	 * a transaction was open (it is told on its next statement). */
	c->transaction_lost = (s->track.status & SERVER_STATUS_IN_TRANS) != 0;
	if (c->transaction_lost)
		c->conn.w->stats.errors_total[STATS_ERR_TRANSACTION_LOST]++;
	client_set_state(c, CLIENT_IDLE);
	log_info("backend connection lost between commands; client kept",
		 "conn=c%llu transaction_lost=%s", (unsigned long long)c->conn.id,
		 c->transaction_lost ? "yes" : "no");
	if (buf_avail(&c->conn.in) > 0)
		client_between_transactions(c); /* a command that never left */
}

static void client_on_close(struct conn *conn)
{
	struct client *c = client_of(conn);
	kill_client_unlisted(c);
	client_settle_address(c, false); /* left before its login ended */
	list_del(&c->handshake_node);
	if (c->bp)
		pool_waiter_cancel(&c->bp->pool, &c->waiter);
	if (c->user_slot) {
		atomic_fetch_sub(&c->user_slot->clients, 1);
		c->user_slot = NULL;
	}
	if (c->counted) {
		atomic_fetch_sub(&conn->w->rt->n_clients, 1);
		c->counted = false;
		conn->w->stats.clients--;
		if (!c->authenticated)
			conn->w->stats.clients_handshaking--;
	}
	/* Left (with or without COM_QUIT): reuse its backend connection when
	 * its state is known, close it when a response was still coming. */
	client_give_back(c);
}

static void client_on_free(struct conn *conn)
{
	struct client *c = client_of(conn);
	buf_cleanup(&c->retry);
	replay_log_clear(&c->replay);
	my_vars_clear(&c->vars);
	my_vars_clear(&c->readback);
	my_session_change_cleanup(&c->pending);
	stmt_client_forget(c);
	stmt_client_prepares_lost(c);
	xfree(c);
}

/* client_on_drained: its own output, or its backend connection's, went
 * under the low mark: what waited in c->in goes on, and reading resumes. */
static void client_on_drained(struct conn *conn)
{
	if (buf_avail(&conn->in) > 0)
		client_on_input(conn);
	else
		client_flow(client_of(conn));
}

static const struct conn_ops client_ops = {
	.on_input = client_on_input,
	.on_close = client_on_close,
	.on_free = client_on_free,
	.on_peer_drained = client_on_drained,
	.on_drained = client_on_drained,
};

void client_check_handshakes(struct worker *w)
{
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &w->handshaking)
	{
		struct client *c = list_entry(pos, struct client, handshake_node);
		if (c->handshake_deadline_ms > w->now_ms)
			break; /* oldest first: the rest are younger */
		list_del(pos);
		if (c->state < CLIENT_WAITING) {
			log_warn("client handshake timed out", "conn=c%llu peer=%s state=%s",
				 (unsigned long long)c->conn.id, c->conn.peer, client_state_str(c->state));
			w->stats.errors_total[STATS_ERR_CLIENT_TIMEOUT]++;
			conn_close(&c->conn, LOG_DEBUG, NULL);
		}
	}
}
