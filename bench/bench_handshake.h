/* bench_handshake: the handshake scenario of warmpool-bench. */
#ifndef WP_BENCH_HANDSHAKE_H
#define WP_BENCH_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

struct handshake_opts {
	const char *host;
	int port;
	const char *user;
	const char *password;
	const char *ssl_ca;	 /* verify the chain when set */
	const char *server_name; /* SNI and identity check when set */
	size_t count;		 /* connections per mode */
	int rounds;
	int backend_pid;	 /* 0: backend CPU not measured */
	bool tls12;		 /* cap at TLS 1.2 */
	const char *json_path;
};

/* bench_handshake runs plain, full and resumed connections, alternating in
 * rounds, and prints the table (and JSON when asked). Returns an exit code. */
int bench_handshake(const struct handshake_opts *o);

#endif
