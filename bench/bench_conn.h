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

/* bench_connect opens a connection, logs in, sends COM_QUIT and closes.
 * False with a message in |why| on any failure. */
bool bench_connect(const struct bench_target *t, struct bench_sample *out, char *why,
		   size_t why_len);

double bench_now(void);
double bench_thread_cpu(void);

#endif
