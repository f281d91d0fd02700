#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer targets of tests/fuzz with clang-14 (ASan + UBSan) and run each.
#   tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
# New inputs that raise coverage are kept in build-fuzz/corpus/TARGET; crashes in build-fuzz/.
# Copy small, interesting inputs into tests/fuzz/corpus/TARGET so ctest replays them.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${1:-60}; shift || true
TARGETS=("$@"); [ ${#TARGETS[@]} -gt 0 ] || TARGETS=(protocol config session stmt ca)

if ! command -v clang-14 >/dev/null || [ ! -d /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang-14 libclang-rt-14-dev
fi
OUT=build-fuzz
mkdir -p "$OUT"
CORE_SRC=(core/alloc.c core/buf.c core/log.c core/my_cursor.c core/my_frame.c core/my_handshake.c
          core/my_result.c core/my_auth.c core/my_charset.c core/cfg.c core/cfg_table.c
          core/cfg_users.c core/tls_ctx.c core/tls_ca.c core/tls_cache.c core/metric.c core/my_track.c
          core/my_pin.c core/my_builtins.c core/my_vars.c core/my_readback.c core/my_stmt.c
          core/my_kill.c core/my_digest.c core/my_marker.c)
BSSL=/usr/lib/x86_64-linux-gnu/android
for t in "${TARGETS[@]}"; do
  clang-14 -g -O1 -D_GNU_SOURCE -DWARMPOOL_VERSION='"fuzz"' -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -isystem /usr/include/android -Icore "tests/fuzz/fuzz_$t.c" "${CORE_SRC[@]}" \
    -L"$BSSL" -Wl,-rpath,"$BSSL" -lssl -lcrypto -linih -o "$OUT/fuzz_$t"
  mkdir -p "$OUT/corpus/$t"
  echo "== fuzz_$t for ${SECONDS_PER}s"
  "$OUT/fuzz_$t" -max_total_time="$SECONDS_PER" -max_len=70000 -artifact_prefix="$OUT/$t-" \
    "$OUT/corpus/$t" "tests/fuzz/corpus/$t" 2>&1 | grep -E '^#[0-9]+.*DONE|Done|ERROR|SUMMARY' || true
  if ls "$OUT"/"$t"-crash-* >/dev/null 2>&1; then echo "fuzz_$t found a crash: $(ls "$OUT"/"$t"-crash-*)"; exit 1; fi
done
echo "fuzz: no crash"
