#!/usr/bin/env bash
# test.sh: install what is needed, build, and run every test: unit and integration,
# then the same again under AddressSanitizer + UndefinedBehaviorSanitizer, then the
# tests that exercise threads (workers, admin thread, reload) under ThreadSanitizer.
#   tools/test.sh            everything (what CI runs)
#   tools/test.sh --quick    release build only, no sanitizer pass
# The release and the ASan integration passes run side by side (each test mostly
# waits on servers and sockets): the whole run stays well under 20 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

tools/install-deps.sh
# Debian's python3 has pymysql and pytest; a pyenv python3 on PATH would not.
PY=/usr/bin/python3
LOGS=$(mktemp -d /tmp/warmpool-test.XXXXXX)

# integration BUILD_DIR LABEL JOBS [TEST_FILES...]: one pytest pass, in a temp dir of its
# own, JOBS tests at a time (pytest-xdist: each worker has its own servers). The tests
# mostly wait on servers and sockets: three at a time took each pass (side by side
# with the other) from 15.5 to under 7 minutes here.
integration() {
  local dir=$1 label=$2 jobs=$3
  shift 3
  WARMPOOL_BIN="$PWD/$dir/io/warmpool" $PY -m pytest -q -p no:cacheprovider --durations=15 \
    -n "$jobs" --basetemp="$LOGS/tmp-$label" "${@:-tests/integration}"
}

echo "== build (release)"
tools/build.sh
echo "== unit tests (release)"
(cd build && ctest --output-on-failure)
if [ $quick -eq 1 ]; then
  echo "== integration tests (release)"
  integration build release 3
  exit 0
fi

echo "== build (ASan + UBSan)"
tools/build.sh --sanitize
# Leaks and UB found at exit fail warmpool's exit code, which the suite checks.
# A 16 MiB quarantine (256 by default) keeps the memory-bound tests meaningful:
# freed buffers would otherwise count as resident for a while.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:quarantine_size_mb=16
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== unit tests (asan+ubsan)"
(cd build-asan && ctest --output-on-failure)
echo "== build (TSan)"
tools/build.sh --tsan

echo "== integration tests (release and asan+ubsan, side by side)"
integration build release 3 >"$LOGS/release.log" 2>&1 &
release_pid=$!
integration build-asan asan 3 >"$LOGS/asan.log" 2>&1 &
asan_pid=$!
status=0
wait $release_pid || status=1
echo "== integration tests (release)"
cat "$LOGS/release.log"
wait $asan_pid || status=1
echo "== integration tests (asan+ubsan)"
cat "$LOGS/asan.log"

# A race report makes warmpool exit 66 at the end, which the suite checks.
# tools/tsan.supp: BoringSSL is not instrumented (why, in the file).
export TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1:suppressions=$PWD/tools/tsan.supp
echo "== integration tests (tsan: workers, admin endpoint, reload, drain, restarts, KILL across workers, the shared TLS stash, connections lent across workers)"
integration build-tsan tsan 2 tests/integration/test_operations.py \
  tests/integration/test_pooling.py tests/integration/test_transaction_pooling.py \
  tests/integration/test_backend_restart.py tests/integration/test_kill.py \
  tests/integration/test_tls_stash.py tests/integration/test_pool_across_workers.py || status=1
# The servers' files of a passing run (gigabytes) go; a failing run's stay for a look.
[ $status -eq 0 ] && rm -rf "$LOGS"
exit $status
