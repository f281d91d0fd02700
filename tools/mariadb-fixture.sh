#!/usr/bin/env bash
# mariadb-fixture.sh: a throwaway MariaDB or MySQL on loopback, with TLS on or off, for tests and the demo.
#
#   mariadb-fixture.sh start   --dir DIR [--server mariadb|mysql] [--port PORT] [--ssl on|off]
#   mariadb-fixture.sh restart --dir DIR [--ssl on|off]     (same port; toggles TLS)
#   mariadb-fixture.sh stop    --dir DIR
#   mariadb-fixture.sh status  --dir DIR
#   mariadb-fixture.sh client  --dir DIR -- MYSQL-ARGS...   (MySQL only: the root's own
#                                                          mysql client, DIR at /srv/instance)
#
# start and restart print key=value lines (server, port, socket, ssl, ca, certs, users)
# that are also kept in DIR/fixture.env. Certificates (a CA, a server certificate for
# localhost/127.0.0.1 and a client certificate) are made once per DIR with openssl.
# Users: app / app-secret (all privileges; mysql_native_password on MariaDB,
# caching_sha2_password on MySQL), database sbtest. Each instance has its own tmpdir.
#
# MySQL (9.7, from Debian sid) needs a newer libc than this system's: it runs in a
# Debian sid root made by debootstrap on first use and cached in $WARMPOOL_MYSQL_ROOT
# (default /var/cache/warmpool/mysql-root). The server runs chrooted in a mount
# namespace of its own where DIR is bind-mounted at /srv/instance: every instance sees
# its own files at the same path, nothing is mounted in the host's namespace, and the
# mount disappears with the server (even after kill -9). Its socket, pid file, logs and
# datadir are therefore DIR's own files, reachable from the host.
set -euo pipefail

die() { echo "mariadb-fixture: $*" >&2; exit 1; }

cmd=${1:-}; shift || true
DIR="" PORT="" SSL="" SERVER=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --ssl) SSL=$2; shift 2 ;;
    --server) SERVER=$2; shift 2 ;;
    --) shift; break ;;
    *) die "unknown option $1" ;;
  esac
done
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: $0 start|restart|stop|status|client --dir DIR [--server mariadb|mysql] [--port PORT] [--ssl on|off]"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
ENV_FILE=$DIR/fixture.env
# The kind of server is chosen at start and kept for the other commands.
if [ -z "$SERVER" ] && [ -f "$ENV_FILE" ]; then SERVER=$(sed -n 's/^server=//p' "$ENV_FILE"); fi
SERVER=${SERVER:-mariadb}
case "$SERVER" in mariadb|mysql) ;; *) die "--server must be mariadb or mysql" ;; esac
CERTS=$DIR/certs
DATA=$DIR/data
TMPD=$DIR/tmp   # the instance's own tmpdir: two servers starting at once share no /tmp
SOCK=$DIR/$SERVER.sock
PIDFILE=$DIR/$SERVER.pid
LOG=$DIR/error.log
MYSQL_ROOT=${WARMPOOL_MYSQL_ROOT:-/var/cache/warmpool/mysql-root}
INSIDE=/srv/instance   # DIR as the chrooted mysqld sees it

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
  mkdir -p "$DATA" "$TMPD"
  if [ "$SERVER" = mysql ]; then
    in_root mysqld --no-defaults --initialize-insecure --user=root --datadir="$INSIDE/data" \
      --tmpdir="$INSIDE/tmp" --log-error="$INSIDE/install.log" >/dev/null 2>&1 \
      || { cat "$DIR/install.log" >&2; die "mysqld --initialize-insecure failed"; }
    return
  fi
  "$INSTALL_DB" --no-defaults --user="$(id -un)" --datadir="$DATA" --tmpdir="$TMPD" \
    --auth-root-authentication-method=normal --skip-test-db >"$DIR/install.log" 2>&1 \
    || { cat "$DIR/install.log" >&2; die "mariadb-install-db failed"; }
}

# debian_mirror: the URIs: of the main archive in apt's sources (deb822 or one-line).
debian_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
      /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
      /etc/apt/sources.list)
  fi
  [ -n "$m" ] || die "no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  echo "$m"
}

