#!/usr/bin/env bash
# servers.sh: MariaDB 10.11 and MySQL 9.7 side by side, in one run: backend TLS handshakes full vs
# resumed (warmpool's own client code against each server's OpenSSL), and connect-per-request
# direct, direct with TLS and through warmpool (transaction mode, TLS to the backend).
# Prints the markdown tables of BENCHMARKS.md; JSON in $OUT (build/bench-servers).
#
#   bench/servers.sh [COUNT] [ROUNDS]     handshakes per mode and round (1500), rounds (4)
#
# Each server is a throwaway instance of tools/mariadb-fixture.sh (MySQL's root is built on
# first use); they run one after the other, each alone on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1500}
ROUNDS=${2:-4}
SECONDS_PER=${SECONDS_PER:-4}
OUT=${OUT:-build/bench-servers}
BENCH=build/bench/warmpool-bench
mkdir -p "$OUT"
tools/build.sh >/dev/null
export WARMPOOL_BENCH_PASSWORD=app-secret

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
say() { echo "bench: $*" >&2; }
WP_PID="" DB=""
cleanup() {
  if [ -n "$WP_PID" ]; then kill "$WP_PID" 2>/dev/null || true; wait "$WP_PID" 2>/dev/null || true; fi
  WP_PID=""
  [ -z "$DB" ] || tools/mariadb-fixture.sh stop --dir "$DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

for server in mariadb mysql; do
  DB=$OUT/$server
  tools/mariadb-fixture.sh stop --dir "$DB" >/dev/null 2>&1 || true
  rm -rf "$DB"
  say "$server: starting"
  eval "$(tools/mariadb-fixture.sh start --server "$server" --dir "$DB" --ssl on | sed 's/^/DB_/')"
  # caching_sha2_password (MySQL): one login over the socket fills the server's cache, so that
  # the plaintext logins below take its fast path, as a warm pool's do.
  mariadb --no-defaults -uapp -papp-secret -S "$DB_socket" -e 'SELECT 1' >/dev/null
  mariadb --no-defaults -uroot -S "$DB_socket" -N -B -e 'SELECT VERSION()' > "$OUT/$server.version"

  WP=$(free_port)
  echo "app:app-secret" > "$OUT/users.txt"; chmod 600 "$OUT/users.txt"
  cat > "$OUT/warmpool-$server.ini" <<INI
[warmpool]
users_file = $PWD/$OUT/users.txt
log_level = warn

[listener txn]
port = $WP
backend = main
pool_mode = transaction

[backend main]
port = $DB_port
ssl_mode = verify_identity
ssl_ca = $DB_ca
ssl_server_name = localhost
min_idle = 8
max_connections = 64
INI
  build/io/warmpool --config "$OUT/warmpool-$server.ini" 2>"$OUT/warmpool-$server.log" &
  WP_PID=$!
  for _ in $(seq 100); do
    mariadb --no-defaults -h127.0.0.1 -P"$WP" -uapp -papp-secret -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.1
  done

  for v in 1.3 1.2; do
    flag=""; [ "$v" = 1.2 ] && flag=--tls12
    say "$server: handshakes, TLS $v"
    $BENCH handshake --port "$DB_port" --ssl-ca "$DB_ca" --server-name localhost --count "$COUNT" \
      --rounds "$ROUNDS" --backend-pid "$DB_pid" $flag --json "$OUT/$server-handshake-tls$v.json" >/dev/null
  done
  say "$server: connect per request, 8 clients"
  $BENCH connect --target direct=127.0.0.1:"$DB_port" --pid direct="$DB_pid" \
    --target direct-tls=127.0.0.1:"$DB_port"/tls --pid direct-tls="$DB_pid" \
    --target warmpool-txn=127.0.0.1:"$WP" --pid warmpool-txn="$WP_PID" \
    --ssl-ca "$DB_ca" --server-name localhost --connections 8 --seconds "$SECONDS_PER" \
    --rounds "$ROUNDS" --json "$OUT/$server-connect.json" >/dev/null
  cleanup
done
python3 bench/servers_report.py "$OUT"
