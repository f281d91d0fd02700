/* warmpool_bench: command line of warmpool-bench; one scenario per subcommand. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_handshake.h"
#include "bench_load.h"

static void usage(FILE *out)
{
	fputs("Usage: warmpool-bench handshake --port PORT [options]\n"
	      "       warmpool-bench connect|throughput|idle|restart --target NAME=HOST:PORT[/tls]... [options]\n"
	      "\n"
	      "  connect     per request: connect, log in, SELECT 1, quit (as PHP-style\n"
	      "              applications do); connections per second and latency\n"
	      "  throughput  persistent connections running point selects\n"
	      "              (SELECT c FROM TABLE WHERE id=random); qps and latency;\n"
	      "              --mix read-write: transactions of BEGIN, 2 point selects,\n"
	      "              UPDATE TABLE SET k=k+1 WHERE id=random, COMMIT\n"
	      "  idle        N logged-in connections held open, from one thread; the\n"
	      "              RSS of the --pid process and its growth per connection\n"
	      "\n"
	      "  connect and throughput run N client connections against each target for\n"
	      "  SECONDS, targets alternating for ROUNDS rounds, and report p50/p95/p99,\n"
	      "  errors and, for a target with --pid, that process's CPU per operation and\n"
	      "  RSS (/proc): the proxy's cost, comparable as a ratio on a noisy machine.\n"
	      "\n"
	      "  --target NAME=HOST:PORT[/tls]   a target (repeat); /tls: TLS to it (full\n"
	      "                        handshakes, verified with --ssl-ca and --server-name)\n"
	      "  --pid NAME=PID        measure process PID for target NAME\n"
	      "  --connections N       client connections (16; --threads is the old name)\n"
	      "  --client-threads T    threads they run on, as coroutines over epoll (2)\n"
	      "  --seconds S           per target and round (5)\n"
	      "  --rounds N            (3)\n"
	      "  --table T             point-select table (sbtest1), --table-size N (10000)\n"
	      "  --large-first NAME    throughput: before each round on target NAME, every\n"
	      "                        connection runs one statement of --large-bytes\n"
	      "                        (4194304) returning as many, then quits: the pooled\n"
	      "                        connections measured next have carried large I/O\n"
	      "                        (measured 12 s later: the allocator's cleanup of the\n"
	      "                        large transfer is not the queries' cost)\n"
	      "  --user, --password-env, --ssl-ca, --server-name, --json: as below\n"
	      "\n"
	      "  restart     per target: N connections run paced point selects (--pause-ms,\n"
	      "              10; --mix read-write: transactions as above, a failed\n"
	      "              statement is an error) while CMD restarts the backend\n"
	      "              --restarts times (4),\n"
	      "              --interval seconds apart (3); commands given several times\n"
	      "              are used in turn (TLS off, then on). A failed query or login\n"
	      "              counts as an error and the connection is opened again.\n"
	      "              Reports errors, the longest stall, and the time from each\n"
	      "              restart to the next answer.\n"
	      "  --restart-cmd CMD     shell command restarting the backend (repeat)\n"
	      "\n"
	      "  handshake   connect COUNT times per mode - plain, full TLS handshake, resumed\n"
	      "              TLS session - alternating in rounds, through warmpool's own TLS\n"
	      "              client code; prints handshake p50/p99, client CPU per handshake\n"
	      "              and, with --backend-pid, backend CPU per connection (/proc).\n"
	      "\n"
	      "  --host HOST           backend address (127.0.0.1)\n"
	      "  --port PORT           backend port\n"
	      "  --user USER           MySQL user (app)\n"
	      "  --password-env VAR    environment variable holding the password (WARMPOOL_BENCH_PASSWORD)\n"
	      "  --ssl-ca FILE         verify the backend's chain against this CA\n"
	      "  --server-name NAME    SNI, and the name the certificate must carry\n"
	      "  --count N             connections per mode (1000)\n"
	      "  --rounds N            alternate the modes N times (5)\n"
	      "  --backend-pid PID     measure the backend's CPU from /proc/PID/stat\n"
	      "  --tls12               offer TLS 1.2 at most\n"
	      "  --json FILE           also write the results as JSON\n",
	      out);
}

/* parse_target reads NAME=HOST:PORT[/tls] into the next free target. */
static bool parse_target(struct load_opts *o, const char *arg)
{
	if (o->n_targets == LOAD_MAX_TARGETS)
		return false;
	struct load_target_spec *t = &o->targets[o->n_targets];
	char tls[8] = "";
	if (sscanf(arg, "%47[^=]=%63[^:]:%d/%7s", t->name, t->host, &t->port, tls) < 3)
		return false;
	t->tls = strcmp(tls, "tls") == 0;
	o->n_targets++;
	return true;
}

