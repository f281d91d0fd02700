#!/usr/bin/env bash
# run.sh: every scenario of warmpool-bench against MariaDB direct, HAProxy and warmpool, in one run;
# JSON in build/bench-run/, plots in bench/results/, tables into BENCHMARKS.md.
#
#   bench/run.sh                     the full run (about 8 minutes on 2 CPUs)
#   bench/run.sh --quick             shorter spans, for trying the harness
#   bench/run.sh --proxysql PATH     also ProxySQL (not packaged by Debian:
#                                    bring your own binary), TLS to MariaDB
#   bench/run.sh --server mysql      against MySQL 9.7 instead (tools/mariadb-fixture.sh
#                                    --server mysql): JSON in build/bench-run-mysql/, the
#                                    tables in build/bench-run-mysql/report.md, plots in
#                                    its plots/ (BENCHMARKS.md keeps the MariaDB run)
#
# Starts its own MariaDB or MySQL (tools/mariadb-fixture.sh, TLS on), warmpool and
# HAProxy in TCP mode on loopback ports, and stops them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER=4 ROUNDS=3 IDLE=10000 PROXYSQL=${PROXYSQL:-} SERVER=mariadb
while [ $# -gt 0 ]; do
  case $1 in
    --quick) SECONDS_PER=2 ROUNDS=1 IDLE=2000 ;;
    --proxysql) PROXYSQL=${2:?--proxysql needs the path of a proxysql binary}; shift ;;
    --server) SERVER=${2:?--server needs mariadb or mysql}; shift ;;
    *) echo "usage: $0 [--quick] [--proxysql PATH] [--server mariadb|mysql]" >&2; exit 2 ;;
  esac
  shift
done
[ -z "$PROXYSQL" ] || [ -x "$PROXYSQL" ] || { echo "bench: $PROXYSQL is not executable" >&2; exit 2; }
case $SERVER in mariadb|mysql) ;; *) echo "bench: --server mariadb or mysql" >&2; exit 2 ;; esac
OUT=build/bench-run PLOTS=bench/results REPORT=BENCHMARKS.md
if [ "$SERVER" = mysql ]; then
  OUT=build/bench-run-mysql PLOTS=build/bench-run-mysql/plots REPORT=build/bench-run-mysql/report.md
fi
BENCH=build/bench/warmpool-bench
mkdir -p "$OUT" "$PLOTS"
tools/install-deps.sh >/dev/null
for p in haproxy gnuplot-nox; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null; }
done
tools/build.sh >/dev/null
ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
say() { echo "bench: $*" >&2; }

