/* cfg: the configuration model, loaded from an INI file through one key table. */
#ifndef WP_CFG_H
#define WP_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "alloc.h"
#include "log.h"
#include "my_auth.h"

/* ssl_mode, with MySQL's meaning (see README). */
enum cfg_ssl_mode {
	CFG_SSL_DISABLED = 0,	 /* never TLS */
	CFG_SSL_PREFERRED = 1,	 /* TLS when the server offers it */
	CFG_SSL_REQUIRED = 2,	 /* TLS or no connection; CA checked only if ssl_ca is set */
	CFG_SSL_VERIFY_CA = 3,	 /* TLS with the chain verified against ssl_ca */
	CFG_SSL_VERIFY_IDENTITY = 4, /* verify_ca plus the name in the certificate */
};
const char *cfg_ssl_mode_str(enum cfg_ssl_mode mode);

/* How long a client keeps a backend connection. */
enum cfg_pool_mode {
	CFG_POOL_SESSION = 0,	  /* from login to quit */
	CFG_POOL_TRANSACTION = 1, /* for one transaction (or one statement in autocommit) */
};

enum cfg_tls_version {
	CFG_TLS_1_2 = 0,
	CFG_TLS_1_3 = 1,
};

struct cfg_backend {
	char *name;
	char *host;
	int port;
	int ssl_mode; /* enum cfg_ssl_mode */
	char *ssl_ca;
	char *ssl_cert;
	char *ssl_key;
	char *ssl_server_name; /* identity to verify; defaults to host */
	int min_idle;
	int max_connections;
	int connect_timeout_ms;
	int connect_concurrency;
	int idle_timeout_ms; /* 0: idle connections above min_idle stay */
	int max_age_ms;	     /* 0: connections are never replaced for their age */
	bool tls_resumption;
	bool tls_ticket_refresh;
	int tls_ticket_max_age_ms; /* 0: as long as the server says */
	int tls_max_version; /* enum cfg_tls_version */
	int weight;	     /* share of a group's traffic */
	/* How far the backend password may travel (issue #15): see README. */
	char *server_public_key; /* PEM file of the server's RSA key */
	bool allow_public_key_retrieval; /* else never ask the server for it */
	bool enable_cleartext_plugin; /* mysql_clear_password over unverified TLS */
	uint8_t *server_public_key_pem; /* its contents, read at load; owned */
	size_t server_public_key_pem_len;
};

enum cfg_balance {
	CFG_BALANCE_LEAST_OUTSTANDING = 0,
	CFG_BALANCE_ROUND_ROBIN = 1,
};

/* A set of backends a listener balances over (a source's read-only group). */
struct cfg_group {
	char *name;
	char *members; /* comma-separated backend names */
	int balance;   /* enum cfg_balance */
};

struct cfg_listener {
	char *name;
	char *address;
	int port;
	char *backend;	    /* name of a [backend] or [group] section */
	size_t backend_idx; /* its (first) backend, resolved from |backend| */
	size_t *members;    /* every backend it balances over (one without a group) */
	size_t n_members;
	int balance;	    /* enum cfg_balance */
	char *tls_cert;
	char *tls_key;
	bool require_tls;
	char *tls_ticket_key_file;
	int auth_plugin; /* enum my_auth_plugin */
	int pool_mode;	 /* enum cfg_pool_mode */
	bool retry_reads; /* re-send a lost read-only statement */
	bool replay_transactions; /* run a transaction lost with nothing committed again */
	int replay_max_bytes;	  /* statements kept per transaction for that */
	char *replay_commit_marker; /* "schema.table" of the commit marker, or NULL */
	int backlog;
};

struct cfg_user {
	char *name;
	char *password;	     /* inline: allowed, but see password_file/env */
	char *password_file; /* first line of this file */
	char *password_env;  /* value of this environment variable */
	int pool_mode;	     /* 0: the listener's; else enum cfg_pool_mode + 1 */
	int max_clients;     /* 0: no limit of its own */
};

struct cfg {
	char *path;
	int workers_setting; /* as written: CFG_WORKERS_AUTO, 0 (one per online CPU) or a count */
	int workers;	     /* the count it came to at load (cfg_workers_resolve) */
	int log_level; /* enum log_level */
	char *users_file;
	int max_clients;
	int client_wait_timeout_ms;
	int handshake_timeout_ms;
	int max_handshakes_per_address;	   /* 0: no limit */
	int max_auth_failures_per_address; /* per auth_failure_window_ms; 0: no limit */
	int auth_failure_window_ms;
	char *server_version;
	int drain_timeout_ms;
	char *admin_address;
	int admin_port; /* 0: no admin endpoint */
	char *admin_token;
	char *admin_token_file;

	struct cfg_listener *listeners;
	size_t n_listeners;
	struct cfg_backend *backends;
	size_t n_backends;
	struct cfg_user *users;
	size_t n_users;
	struct cfg_group *groups;
	size_t n_groups;
};

/* workers = auto (see cfg_workers_resolve). */
#define CFG_WORKERS_AUTO (-1)

/* cfg_backends_on_this_host: every backend is reached over loopback
 * (127.0.0.0/8, ::1, or the name localhost): their servers share this
 * host's CPUs with warmpool. */
bool cfg_backends_on_this_host(const struct cfg *cfg);

/* cfg_workers_resolve: the worker count |cfg|'s setting comes to on a host
 * of |cpus| online CPUs. auto is one per CPU, or half of them (at least
 * one) when every backend is on this host: on 2 CPUs shared with MariaDB,
 * one worker served the same queries at less CPU per query than two
 * (BENCHMARKS.md, "Hot path"). */
int cfg_workers_resolve(const struct cfg *cfg, long cpus);

/* cfg_load parses and validates |path|. On failure it returns false and
 * writes one line "FILE:LINE: what is wrong" to |err|. The result owns all
 * its strings; release it with cfg_free. */
WP_MUST_CHECK bool cfg_load(const char *path, struct cfg *out, char *err, size_t err_len);
/* cfg_load_string is cfg_load over an in-memory file, named |path| in errors. */
WP_MUST_CHECK bool cfg_load_string(const char *path, const char *text, struct cfg *out,
				   char *err, size_t err_len);
void cfg_free(struct cfg *cfg);

/* cfg_find_user returns the user or NULL. */
const struct cfg_user *cfg_find_user(const struct cfg *cfg, const char *name);

/* cfg_write_example prints the documented example config: every key of the
 * table with its default and help text. */
void cfg_write_example(FILE *out);

#endif