static bool parse_pid(struct load_opts *o, const char *arg)
{
	char name[48];
	int pid;
	if (sscanf(arg, "%47[^=]=%d", name, &pid) != 2)
		return false;
	for (size_t i = 0; i < o->n_targets; i++) {
		if (strcmp(o->targets[i].name, name) == 0) {
			o->targets[i].pid = pid;
			return true;
		}
	}
	return false;
}

static int main_load(int argc, char **argv, enum load_scenario scenario)
{
	static const struct option opts[] = {
		{"target", required_argument, NULL, 't'},   {"pid", required_argument, NULL, 'p'},
		{"threads", required_argument, NULL, 'c'},  {"seconds", required_argument, NULL, 's'},
		{"connections", required_argument, NULL, 'c'},
		{"client-threads", required_argument, NULL, 'k'},
		{"rounds", required_argument, NULL, 'r'},   {"user", required_argument, NULL, 'u'},
		{"password-env", required_argument, NULL, 'E'}, {"ssl-ca", required_argument, NULL, 'C'},
		{"server-name", required_argument, NULL, 'N'}, {"table", required_argument, NULL, 'T'},
		{"table-size", required_argument, NULL, 'S'}, {"json", required_argument, NULL, 'j'},
		{"restart-cmd", required_argument, NULL, 'R'},
		{"restarts", required_argument, NULL, 'n'}, {"interval", required_argument, NULL, 'i'},
		{"pause-ms", required_argument, NULL, 'z'},
		{"mix", required_argument, NULL, 'm'},
		{"large-first", required_argument, NULL, 'L'},
		{"large-bytes", required_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},	    {0},
	};
	struct load_opts o = {.scenario = scenario, .connections = 16, .client_threads = 2,
			      .seconds = 5, .rounds = 3, .restarts = 4, .interval = 3, .pause = 0.01,
			      .user = "app", .table = "sbtest1", .table_size = 10000,
			      .large_bytes = 4u << 20};
	const char *password_env = "WARMPOOL_BENCH_PASSWORD";
	int opt;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (!parse_target(&o, optarg)) {
				fprintf(stderr, "warmpool-bench: bad --target %s\n", optarg);
				return 2;
			}
			break;
		case 'p':
			if (!parse_pid(&o, optarg)) {
				fprintf(stderr, "warmpool-bench: bad --pid %s (name a target first)\n", optarg);
				return 2;
			}
			break;
		case 'c': o.connections = atoi(optarg); break;
		case 'k': o.client_threads = atoi(optarg); break;
		case 's': o.seconds = atof(optarg); break;
		case 'r': o.rounds = atoi(optarg); break;
		case 'u': o.user = optarg; break;
		case 'E': password_env = optarg; break;
		case 'C': o.ssl_ca = optarg; break;
		case 'N': o.server_name = optarg; break;
		case 'T': o.table = optarg; break;
		case 'S': o.table_size = atoi(optarg); break;
		case 'j': o.json_path = optarg; break;
		case 'R':
			if (o.n_restart_cmds == LOAD_MAX_RESTART_CMDS) {
				fprintf(stderr, "warmpool-bench: at most %d --restart-cmd\n",
					LOAD_MAX_RESTART_CMDS);
				return 2;
			}
			o.restart_cmds[o.n_restart_cmds++] = optarg;
			break;
		case 'n': o.restarts = atoi(optarg); break;
		case 'i': o.interval = atof(optarg); break;
		case 'z': o.pause = atof(optarg) / 1e3; break;
		case 'm':
			if (strcmp(optarg, "point") != 0 && strcmp(optarg, "read-write") != 0) {
				fprintf(stderr, "warmpool-bench: --mix is point or read-write\n");
				return 2;
			}
			o.read_write = strcmp(optarg, "read-write") == 0;
			break;
		case 'L': o.large_first = optarg; break;
		case 'B': o.large_bytes = (size_t)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	o.password = getenv(password_env);
	if (scenario == LOAD_RESTART &&
	    (o.n_restart_cmds == 0 || o.restarts <= 0 || o.restarts > LOAD_MAX_RESTARTS ||
	     o.interval < 0 || o.pause < 0)) {
		fprintf(stderr, "warmpool-bench: restart needs --restart-cmd, --restarts 1..%d, "
				"and non-negative --interval and --pause-ms\n", LOAD_MAX_RESTARTS);
		return 2;
	}
	if (o.n_targets == 0 || o.connections <= 0 || o.client_threads <= 0 || o.seconds <= 0 ||
	    o.rounds <= 0 || o.table_size <= 0 || !o.password) {
		fprintf(stderr, "warmpool-bench: need --target, positive --connections, "
				"--client-threads, --seconds, "
				"--rounds and --table-size, and the password in $%s\n", password_env);
		return 2;
	}
	return bench_load(&o);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "connect") == 0)
		return main_load(argc, argv, LOAD_CONNECT);
	if (argc >= 2 && strcmp(argv[1], "throughput") == 0)
		return main_load(argc, argv, LOAD_THROUGHPUT);
	if (argc >= 2 && strcmp(argv[1], "idle") == 0)
		return main_load(argc, argv, LOAD_IDLE);
	if (argc >= 2 && strcmp(argv[1], "restart") == 0)
		return main_load(argc, argv, LOAD_RESTART);
	if (argc < 2 || strcmp(argv[1], "handshake") != 0) {
		usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	static const struct option opts[] = {
		{"host", required_argument, NULL, 'H'},	    {"port", required_argument, NULL, 'P'},
		{"user", required_argument, NULL, 'u'},	    {"password-env", required_argument, NULL, 'E'},
		{"ssl-ca", required_argument, NULL, 'C'},   {"server-name", required_argument, NULL, 'N'},
		{"count", required_argument, NULL, 'n'},    {"rounds", required_argument, NULL, 'r'},
		{"backend-pid", required_argument, NULL, 'p'}, {"tls12", no_argument, NULL, '2'},
		{"json", required_argument, NULL, 'j'},	    {"help", no_argument, NULL, 'h'},
		{0},
	};
	struct handshake_opts o = {.host = "127.0.0.1", .user = "app", .count = 1000, .rounds = 5};
	const char *password_env = "WARMPOOL_BENCH_PASSWORD";
	int opt;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': o.host = optarg; break;
		case 'P': o.port = atoi(optarg); break;
		case 'u': o.user = optarg; break;
		case 'E': password_env = optarg; break;
		case 'C': o.ssl_ca = optarg; break;
		case 'N': o.server_name = optarg; break;
		case 'n': o.count = (size_t)strtoul(optarg, NULL, 10); break;
		case 'r': o.rounds = atoi(optarg); break;
		case 'p': o.backend_pid = atoi(optarg); break;
		case '2': o.tls12 = true; break;
		case 'j': o.json_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	o.password = getenv(password_env);
	if (o.port <= 0 || o.count == 0 || o.rounds <= 0 || !o.password) {
		fprintf(stderr, "warmpool-bench: need --port, a positive --count and --rounds, and "
				"the password in $%s\n", password_env);
		return 2;
	}
	return bench_handshake(&o);
}
