/* warmpool_bench: command line of warmpool-bench; one scenario per subcommand. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_handshake.h"

static void usage(FILE *out)
{
	fputs("Usage: warmpool-bench handshake --port PORT [options]\n"
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

int main(int argc, char **argv)
{
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
