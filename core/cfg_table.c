/* cfg_table: every configuration key warmpool knows, in one place. */
#include "cfg_table.h"

#include "cfg.h"

static const char *const ssl_modes[] = {"disabled", "preferred", "required", "verify_ca",
					"verify_identity", NULL};
static const char *const pool_modes[] = {"session", "transaction", NULL};
static const char *const balances[] = {"least_outstanding", "round_robin", NULL};
/* A user's pool_mode: index 0 (unset) means the listener's. */
static const char *const user_pool_modes[] = {"", "session", "transaction", NULL};
static const char *const tls_versions[] = {"1.2", "1.3", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
/* workers: the word stored as CFG_WORKERS_AUTO. */
static const char *const workers_words[] = {"auto", NULL};
/* Indexed by enum my_auth_plugin; only the two usable ones are named. */
static const char *const auth_plugins[] = {"", "mysql_native_password", "caching_sha2_password",
					   NULL};

const struct cfg_key cfg_keys[] = {
	{CFG_SECTION_GLOBAL, "workers", CFG_INT, offsetof(struct cfg, workers_setting), "auto", 0,
	 256, workers_words,
	 "Worker threads, each with its own io_uring. auto: one per online CPU, or half of "
	 "them (at least one) when every backend is on this host (a loopback address or "
	 "localhost), whose database needs the other CPUs; 0: one per online CPU."},
	{CFG_SECTION_GLOBAL, "log_level", CFG_ENUM, offsetof(struct cfg, log_level), "info", 0, 0,
	 log_levels, "Lowest level logged to stderr: debug, info, warn or error."},
	{CFG_SECTION_GLOBAL, "users_file", CFG_STR, offsetof(struct cfg, users_file), NULL, 0, 0,
	 NULL,
	 "File of 'name:password' lines (one per user, # comments). Keep it mode 0600: "
	 "warmpool needs the plain password to log into the backend as that user."},
	{CFG_SECTION_GLOBAL, "max_clients", CFG_INT, offsetof(struct cfg, max_clients), "10000", 1,
	 1000000, NULL, "Client connections accepted at once, over all workers."},
	{CFG_SECTION_GLOBAL, "client_wait_timeout_ms", CFG_INT,
	 offsetof(struct cfg, client_wait_timeout_ms), "5000", 1, 3600000, NULL,
	 "How long a client waits for a backend connection before it gets an error."},
	{CFG_SECTION_GLOBAL, "handshake_timeout_ms", CFG_INT,
	 offsetof(struct cfg, handshake_timeout_ms), "10000", 100, 600000, NULL,
	 "A client must finish TLS and authentication within this time."},
	{CFG_SECTION_GLOBAL, "max_handshakes_per_address", CFG_INT,
	 offsetof(struct cfg, max_handshakes_per_address), "0", 0, 1000000, NULL,
	 "Connections from one IP address that may be logging in at once (they count toward "
	 "max_clients until they do); more get ERR 1040. 0: no limit."},
	{CFG_SECTION_GLOBAL, "max_auth_failures_per_address", CFG_INT,
	 offsetof(struct cfg, max_auth_failures_per_address), "100", 0, 1000000, NULL,
	 "Failed logins (and COM_CHANGE_USERs) from one IP address within "
	 "auth_failure_window_ms after which its new connections get ERR 1129 until the "
	 "window ends, as MySQL's max_connect_errors. 0: no limit."},
	{CFG_SECTION_GLOBAL, "auth_failure_window_ms", CFG_INT,
	 offsetof(struct cfg, auth_failure_window_ms), "60000", 1000, 86400000, NULL,
	 "The window of max_auth_failures_per_address, from an address's first failure."},
	{CFG_SECTION_GLOBAL, "server_version", CFG_STR, offsetof(struct cfg, server_version), NULL,
	 0, 0, NULL,
	 "Version announced to clients; by default the backend's own, learned on connect."},
	{CFG_SECTION_GLOBAL, "drain_timeout_ms", CFG_INT, offsetof(struct cfg, drain_timeout_ms),
	 "30000", 0, 3600000, NULL,
	 "On SIGTERM, how long open transactions and running queries may finish before the "
	 "remaining clients are closed."},
	{CFG_SECTION_GLOBAL, "admin_address", CFG_STR, offsetof(struct cfg, admin_address),
	 "127.0.0.1", 0, 0, NULL,
	 "Address of the admin HTTP endpoint (/healthz /readyz /metrics /status)."},
	{CFG_SECTION_GLOBAL, "admin_port", CFG_INT, offsetof(struct cfg, admin_port), "6034", 0,
	 65535, NULL, "Port of the admin HTTP endpoint; 0 turns it off."},
	{CFG_SECTION_GLOBAL, "admin_token", CFG_STR, offsetof(struct cfg, admin_token), NULL, 0, 0,
	 NULL,
	 "Bearer token required by /metrics, /status and the reasons of /readyz; the probes "
	 "stay open (prefer admin_token_file)."},
	{CFG_SECTION_GLOBAL, "admin_token_file", CFG_STR, offsetof(struct cfg, admin_token_file),
	 NULL, 0, 0, NULL, "File whose first line is the admin bearer token."},

	{CFG_SECTION_LISTENER, "address", CFG_STR, offsetof(struct cfg_listener, address),
	 "127.0.0.1", 0, 0, NULL, "Address to listen on (IPv4 or IPv6 literal)."},
	{CFG_SECTION_LISTENER, "port", CFG_INT, offsetof(struct cfg_listener, port), "6033", 1,
	 65535, NULL, "TCP port to listen on."},
	{CFG_SECTION_LISTENER, "backend", CFG_STR, offsetof(struct cfg_listener, backend), NULL, 0,
	 0, NULL,
	 "Name of the [backend] or [group] this listener serves; optional with one backend."},
	{CFG_SECTION_LISTENER, "tls_cert", CFG_STR, offsetof(struct cfg_listener, tls_cert), NULL,
	 0, 0, NULL, "PEM certificate chain offered to clients; enables client TLS."},
	{CFG_SECTION_LISTENER, "tls_key", CFG_STR, offsetof(struct cfg_listener, tls_key), NULL, 0,
	 0, NULL, "PEM private key of tls_cert."},
	{CFG_SECTION_LISTENER, "require_tls", CFG_BOOL, offsetof(struct cfg_listener, require_tls),
	 "false", 0, 0, NULL, "Refuse clients that do not start TLS (needs tls_cert)."},
	{CFG_SECTION_LISTENER, "tls_ticket_key_file", CFG_STR,
	 offsetof(struct cfg_listener, tls_ticket_key_file), NULL, 0, 0, NULL,
	 "48 bytes (raw, or 96 hex digits) encrypting client session tickets; give every "
	 "replica the same file to let clients resume on any of them. Without it, keys are "
	 "random per process and rotate every two days."},
	{CFG_SECTION_LISTENER, "auth_plugin", CFG_ENUM, offsetof(struct cfg_listener, auth_plugin),
	 "mysql_native_password", 0, 0, auth_plugins,
	 "Plugin warmpool asks clients to authenticate with: mysql_native_password or "
	 "caching_sha2_password."},
	{CFG_SECTION_LISTENER, "pool_mode", CFG_ENUM, offsetof(struct cfg_listener, pool_mode),
	 "session", 0, 0, pool_modes,
	 "session: a client keeps its backend connection until it quits; transaction: only "
	 "until the end of each transaction, unless session state pins it (see README)."},
	{CFG_SECTION_LISTENER, "retry_reads", CFG_BOOL, offsetof(struct cfg_listener, retry_reads),
	 "false", 0, 0, NULL,
	 "Re-send a lone read-only SELECT or SHOW (a text query, or an execute of a "
	 "prepared one), outside transactions, on a new backend connection when its "
	 "connection dies (or its server kills it) before answering, instead of answering "
	 "ERR 1927. Never a statement that may write (those the server aborted as it shut "
	 "down, ERR 1053, are re-sent without it)."},
	{CFG_SECTION_LISTENER, "replay_transactions", CFG_BOOL,
	 offsetof(struct cfg_listener, replay_transactions), "false", 0, 0, NULL,
	 "Keep the statements of each open transaction and a digest of each answer; when "
	 "its backend connection dies with nothing committed, run them again on a new "
	 "connection and, if every answer is the same, go on as if nothing happened "
	 "(README: When the backend restarts). Assumes transactional tables."},
	{CFG_SECTION_LISTENER, "replay_max_bytes", CFG_INT,
	 offsetof(struct cfg_listener, replay_max_bytes), "65536", 1024, 16777216, NULL,
	 "Statement bytes kept per transaction for replay_transactions; a transaction "
	 "that sends more is not replayed."},
	{CFG_SECTION_LISTENER, "replay_commit_marker", CFG_STR,
	 offsetof(struct cfg_listener, replay_commit_marker), NULL, 0, 0, NULL,
	 "schema.table of a table (conn BIGINT UNSIGNED PRIMARY KEY, txn BIGINT UNSIGNED) "
	 "where each replayable transaction writes a row just before its COMMIT, so that a "
	 "COMMIT lost in flight is known committed (the client gets its OK) or not (the "
	 "transaction runs again) instead of unknown. Needs replay_transactions."},
	{CFG_SECTION_LISTENER, "backlog", CFG_INT, offsetof(struct cfg_listener, backlog), "1024",
	 1, 65535, NULL, "listen(2) backlog of each worker's socket."},

	{CFG_SECTION_BACKEND, "host", CFG_STR, offsetof(struct cfg_backend, host), "127.0.0.1", 0,
	 0, NULL, "Backend address (IPv4 or IPv6 literal, or a name resolved at start)."},
	{CFG_SECTION_BACKEND, "port", CFG_INT, offsetof(struct cfg_backend, port), "3306", 1,
	 65535, NULL, "Backend TCP port."},
	{CFG_SECTION_BACKEND, "ssl_mode", CFG_ENUM, offsetof(struct cfg_backend, ssl_mode),
	 "preferred", 0, 0, ssl_modes,
	 "disabled, preferred, required, verify_ca or verify_identity, as in MySQL. With "
	 "ssl_ca set, preferred and required verify the chain too."},
	{CFG_SECTION_BACKEND, "ssl_ca", CFG_STR, offsetof(struct cfg_backend, ssl_ca), NULL, 0, 0,
	 NULL, "CA file used to verify the backend's certificate: PEM, PKCS#7 (.p7b) or Java "
	       "KeyStore (.jks), detected by content."},
	{CFG_SECTION_BACKEND, "ssl_cert", CFG_STR, offsetof(struct cfg_backend, ssl_cert), NULL, 0,
	 0, NULL, "Optional PEM client certificate presented to the backend."},
	{CFG_SECTION_BACKEND, "ssl_key", CFG_STR, offsetof(struct cfg_backend, ssl_key), NULL, 0, 0,
	 NULL, "Private key of ssl_cert."},
	{CFG_SECTION_BACKEND, "ssl_server_name", CFG_STR,
	 offsetof(struct cfg_backend, ssl_server_name), NULL, 0, 0, NULL,
	 "Name sent as SNI and checked by verify_identity; defaults to host."},
	{CFG_SECTION_BACKEND, "min_idle", CFG_INT, offsetof(struct cfg_backend, min_idle), "2", 0,
	 10000, NULL,
	 "Warm connections kept ready per user, over all workers (split between them)."},
	{CFG_SECTION_BACKEND, "max_connections", CFG_INT,
	 offsetof(struct cfg_backend, max_connections), "100", 1, 100000, NULL,
	 "Most connections per user to this backend, over all workers (split between them, at "
	 "least one each)."},
	{CFG_SECTION_BACKEND, "connect_timeout_ms", CFG_INT,
	 offsetof(struct cfg_backend, connect_timeout_ms), "3000", 10, 600000, NULL,
	 "TCP connect, TLS and authentication to the backend must finish within this time."},
	{CFG_SECTION_BACKEND, "connect_concurrency", CFG_INT,
	 offsetof(struct cfg_backend, connect_concurrency), "8", 1, 10000, NULL,
	 "Most connections being opened to this backend at once (TCP, TLS and login), over all "
	 "workers (at least one each): a backend that just came back gets no handshake storm."},
	{CFG_SECTION_BACKEND, "idle_timeout_ms", CFG_INT,
	 offsetof(struct cfg_backend, idle_timeout_ms), "600000", 0, 86400000, NULL,
	 "An idle connection closes after this long unused while more than min_idle are idle "
	 "(PgBouncer's server_idle_timeout); 0 keeps them."},
	{CFG_SECTION_BACKEND, "max_age_ms", CFG_INT, offsetof(struct cfg_backend, max_age_ms),
	 "3600000", 0, 604800000, NULL,
	 "A connection is replaced once this old, only while no client holds it, at a random "
	 "point in the last quarter of the age so they are not all renewed at once "
	 "(PgBouncer's server_lifetime); 0 keeps them."},

	{CFG_SECTION_BACKEND, "tls_resumption", CFG_BOOL,
	 offsetof(struct cfg_backend, tls_resumption), "true", 0, 0, NULL,
	 "Resume TLS sessions (tickets) on new backend connections instead of full handshakes."},
	{CFG_SECTION_BACKEND, "tls_ticket_refresh", CFG_BOOL,
	 offsetof(struct cfg_backend, tls_ticket_refresh), "true", 0, 0, NULL,
	 "When the freshest ticket is past half its lifetime, replace one idle connection so "
	 "that fresh tickets arrive (one resumed handshake and login per half lifetime)."},
	{CFG_SECTION_BACKEND, "tls_ticket_max_age_ms", CFG_INT,
	 offsetof(struct cfg_backend, tls_ticket_max_age_ms), "0", 0, 86400000, NULL,
	 "Offer a ticket for at most this long after it arrived; 0 trusts the server's "
	 "lifetime hint. Set it below the server's session cache timeout when the hint says "
	 "more (MySQL 8: ssl_session_cache_timeout)."},
	{CFG_SECTION_BACKEND, "tls_max_version", CFG_ENUM,
	 offsetof(struct cfg_backend, tls_max_version), "1.3", 0, 0, tls_versions,
	 "Highest TLS version offered to the backend: 1.2 or 1.3 (1.2 is the minimum)."},
	{CFG_SECTION_BACKEND, "server_public_key", CFG_STR,
	 offsetof(struct cfg_backend, server_public_key), NULL, 0, 0, NULL,
	 "PEM file of the backend's RSA public key (MySQL: public_key.pem in its datadir). "
	 "caching_sha2_password full authentication without TLS encrypts the password to this "
	 "key, as MySQL's --server-public-key-path."},
	{CFG_SECTION_BACKEND, "allow_public_key_retrieval", CFG_BOOL,
	 offsetof(struct cfg_backend, allow_public_key_retrieval), "false", 0, 0, NULL,
	 "Without TLS and without server_public_key, ask the backend for its RSA key for "
	 "caching_sha2_password full authentication (MySQL's --get-server-public-key). A man "
	 "in the middle can answer with a key of its own: otherwise such a login is refused."},
	{CFG_SECTION_BACKEND, "enable_cleartext_plugin", CFG_BOOL,
	 offsetof(struct cfg_backend, enable_cleartext_plugin), "false", 0, 0, NULL,
	 "Send the password for mysql_clear_password over TLS whose certificate is not "
	 "verified (no ssl_ca). Never without TLS; by default only over verified TLS."},
	{CFG_SECTION_BACKEND, "weight", CFG_INT, offsetof(struct cfg_backend, weight), "100", 1,
	 1000, NULL, "Share of a group's traffic this backend takes, relative to the others."},

	{CFG_SECTION_GROUP, "members", CFG_STR, offsetof(struct cfg_group, members), NULL, 0, 0,
	 NULL, "Backends of the group, comma-separated; a listener naming the group balances "
	       "over them."},
	{CFG_SECTION_GROUP, "balance", CFG_ENUM, offsetof(struct cfg_group, balance),
	 "least_outstanding", 0, 0, balances,
	 "least_outstanding: the healthy member with the fewest busy and queued connections per "
	 "weight; round_robin: healthy members in turn, by weight."},

	{CFG_SECTION_USER, "password", CFG_STR, offsetof(struct cfg_user, password), NULL, 0, 0,
	 NULL, "Inline password (prefer password_file, password_env or users_file)."},
	{CFG_SECTION_USER, "password_file", CFG_STR, offsetof(struct cfg_user, password_file),
	 NULL, 0, 0, NULL, "File whose first line is the password."},
	{CFG_SECTION_USER, "password_env", CFG_STR, offsetof(struct cfg_user, password_env), NULL,
	 0, 0, NULL, "Environment variable holding the password."},
	{CFG_SECTION_USER, "pool_mode", CFG_ENUM, offsetof(struct cfg_user, pool_mode), NULL, 0, 0,
	 user_pool_modes,
	 "session or transaction for this user's clients, whatever the listener says."},
	{CFG_SECTION_USER, "max_clients", CFG_INT, offsetof(struct cfg_user, max_clients), "0", 0,
	 1000000, NULL,
	 "Client connections this user may hold at once, over all workers; 0: no limit of its "
	 "own (max_clients still applies)."},
};

const size_t cfg_keys_len = sizeof(cfg_keys) / sizeof(cfg_keys[0]);

const char *cfg_section_str(enum cfg_section section)
{
	switch (section) {
	case CFG_SECTION_GLOBAL: return "warmpool";
	case CFG_SECTION_LISTENER: return "listener";
	case CFG_SECTION_BACKEND: return "backend";
	case CFG_SECTION_USER: return "user";
	case CFG_SECTION_GROUP: return "group";
	}
	return "unknown";
}
