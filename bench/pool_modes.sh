#!/usr/bin/env bash
# pool_modes.sh: sysbench oltp_read_only, 64 threads, text protocol, against MariaDB direct (TLS),
# warmpool in session mode and warmpool in transaction mode (8 backend connections), alternating,
# with the peak number of backend connections. Starts its own MariaDB and warmpools.
#   bench/pool_modes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/build.sh >/dev/null
RUN=$(mktemp -d)
tools/mariadb-fixture.sh start --dir "$RUN/db" --ssl on >/dev/null
trap 'pkill -f "$RUN/bench-" || true; tools/mariadb-fixture.sh stop --dir "$RUN/db"' EXIT
P=$(sed -n 's/^port=//p' "$RUN/db/fixture.env")
SOCK=$RUN/db/mariadb.sock
CERTS=$RUN/db/certs
echo "app:app-secret" > "$RUN/users.txt"; chmod 600 "$RUN/users.txt"
cd "$RUN"
for mode in session transaction; do
  cat > bench-$mode.ini <<INI
[warmpool]
workers = 2
log_level = warn
users_file = $RUN/users.txt
client_wait_timeout_ms = 30000
[listener main]
port = $([ $mode = session ] && echo 16101 || echo 16102)
pool_mode = $mode
[backend main]
port = $P
ssl_mode = verify_identity
ssl_ca = $CERTS/ca.pem
ssl_server_name = localhost
min_idle = 8
max_connections = $([ $mode = session ] && echo 128 || echo 8)
INI
done
mariadb --no-defaults -uroot -S $SOCK -e "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest"
SB="sysbench oltp_read_only --mysql-user=app --mysql-password=app-secret --mysql-db=sbtest --tables=4 --table-size=100000 --report-interval=0 --db-ps-mode=disable"
$SB --mysql-host=127.0.0.1 --mysql-port=$P --threads=4 prepare >/dev/null
cd "$CERTS"  # sysbench --mysql-ssl=on reads its certificates from here
for round in 1 2; do
  for t in "direct-tls $P on" "warmpool-session 16101 off" "warmpool-transaction 16102 off"; do
    set -- $t
    peak=0
    case $1 in warmpool-*) "$ROOT/build/io/warmpool" --config "$RUN/bench-${1#warmpool-}.ini" > "$RUN/run.log" 2>&1 & WP=$!; sleep 1;; esac
    ( while true; do n=$(mariadb --no-defaults -uroot -S $SOCK -N -e "select count(*) from information_schema.processlist where user='app'"); echo $n; sleep 1; done ) > "$RUN/peak-$1" &
    W=$!
    r=$($SB --mysql-host=127.0.0.1 --mysql-port=$2 --mysql-ssl=$3 --threads=64 --time=15 run 2>&1 | grep -E 'queries:|ignored errors|95th' | tr -s ' ' | tr '\n' ' ')
    kill $W; peak=$(sort -n "$RUN/peak-$1" | tail -1)
    case $1 in warmpool-*) kill $WP; wait $WP 2>/dev/null || true; sleep 0.5;; esac
    echo "round=$round $1: $r backend_connections_peak=$peak"
  done
done
