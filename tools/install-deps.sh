#!/usr/bin/env bash
# install-deps.sh: install every Debian package warmpool's build, tests and demo need.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config
  android-libboringssl-dev   # BoringSSL: all TLS and the auth crypto
  liburing-dev               # io_uring
  libjemalloc-dev            # allocator of the daemon
  libinih-dev                # INI config parser
  libmicrohttpd-dev          # admin HTTP endpoint
  libjansson-dev             # JSON of /status and /readyz
  libcriterion-dev           # unit tests
  # test fixtures and real clients
  openssl                    # certificates for the throwaway MariaDB
  mariadb-server mariadb-client   # real backend, mariadb CLI, mysqlslap
  sysbench python3 python3-pymysql python3-pytest
  python3-pytest-xdist       # the integration tests mostly wait: three at a time per pass
  python3-cryptography      # RSA in the fake caching_sha2 backend
  # real drivers of tests/integration/test_drivers.py (about 30 s to install
  # all of them here). node's mysql2 comes from npm into a cache dir at test
  # time; node and npm themselves are not installed here (the test skips
  # without them; Debian's npm conflicts with NodeSource's nodejs).
  php-cli php-mysql          # PHP mysqlnd: mysqli and PDO
  golang-go golang-github-go-sql-driver-mysql-dev   # Go database/sql + go-sql-driver
  libmariadb-java default-jdk-headless               # MariaDB Connector/J on Java 17
  python3-mysqldb            # Python mysqlclient
  procps iproute2
  debootstrap                # the Debian sid root MySQL 9.7 runs in (tools/mariadb-fixture.sh --server mysql)
  util-linux                 # unshare and flock for that root
  default-jdk-headless       # keytool: the .jks CA files of the ssl_ca tests
  curl prometheus            # admin endpoint tests: curl, promtool check metrics
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Debian's mariadb-server starts a system instance through invoke-rc.d; the
# tests never use it (they run their own), so a policy refusal is fine.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
