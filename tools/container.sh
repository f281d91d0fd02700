#!/usr/bin/env bash
# container.sh: build warmpool's container image with no registry (debootstrap + podman import),
# and with --test, run it in front of the fixture MariaDB and check it end to end.
#
#   tools/container.sh           build the image localhost/warmpool:dev
#   tools/container.sh --test    build it, then run and check it (slow: ~2 min)
#
# Needs root (debootstrap, podman). Installs podman, runc and debootstrap
# with apt on first use. The base (Debian bookworm minbase plus warmpool's
# runtime libraries) is cached in build/container/ and reused.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=localhost/warmpool-base:bookworm
IMAGE=localhost/warmpool:dev
WORK=build/container
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What the binary links (ldd build/io/warmpool), plus curl for HEALTHCHECK.
BASE_PACKAGES=android-libboringssl,liburing2,libjemalloc2,libinih1,libmicrohttpd12,libjansson4,curl,ca-certificates

say() { echo "container: $*"; }

install_tools() {
  local missing=()
  for p in podman runc debootstrap uidmap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build_base() {
  if podman image exists "$BASE_IMAGE"; then
    say "base $BASE_IMAGE exists (podman rmi it to rebuild)"
    return
  fi
  local rootfs=$WORK/rootfs
  rm -rf "$rootfs"
  mkdir -p "$rootfs"
  say "debootstrap bookworm into $rootfs"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$rootfs" "$MIRROR" \
    > "$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  say "podman import -> $BASE_IMAGE"
  tar -C "$rootfs" -c . | podman import --quiet - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

# write_seccomp: the engine's default profile plus io_uring, which it blocks.
write_seccomp() {
  python3 - /usr/share/containers/seccomp.json "$WORK/seccomp.json" <<'EOF'
import json, sys
profile = json.load(open(sys.argv[1]))
profile["syscalls"].append({
    "names": ["io_uring_setup", "io_uring_enter", "io_uring_register"],
    "action": "SCMP_ACT_ALLOW", "args": [],
    "comment": "warmpool: every socket operation goes through io_uring"})
json.dump(profile, open(sys.argv[2], "w"), indent=1)
EOF
  say "seccomp profile with io_uring: $WORK/seccomp.json"
}

build_image() {
  tools/build.sh >/dev/null
  local ctx=$WORK/context
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp build/io/warmpool tools/deploy/Containerfile tools/deploy/warmpool.ini "$ctx/"
  strip "$ctx/warmpool"
  say "podman build -> $IMAGE"
  # docker format: OCI images have no HEALTHCHECK.
  podman build --quiet --format docker --build-arg BASE="$BASE_IMAGE" -t "$IMAGE" \
    -f "$ctx/Containerfile" "$ctx" >/dev/null
}

# run_test: the fixture MariaDB with TLS, the image in front of it with a
# mounted config and users file, the mariadb CLI through it, the health check.
run_test() {
  dir=$(mktemp -d /tmp/warmpool-container.XXXXXX)
  name=warmpool-test-$$
  cleanup() {
    podman rm -f "$name" >/dev/null 2>&1 || true
    tools/mariadb-fixture.sh stop --dir "$dir/db" >/dev/null 2>&1 || true
    rm -rf "$dir"
  }
  trap cleanup EXIT
  eval "$(tools/mariadb-fixture.sh start --dir "$dir/db" --ssl on | sed 's/^/DB_/')"
  local port admin
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  admin=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$dir/etc"
  cp "$DB_ca" "$dir/etc/ca.pem"
  echo "app:app-secret" > "$dir/etc/users.txt"
  cat > "$dir/etc/warmpool.ini" <<EOF
[warmpool]
users_file = /etc/warmpool/users.txt
workers = 2
max_clients = 500

[listener main]
port = 6033

[backend main]
host = 127.0.0.1
port = 3306
ssl_mode = verify_identity
ssl_ca = /etc/warmpool/ca.pem
ssl_server_name = localhost
EOF
  # The image runs as uid 10001 (warmpool): it owns its secrets, mode 600.
  chmod 755 "$dir/etc"; chmod 600 "$dir/etc"/*; chown 10001 "$dir/etc"/*
  say "podman run (host network, loopback only; backend port $DB_port, listener $port, admin $admin)"
  podman run -d --name "$name" --runtime runc --network host \
    --security-opt seccomp="$WORK/seccomp.json" \
    --ulimit nofile=1024:1024 --ulimit nproc=1000:1000 \
    -v "$dir/etc:/etc/warmpool:ro" \
    -e WARMPOOL_LISTENER_MAIN_ADDRESS=127.0.0.1 -e WARMPOOL_LISTENER_MAIN_PORT="$port" \
    -e WARMPOOL_ADMIN_PORT="$admin" -e WARMPOOL_BACKEND_MAIN_PORT="$DB_port" \
    "$IMAGE" >/dev/null
  local ok=0
  for _ in $(seq 1 50); do
    if podman exec "$name" curl -fsS "http://127.0.0.1:$admin/readyz" >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.2
  done
  if [ $ok -ne 1 ]; then podman logs "$name"; say "FAIL: /readyz never answered 200"; exit 1; fi
  say "readyz inside the container: $(podman exec "$name" curl -fsS "http://127.0.0.1:$admin/readyz" | tr -d ' \n')"
  local user; user=$(podman exec "$name" id -un)
  [ "$user" = warmpool ] || { say "FAIL: runs as $user"; exit 1; }
  podman healthcheck run "$name" || { say "FAIL: HEALTHCHECK"; podman logs "$name"; exit 1; }
  say "HEALTHCHECK (curl /healthz): healthy; user: $user"
  local out
  out=$(mariadb --no-defaults -h 127.0.0.1 -P "$port" -uapp -papp-secret -N -B \
    -e "SELECT CONCAT('through the container: ', VERSION(), ' tls=', IFNULL((SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME='Ssl_version'),''))")
  say "$out"
  case "$out" in *"tls=TLSv1"*) ;; *) say "FAIL: backend session is not TLS"; exit 1 ;; esac
  podman stop --time 15 "$name" >/dev/null
  local code; code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
  [ "$code" = 0 ] || { podman logs "$name"; say "FAIL: exit code $code after SIGTERM"; exit 1; }
  podman logs "$name" 2>&1 | grep -q 'msg="warmpool stopped"' || { say "FAIL: no clean stop"; exit 1; }
  say "SIGTERM: drained and exited 0"
  say "PASS"
}

[ "$(id -u)" -eq 0 ] || { echo "container.sh needs root (debootstrap, podman)" >&2; exit 1; }
mkdir -p "$WORK"
install_tools
build_base
build_image
write_seccomp
say "image $IMAGE ready (run it with --security-opt seccomp=$WORK/seccomp.json)"
if [ "${1:-}" = "--test" ]; then
  run_test
fi
