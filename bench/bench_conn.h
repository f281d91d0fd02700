/* bench_conn: a blocking MySQL client connection for the bench, on warmpool's codec and TLS layer. */
#ifndef WP_BENCH_CONN_H
#define WP_BENCH_CONN_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "metric.h"
#include "tls_cache.h"
#include "tls_layer.h"

struct bench_target {
	const char *host;
	int port;
	const char *user;
	const char *password;
	const char *server_name; /* SNI and identity; NULL: no identity check */
	bool tls;
	SSL_CTX *ctx;
	struct tls_cache *cache; /* NULL: never resume */
};

/* One connection's timings. */
struct bench_sample {
	bool resumed;
	double handshake_seconds;  /* SSLRequest sent -> TLS established (0 without TLS) */
	double handshake_cpu;	   /* this thread's CPU over the same span */
	double connect_seconds;	   /* TCP connect -> login OK */
};

/* A logged-in connection that runs queries. */
struct bench_session {
	int fd;
	struct tls_conn *tls;
	struct buf in;	/* plaintext */
	struct buf out; /* bytes to send */
	struct buf payload;
	char *why;
	size_t why_len;
};

/* bench_open connects and logs in; false with a message in |why|. The
 * session is to be closed with bench_close either way. */
bool bench_open(const struct bench_target *t, struct bench_session *s,
		struct bench_sample *out, char *why, size_t why_len);
/* bench_query runs one COM_QUERY and reads its whole response (result sets
 * included); false on an ERR or a broken connection. */
bool bench_query(struct bench_session *s, const char *sql);
/* bench_close sends COM_QUIT (when |quit|) and releases everything. */
void bench_close(struct bench_session *s, bool quit);

/* bench_connect opens a connection, logs in, sends COM_QUIT and closes.
 * False with a message in |why| on any failure. */
bool bench_connect(const struct bench_target *t, struct bench_sample *out, char *why,
		   size_t why_len);

double bench_now(void);
double bench_thread_cpu(void);

#endif
