#!/usr/bin/env bash
# handshake.sh: full vs resumed TLS handshakes against a throwaway local MariaDB, TLS 1.3 and 1.2,
# printed as the markdown tables of BENCHMARKS.md (JSON next to them in $OUT).
#   bench/handshake.sh [COUNT] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-3000}
ROUNDS=${2:-6}
OUT=${OUT:-$(mktemp -d)}
tools/build.sh >/dev/null
DB=$OUT/mariadb
tools/mariadb-fixture.sh start --dir "$DB" --ssl on >/dev/null
trap 'tools/mariadb-fixture.sh stop --dir "$DB"' EXIT
PORT=$(sed -n 's/^port=//p' "$DB/fixture.env")
PID=$(cat "$DB/mariadb.pid")
export WARMPOOL_BENCH_PASSWORD=app-secret

echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
echo "Backend: $(/usr/sbin/mariadbd --version | sed 's/^.*Ver //'), RSA 2048 certificate"
for v in 1.3 1.2; do
  flag=""; [ "$v" = 1.2 ] && flag=--tls12
  echo
  echo "TLS $v: \`warmpool-bench handshake --port $PORT --ssl-ca CA --server-name localhost --count $COUNT --rounds $ROUNDS --backend-pid PID $flag\`"
  echo
  build/bench/warmpool-bench handshake --port "$PORT" --ssl-ca "$DB/certs/ca.pem" \
    --server-name localhost --count "$COUNT" --rounds "$ROUNDS" --backend-pid "$PID" $flag \
    --json "$OUT/handshake-tls$v.json" 2>/dev/null |
  awk 'NF == 8 && $1 != "mode" { printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $3, $4, $5, $6, $7, $8 }
       $1 == "mode" { print "| mode | resumed | handshake p50 ms | p99 ms | client CPU µs/handshake | backend CPU µs/connection | connect+login p50 ms |"; print "| --- | --- | --- | --- | --- | --- | --- |" }'
done
echo
echo "JSON: $OUT/handshake-tls1.3.json, $OUT/handshake-tls1.2.json"
