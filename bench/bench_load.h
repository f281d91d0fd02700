/* bench_load: the connect and throughput scenarios of warmpool-bench, over several targets at once. */
#ifndef WP_BENCH_LOAD_H
#define WP_BENCH_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#define LOAD_MAX_TARGETS 16

enum load_scenario {
	LOAD_CONNECT = 0,    /* connect, log in, SELECT 1, quit: per request, PHP style */
	LOAD_THROUGHPUT = 1, /* persistent connections running point selects */
	LOAD_IDLE = 2,	     /* N idle logged-in connections: the target's RSS per connection */
	LOAD_RESTART = 3,    /* paced point selects while the backend restarts (a command) */
};

#define LOAD_MAX_RESTART_CMDS 4
#define LOAD_MAX_RESTARTS 32

struct load_target_spec {
	char name[48];
	char host[64];
	int port;
	bool tls;
	int pid; /* process measured for CPU and RSS (0: none) */
};

struct load_opts {
	enum load_scenario scenario;
	struct load_target_spec targets[LOAD_MAX_TARGETS];
	size_t n_targets;
	int connections;    /* client connections per target */
	int client_threads; /* threads the connections are spread over (coroutines) */
	double seconds;	 /* per target and round */
	int rounds;	 /* targets alternate this many times */
	const char *user;
	const char *password;
	const char *ssl_ca;
	const char *server_name;
	const char *table;  /* point selects: SELECT c FROM table WHERE id=? */
	bool read_write;    /* throughput: transactions of 2 selects and an update of k */
	int table_size;	    /* ids drawn from 1..table_size */
	/* throughput: before each round on this target, every connection runs
	 * one statement carrying and returning |large_bytes| (NULL: none), so
	 * that the pooled connections measured after it have done large I/O */
	const char *large_first;
	size_t large_bytes;
	const char *json_path;
	/* restart: commands run in turn (e.g. TLS off, then on), each restart */
	const char *restart_cmds[LOAD_MAX_RESTART_CMDS];
	size_t n_restart_cmds;
	int restarts;	     /* per target */
	double interval;     /* seconds of load before, between and after restarts */
	double pause;	     /* seconds each connection waits between its queries */
};

/* bench_load runs the scenario against every target, alternating in rounds,
 * and prints the table (and JSON when asked). Returns an exit code. */
int bench_load(const struct load_opts *o);

#endif
