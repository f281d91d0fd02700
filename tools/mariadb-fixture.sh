#!/usr/bin/env bash
# mariadb-fixture.sh: a throwaway MariaDB on loopback, with TLS on or off, for tests and the demo.
#
#   mariadb-fixture.sh start   --dir DIR [--port PORT] [--ssl on|off]
#   mariadb-fixture.sh restart --dir DIR [--ssl on|off]     (same port; toggles TLS)
#   mariadb-fixture.sh stop    --dir DIR
#   mariadb-fixture.sh status  --dir DIR
#
# start and restart print key=value lines (port, socket, ssl, ca, certs, users) that
# are also kept in DIR/fixture.env. Certificates (a CA, a server certificate for
# localhost/127.0.0.1 and a client certificate) are made once per DIR with openssl.
# Users: app / app-secret (mysql_native_password, all privileges), database sbtest.
set -euo pipefail

die() { echo "mariadb-fixture: $*" >&2; exit 1; }

cmd=${1:-}; shift || true
DIR="" PORT="" SSL=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --ssl) SSL=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: $0 start|restart|stop|status --dir DIR [--port PORT] [--ssl on|off]"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
ENV_FILE=$DIR/fixture.env
CERTS=$DIR/certs
DATA=$DIR/data
SOCK=$DIR/mariadb.sock
PIDFILE=$DIR/mariadb.pid
LOG=$DIR/error.log

find_bin() { for b in "$@"; do command -v "$b" >/dev/null 2>&1 && { command -v "$b"; return; }; [ -x "/usr/sbin/$b" ] && { echo "/usr/sbin/$b"; return; }; done; die "none of $* found (run tools/install-deps.sh)"; }
MARIADBD=$(find_bin mariadbd mysqld)
INSTALL_DB=$(find_bin mariadb-install-db mysql_install_db)
CLIENT=$(find_bin mariadb mysql)
ADMIN=$(find_bin mariadb-admin mysqladmin)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

make_certs() {
  [ -f "$CERTS/server-cert.pem" ] && return
  mkdir -p "$CERTS"
  ( cd "$CERTS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=warmpool test CA" \
      -keyout ca-key.pem -out ca.pem 2>/dev/null
    cp ca.pem cacert.pem   # the name sysbench --mysql-ssl=on looks for
    for who in server client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$who-key.pem" -out "$who.csr" 2>/dev/null
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$who.ext"
      openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
        -days 3650 -extfile "$who.ext" -out "$who-cert.pem" 2>/dev/null
      rm -f "$who.csr" "$who.ext"
    done
    chmod 600 ./*-key.pem )
}

init_datadir() {
  [ -d "$DATA/mysql" ] && return
  mkdir -p "$DATA"
  "$INSTALL_DB" --no-defaults --user="$(id -un)" --datadir="$DATA" \
    --auth-root-authentication-method=normal --skip-test-db >"$DIR/install.log" 2>&1 \
    || { cat "$DIR/install.log" >&2; die "mariadb-install-db failed"; }
}

is_running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start_server() {
  local ssl_args=(--skip-ssl)
  if [ "$SSL" = on ]; then
    ssl_args=(--ssl-ca="$CERTS/ca.pem" --ssl-cert="$CERTS/server-cert.pem" --ssl-key="$CERTS/server-key.pem")
  fi
  # setsid: the server must outlive the shell that started it, and not get
  # the terminal's signals.
  setsid "$MARIADBD" --no-defaults --user="$(id -un)" --datadir="$DATA" \
    --port="$PORT" --bind-address=127.0.0.1 --socket="$SOCK" --pid-file="$PIDFILE" \
    --log-error="$LOG" --skip-name-resolve --skip-log-bin --max-connections=1000 \
    --innodb-buffer-pool-size=128M --innodb-log-file-size=64M --innodb-flush-log-at-trx-commit=2 \
    --performance-schema=OFF "${ssl_args[@]}" </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 300); do
    if "$ADMIN" --no-defaults -uroot -S "$SOCK" ping >/dev/null 2>&1; then return; fi
    sleep 0.1
  done
  tail -20 "$LOG" >&2 || true
  die "mariadbd did not start on port $PORT"
}

create_users() {
  "$CLIENT" --no-defaults -uroot -S "$SOCK" <<'SQL'
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app-secret';
GRANT ALL PRIVILEGES ON *.* TO 'app'@'%';
CREATE DATABASE IF NOT EXISTS sbtest;
FLUSH PRIVILEGES;
SQL
}

stop_server() {
  is_running || return 0
  local pid; pid=$(cat "$PIDFILE")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

write_env() {
  cat > "$ENV_FILE" <<ENV
port=$PORT
host=127.0.0.1
socket=$SOCK
ssl=$SSL
ca=$CERTS/ca.pem
server_cert=$CERTS/server-cert.pem
server_key=$CERTS/server-key.pem
client_cert=$CERTS/client-cert.pem
client_key=$CERTS/client-key.pem
certs=$CERTS
user=app
password=app-secret
pid=$(cat "$PIDFILE" 2>/dev/null || echo)
datadir=$DATA
error_log=$LOG
ENV
  cat "$ENV_FILE"
}

load_env() {
  [ -f "$ENV_FILE" ] || die "no fixture in $DIR (start it first)"
  PORT=${PORT:-$(sed -n 's/^port=//p' "$ENV_FILE")}
  [ -n "$SSL" ] || SSL=$(sed -n 's/^ssl=//p' "$ENV_FILE")
}

case "$cmd" in
  start)
    SSL=${SSL:-on}
    [ -f "$ENV_FILE" ] && PORT=${PORT:-$(sed -n 's/^port=//p' "$ENV_FILE")}
    PORT=${PORT:-$(free_port)}
    is_running && die "already running in $DIR"
    make_certs; init_datadir; start_server; create_users; write_env ;;
  restart)
    load_env; stop_server; start_server; write_env ;;
  stop)
    stop_server ;;
  status)
    load_env; if is_running; then cat "$ENV_FILE"; else echo "stopped"; exit 1; fi ;;
  *) die "unknown command $cmd" ;;
esac