# ensure_mysql_root builds the Debian sid root with MySQL on first use. Under a
# lock, so that parallel tests build it once; into a temporary directory renamed
# into place, so that a root that exists is complete.
ensure_mysql_root() {
  [ -x "$MYSQL_ROOT/usr/sbin/mysqld" ] && return
  command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] \
    || die "debootstrap not found (run tools/install-deps.sh)"
  local parent; parent=$(dirname "$MYSQL_ROOT")
  mkdir -p "$parent"
  exec 9>"$MYSQL_ROOT.lock"
  flock 9
  if [ ! -x "$MYSQL_ROOT/usr/sbin/mysqld" ]; then
    local mirror tmp start
    mirror=$(debian_mirror)
    tmp=$(mktemp -d "$MYSQL_ROOT.tmp.XXXXXX")
    start=$(date +%s)
    echo "mariadb-fixture: building the MySQL root in $MYSQL_ROOT from $mirror (once)" >&2
    if ! PATH=$PATH:/usr/sbin:/sbin debootstrap --variant=minbase \
        --include=mysql-server-core,mysql-client-core sid "$tmp" "$mirror" >"$tmp.log" 2>&1; then
      tail -20 "$tmp.log" >&2
      rm -rf "$tmp"
      die "debootstrap of the MySQL root failed (log: $tmp.log)"
    fi
    mkdir -p "$tmp$INSIDE"
    mv "$tmp" "$MYSQL_ROOT"
    rm -f "$tmp.log"
    echo "mariadb-fixture: MySQL root built in $(( $(date +%s) - start )) s" >&2
  fi
  exec 9>&-
}

# IN_ROOT runs a command of the MySQL root, chrooted, with DIR at $INSIDE in a
# mount namespace of its own (private: the host never sees the mount).
IN_ROOT=(unshare --mount --propagation private -- sh -c
         'mount --bind "$1" "$2$3" && shift 3 && exec chroot "$@"'
         in_root "$DIR" "$MYSQL_ROOT" "$INSIDE" "$MYSQL_ROOT")
in_root() { "${IN_ROOT[@]}" "$@"; }

is_running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

# wait_started: the server answers a ping on its socket, or the start failed.
wait_started() {
  local pid=$1
  for _ in $(seq 1 300); do
    if "$ADMIN" --no-defaults -uroot -S "$SOCK" ping >/dev/null 2>&1; then return; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -20 "$LOG" >&2 || true
  die "$SERVER did not start on port $PORT"
}

start_mysql() {
  # --tls-version= (empty) is how an SSL toggle restarts MySQL without TLS.
  local ssl_args=(--tls-version=)
  if [ "$SSL" = on ]; then
    ssl_args=(--ssl-ca="$INSIDE/certs/ca.pem" --ssl-cert="$INSIDE/certs/server-cert.pem"
              --ssl-key="$INSIDE/certs/server-key.pem")
  fi
  mkdir -p "$TMPD"
  rm -f "$PIDFILE"
  setsid "${IN_ROOT[@]}" mysqld --no-defaults --user=root --datadir="$INSIDE/data" --tmpdir="$INSIDE/tmp" \
    --port="$PORT" --bind-address=127.0.0.1 --socket="$INSIDE/mysql.sock" \
    --pid-file="$INSIDE/mysql.pid" --log-error="$INSIDE/error.log" --mysqlx=OFF \
    --secure-file-priv= --skip-name-resolve --skip-log-bin --max-connections=1000 \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 \
    --performance-schema=OFF "${ssl_args[@]}" </dev/null >/dev/null 2>&1 &
  wait_started $!
}

start_server() {
  if [ "$SERVER" = mysql ]; then start_mysql; return; fi
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
    --tmpdir="$TMPD" --performance-schema=OFF "${ssl_args[@]}" </dev/null >/dev/null 2>&1 &
  wait_started $!
}

create_users() {
  local plugin=""
  [ "$SERVER" = mysql ] && plugin="WITH caching_sha2_password"
  "$CLIENT" --no-defaults -uroot -S "$SOCK" <<SQL
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED $plugin BY 'app-secret';
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
server=$SERVER
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
tmpdir=$TMPD
ENV
  # MySQL's RSA key pair for caching_sha2_password (made by --initialize).
  if [ "$SERVER" = mysql ]; then
    echo "rsa_public_key=$DATA/public_key.pem" >> "$ENV_FILE"
    echo "mysql_root=$MYSQL_ROOT" >> "$ENV_FILE"
  fi
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
    [ "$SERVER" = mysql ] && ensure_mysql_root
    make_certs; init_datadir; start_server; create_users; write_env ;;
  restart)
    load_env; stop_server; start_server; write_env ;;
  stop)
    stop_server ;;
  client)
    [ "$SERVER" = mysql ] || die "client: only for --server mysql (use the mariadb CLI)"
    ensure_mysql_root
    in_root mysql --no-defaults "$@" ;;
  status)
    load_env; if is_running; then cat "$ENV_FILE"; else echo "stopped"; exit 1; fi ;;
  *) die "unknown command $cmd" ;;
esac
