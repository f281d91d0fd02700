#!/usr/bin/env bash
# test.sh: install what is needed, build, and run every test: unit and integration,
# then the same again under AddressSanitizer + UndefinedBehaviorSanitizer, then the
# tests that exercise threads (workers, admin thread, reload) under ThreadSanitizer.
#   tools/test.sh            everything (what CI runs)
#   tools/test.sh --quick    release build only, no sanitizer pass
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

tools/install-deps.sh
# Debian's python3 has pymysql and pytest; a pyenv python3 on PATH would not.
PY=/usr/bin/python3

run_suite() { # build-dir label
  local dir=$1 label=$2
  echo "== unit tests ($label)"
  (cd "$dir" && ctest --output-on-failure)
  echo "== integration tests ($label)"
  WARMPOOL_BIN="$PWD/$dir/io/warmpool" $PY -m pytest -q -p no:cacheprovider tests/integration
}

echo "== build (release)"
tools/build.sh
run_suite build release

if [ $quick -eq 0 ]; then
  echo "== build (ASan + UBSan)"
  tools/build.sh --sanitize
  # Leaks and UB found at exit fail warmpool's exit code, which the suite checks.
  # A 16 MiB quarantine (256 by default) keeps the memory-bound tests meaningful:
  # freed buffers would otherwise count as resident for a while.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:quarantine_size_mb=16
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan "asan+ubsan"

  echo "== build (TSan)"
  tools/build.sh --tsan
  # A race report makes warmpool exit 66 at the end, which the suite checks.
  export TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1
  echo "== integration tests (tsan: workers, admin endpoint, reload, drain, restarts)"
  WARMPOOL_BIN="$PWD/build-tsan/io/warmpool" $PY -m pytest -q -p no:cacheprovider \
    tests/integration/test_operations.py tests/integration/test_pooling.py \
    tests/integration/test_transaction_pooling.py tests/integration/test_backend_restart.py
fi