DB=$OUT/db
tools/mariadb-fixture.sh stop --dir "$DB" >/dev/null 2>&1 || true
rm -rf "$DB"
eval "$(tools/mariadb-fixture.sh start --server "$SERVER" --dir "$DB" --ssl on | sed 's/^/DB_/')"
# One login over the socket fills MySQL's caching_sha2_password cache (empty
# after every start), so that the plaintext logins of sysbench and of the
# bench's direct targets take its fast path. On MariaDB, a harmless login.
FILL_SHA2_CACHE="mariadb --no-defaults -uapp -papp-secret -S $DB_socket -e 'SELECT 1' >/dev/null"
eval "$FILL_SHA2_CACHE"
cleanup() {
  [ -n "${WP_PID:-}" ] && kill "$WP_PID" 2>/dev/null && wait "$WP_PID" 2>/dev/null
  for pid in ${WP_WORKER_PIDS:-}; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  [ -n "${PSQL_PID:-}" ] && kill "$PSQL_PID" 2>/dev/null && wait "$PSQL_PID" 2>/dev/null
  # Killed, it ends by the signal: its status (143) must not end the cleanup.
  [ -n "${FWD_PID:-}" ] && kill "$FWD_PID" 2>/dev/null && { wait "$FWD_PID" 2>/dev/null || true; }
  [ -f "$OUT/haproxy.pid" ] && kill "$(cat "$OUT/haproxy.pid")" 2>/dev/null
  tools/mariadb-fixture.sh stop --dir "$DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT
mariadb --no-defaults -uroot -S "$DB_socket" -e "CREATE DATABASE bench; GRANT ALL ON bench.* TO 'app'@'%'"
sysbench oltp_point_select --mysql-host=127.0.0.1 --mysql-port="$DB_port" --mysql-user=app \
  --mysql-password=app-secret --mysql-db=bench --tables=1 --table-size=10000 --mysql-ssl=off \
  prepare >/dev/null

# warmpool: plaintext and TLS clients, session and transaction mode; TLS to the backend.
WP_SESSION=$(free_port) WP_TXN=$(free_port) WP_TXN_TLS=$(free_port) WP_ADMIN=$(free_port)
WP_RESTART=$(free_port) WP_PS=$(free_port) WP_LARGE=$(free_port) WP_TXN_PLAIN=$(free_port)
echo "app:app-secret" > "$OUT/users.txt"; chmod 600 "$OUT/users.txt"
cat > "$OUT/warmpool.ini" <<EOF
[warmpool]
users_file = $PWD/$OUT/users.txt
admin_port = $WP_ADMIN
max_clients = 15000
log_level = warn
# Longer than a restart: MySQL's takes about 6 s here (the default 5 s made
# the restart scenario's clients time out while it was down).
client_wait_timeout_ms = 30000

[listener session]
port = $WP_SESSION
backend = main

[listener txn]
port = $WP_TXN
backend = main
pool_mode = transaction

[listener txn_tls]
port = $WP_TXN_TLS
backend = main
pool_mode = transaction
tls_cert = $DB_server_cert
tls_key = $DB_server_key

# The same pool without TLS to the backend: what warmpool costs apart from
# the server's TLS, against HAProxy, which passes plaintext through.
[listener txn_plain]
port = $WP_TXN_PLAIN
backend = plain
pool_mode = transaction

# Point selects on pooled connections that each carried a 4 MiB statement:
# a pool of its own, so that the other scenarios meet none of them.
[listener txn_large]
port = $WP_LARGE
backend = large
pool_mode = transaction

# Prepared statements multiplexed: 16 sysbench threads on at most 4 connections.
[listener txn_ps]
port = $WP_PS
pool_mode = transaction
backend = ps

[listener txn_restart]
port = $WP_RESTART
pool_mode = transaction
backend = follows_tls
retry_reads = true

[backend main]
port = $DB_port
ssl_mode = verify_identity
ssl_ca = $DB_ca
ssl_server_name = localhost
min_idle = 8
max_connections = 64

[backend plain]
port = $DB_port
ssl_mode = disabled
min_idle = 8
max_connections = 64

[backend ps]
port = $DB_port
ssl_mode = verify_identity
ssl_ca = $DB_ca
ssl_server_name = localhost
min_idle = 4
max_connections = 4

[backend large]
port = $DB_port
ssl_mode = verify_identity
ssl_ca = $DB_ca
ssl_server_name = localhost
min_idle = 8
max_connections = 64

# For the restart scenario, which switches TLS off and on as a managed
# instance does: preferred follows the server.
[backend follows_tls]
port = $DB_port
ssl_mode = preferred
min_idle = 4
max_connections = 16
EOF
# MySQL without TLS: caching_sha2_password's full authentication needs its key.
[ "$SERVER" = mariadb ] || sed -i "/^ssl_mode = \(preferred\|disabled\)$/a server_public_key = $DB_rsa_public_key" \
  "$OUT/warmpool.ini"
build/io/warmpool --config "$OUT/warmpool.ini" 2>"$OUT/warmpool.log" &
WP_PID=$!

# HAProxy in TCP mode: the layer-4 baseline (clients may do TLS end to end through it).
HAPROXY=$(free_port)
cat > "$OUT/haproxy.cfg" <<EOF
global
    nbthread 2
    maxconn 8000
defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
frontend mysql
    bind 127.0.0.1:$HAPROXY
    default_backend db
backend db
    server db1 127.0.0.1:$DB_port
EOF
haproxy -f "$OUT/haproxy.cfg" -D -p "$OUT/haproxy.pid"
sleep 1
HA_PID=$(cat "$OUT/haproxy.pid")

# The naive io_uring forwarder of issue #18 (bench/forward.c): one backend
# connection per client, no parsing, no TLS; the floor of a proxy's kernel cost.
FORWARD=$(free_port)
build/bench/warmpool-forward "$FORWARD" "$DB_port" &
FWD_PID=$!

# ProxySQL, when given: the widely used MySQL pooler, TLS to MariaDB as warmpool.
T_PSQL=()
if [ -n "$PROXYSQL" ]; then
  PSQL=$(free_port) PSQL_ADMIN=$(free_port)
  rm -rf "$OUT/proxysql"; mkdir -p "$OUT/proxysql"
  cat > "$OUT/proxysql.cnf" <<EOF
datadir="$PWD/$OUT/proxysql"
admin_variables=
{
    admin_credentials="admin:admin"
    mysql_ifaces="127.0.0.1:$PSQL_ADMIN"
}
mysql_variables=
{
    threads=2
    max_connections=8000
    interfaces="127.0.0.1:$PSQL"
    monitor_enabled=false
    server_version="10.11.0-MariaDB"
}
mysql_servers=
(
    { address="127.0.0.1", port=$DB_port, hostgroup=0, max_connections=64, use_ssl=1 }
)
mysql_users=
(
    { username="app", password="app-secret", default_hostgroup=0, active=1 }
)
EOF
  "$PROXYSQL" -f --initial -c "$OUT/proxysql.cnf" -D "$PWD/$OUT/proxysql" \
    >"$OUT/proxysql.log" 2>&1 &
  PSQL_PID=$!
  for _ in $(seq 100); do
    mariadb --no-defaults -h127.0.0.1 -P"$PSQL" -uapp -papp-secret -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  T_PSQL=(--target proxysql=127.0.0.1:$PSQL --pid proxysql=$PSQL_PID)
fi

export WARMPOOL_BENCH_PASSWORD=app-secret
COMMON=(--ssl-ca "$DB_ca" --server-name localhost --table bench.sbtest1 --table-size 10000)
T_DIRECT=(--target direct=127.0.0.1:$DB_port --pid direct=$DB_pid)
T_DIRECT_TLS=(--target direct-tls=127.0.0.1:$DB_port/tls --pid direct-tls=$DB_pid)
T_HA=(--target haproxy=127.0.0.1:$HAPROXY --pid haproxy=$HA_PID)
T_HA_TLS=(--target haproxy-tls=127.0.0.1:$HAPROXY/tls --pid haproxy-tls=$HA_PID)
T_WPS=(--target warmpool-session=127.0.0.1:$WP_SESSION --pid warmpool-session=$WP_PID)
T_WPT=(--target warmpool-txn=127.0.0.1:$WP_TXN --pid warmpool-txn=$WP_PID)
T_WPT_TLS=(--target warmpool-txn-tls=127.0.0.1:$WP_TXN_TLS/tls --pid warmpool-txn-tls=$WP_PID)
T_WPT_PLAIN=(--target warmpool-txn-plain=127.0.0.1:$WP_TXN_PLAIN --pid warmpool-txn-plain=$WP_PID)
T_FWD=(--target forward=127.0.0.1:$FORWARD --pid forward=$FWD_PID)
T_WPT_LARGE=(--target warmpool-txn-large=127.0.0.1:$WP_LARGE --pid warmpool-txn-large=$WP_PID
  --large-first warmpool-txn-large)

# First, while warmpool's memory is fresh: later loads leave allocator caches.
say "idle: $IDLE connections held open"
$BENCH idle "${T_WPT[@]}" "${COMMON[@]}" --connections $IDLE --json "$OUT/idle.json"
$BENCH idle "${T_WPT_TLS[@]}" "${COMMON[@]}" --connections $((IDLE / 5)) --json "$OUT/idle-tls.json"

say "connect: connect, log in, SELECT 1, quit; 8 clients"
$BENCH connect "${T_DIRECT[@]}" "${T_DIRECT_TLS[@]}" "${T_HA[@]}" "${T_PSQL[@]}" "${T_WPS[@]}" "${T_WPT[@]}" \
  "${COMMON[@]}" --connections 8 --seconds $SECONDS_PER --rounds $ROUNDS --json "$OUT/connect.json"

say "throughput: point selects, 16 clients"
$BENCH throughput "${T_DIRECT[@]}" "${T_DIRECT_TLS[@]}" "${T_HA[@]}" "${T_HA_TLS[@]}" "${T_FWD[@]}" \
  "${T_PSQL[@]}" "${T_WPS[@]}" "${T_WPT[@]}" "${T_WPT_TLS[@]}" "${T_WPT_PLAIN[@]}" "${COMMON[@]}" \
  --connections 16 --seconds $SECONDS_PER --rounds $ROUNDS --json "$OUT/throughput.json"

# The server's side of the same paths: --pid is mariadbd's for every target, so
# cpu_us/op is what the server spends per query served through each of them.
say "server CPU per query, by the path the queries take, 16 clients"
$BENCH throughput --target direct=127.0.0.1:$DB_port --target direct-tls=127.0.0.1:$DB_port/tls \
  --target haproxy=127.0.0.1:$HAPROXY --target warmpool-txn=127.0.0.1:$WP_TXN \
  --target warmpool-txn-plain=127.0.0.1:$WP_TXN_PLAIN \
  $(for t in direct direct-tls haproxy warmpool-txn warmpool-txn-plain; do echo --pid "$t=$DB_pid"; done) \
  "${COMMON[@]}" --connections 16 --seconds $SECONDS_PER --rounds $ROUNDS --json "$OUT/server-cpu.json"

say "throughput: read-write transactions (BEGIN, 2 point selects, UPDATE, COMMIT), 16 clients"
$BENCH throughput --mix read-write "${T_DIRECT[@]}" "${T_HA[@]}" "${T_PSQL[@]}" "${T_WPS[@]}" \
  "${T_WPT[@]}" "${T_WPT_PLAIN[@]}" "${COMMON[@]}" --connections 16 --seconds $SECONDS_PER --rounds $ROUNDS \
  --json "$OUT/read-write.json"

say "throughput: point selects after a 4 MiB statement on the same pooled connections, 16 clients"
$BENCH throughput "${T_WPT[@]}" "${T_WPT_LARGE[@]}" "${COMMON[@]}" --connections 16 \
  --seconds $SECONDS_PER --rounds $ROUNDS --json "$OUT/large-first.json"

for n in 16 64 256 1000; do
  say "throughput at $n clients"
  # MariaDB takes 1000 connections (the fixture's max_connections): at 1000
  # clients only warmpool, which multiplexes them onto 64, can be measured.
  targets=("${T_DIRECT[@]}" "${T_HA[@]}" "${T_FWD[@]}" "${T_PSQL[@]}" "${T_WPT[@]}" "${T_WPT_PLAIN[@]}")
  [ $n -ge 1000 ] && targets=("${T_PSQL[@]}" "${T_WPT[@]}" "${T_WPT_PLAIN[@]}")
  $BENCH throughput "${targets[@]}" "${COMMON[@]}" --connections $n --seconds $SECONDS_PER \
    --rounds 1 --json "$OUT/scaling-$n.json"
done

say "handshake: full vs resumed TLS to the backend"
$BENCH handshake --port "$DB_port" --ssl-ca "$DB_ca" --server-name localhost \
  --count $((300 * ROUNDS)) --rounds $ROUNDS --backend-pid "$DB_pid" --json "$OUT/handshake.json" >/dev/null

say "sysbench oltp_point_select cross-check, 16 threads"
for t in direct:$DB_port haproxy:$HAPROXY warmpool-txn:$WP_TXN; do
  sysbench oltp_point_select --mysql-host=127.0.0.1 --mysql-port="${t#*:}" --mysql-user=app \
    --mysql-password=app-secret --mysql-db=bench --tables=1 --table-size=10000 --mysql-ssl=off \
    --db-ps-mode=disable --threads=16 --time=$((SECONDS_PER * 2)) run > "$OUT/sysbench-${t%%:*}.txt"
done

say "sysbench prepared statements (binary protocol), 16 threads"
for t in direct:$DB_port warmpool-session:$WP_SESSION warmpool-txn-4conns:$WP_PS; do
  sysbench oltp_point_select --mysql-host=127.0.0.1 --mysql-port="${t#*:}" --mysql-user=app \
    --mysql-password=app-secret --mysql-db=bench --tables=1 --table-size=10000 --mysql-ssl=off \
    --db-ps-mode=auto --threads=16 --time=$((SECONDS_PER * 2)) run > "$OUT/sysbenchps-${t%%:*}.txt"
done

# One warmpool per worker count, transaction mode, TLS to the backend: what a
# worker costs and brings. The 2-connection ones force the pool over its limit,
# where connections move between workers (4 workers) or cannot (1 worker).
# start_wp NAME WORKERS MAX_CONNECTIONS: its port in WP_PORT, its pid in WP_LAST.
start_wp() {
  WP_PORT=$(free_port)
  {
    printf '[warmpool]\nworkers = %s\nusers_file = %s\nadmin_port = %s\nlog_level = warn\n' \
      "$2" "$PWD/$OUT/users.txt" "$(free_port)"
    printf 'client_wait_timeout_ms = 30000\n\n[listener txn]\nport = %s\n' "$WP_PORT"
    printf 'backend = main\npool_mode = transaction\n\n'
    # The main warmpool's backend, with this pool's size.
    sed -n '/^\[backend main\]/,/^$/p' "$OUT/warmpool.ini" |
      sed "s/^max_connections = .*/max_connections = $3/; s/^min_idle = .*/min_idle = $(( $3 < 8 ? 0 : 8 ))/"
  } > "$OUT/warmpool-$1.ini"
  build/io/warmpool --config "$OUT/warmpool-$1.ini" 2>"$OUT/warmpool-$1.log" &
  WP_LAST=$!
  WP_WORKER_PIDS="${WP_WORKER_PIDS:-} $WP_LAST"
}
T_WORKERS=()
for spec in w1:1:64 w2:2:64 w4:4:64 w1-2conns:1:2 w4-2conns:4:2; do
  IFS=: read -r name workers conns <<< "$spec"
  start_wp "$name" "$workers" "$conns"
  T_WORKERS+=(--target "warmpool-$name=127.0.0.1:$WP_PORT" --pid "warmpool-$name=$WP_LAST")
done
sleep 1
say "workers: transaction mode with 1, 2 and 4 workers, and 2 connections for 16 clients"
$BENCH throughput "${T_WORKERS[@]}" "${COMMON[@]}" --connections 16 --seconds $SECONDS_PER \
  --rounds $ROUNDS --json "$OUT/workers.json"
HANDOFF_ADMIN=$(sed -n 's/^admin_port = //p' "$OUT/warmpool-w4-2conns.ini")
curl -s "http://127.0.0.1:$HANDOFF_ADMIN/metrics" | grep -E '^warmpool_(pool_handoffs|queries)_total' \
  > "$OUT/workers-handoffs.txt" || true

# Last: it restarts MariaDB, whose pid the scenarios above measure.
say "restart: 20 paced clients while MariaDB restarts 4 times, TLS off and on"
$BENCH restart --target direct=127.0.0.1:$DB_port --target warmpool-txn=127.0.0.1:$WP_RESTART \
  "${COMMON[@]}" --connections 20 --restarts 4 --interval 3 \
  --restart-cmd "tools/mariadb-fixture.sh restart --dir $DB --ssl off >/dev/null && $FILL_SHA2_CACHE" \
  --restart-cmd "tools/mariadb-fixture.sh restart --dir $DB --ssl on >/dev/null && $FILL_SHA2_CACHE" \
  --json "$OUT/restart.json"

say "report"
BENCH_SERVER=$SERVER python3 bench/report.py "$OUT" "$PLOTS" "$REPORT"
say "done: $REPORT and $PLOTS/*.png updated"
