#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang into build-fuzz/ and runs
# each for SECONDS (default 10, what CI runs) on a scratch copy of fuzz/corpus/<target>/,
# so the seed corpus in the repository is never changed. Crash inputs land
# in build-fuzz/artifacts/<target>/, each target's log beside them.
# Prints one line per target; exits 1 if any target crashed, 2 on a build
# failure.
#
# Installs what is missing first (scripts/deps.sh plus clang, its
# libFuzzer/sanitizer runtimes and llvm-symbolizer), so it runs on a fresh
# Debian bookworm; CI (.ci/run) runs it with the default. Before a release,
# or after changing a parser, run it longer (scripts/fuzz.sh 60).
# build-fuzz/ carries its own .gitignore, so it never shows up in git.
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail

SECONDS_PER_TARGET="${1:-10}"
if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS]  (a positive integer, default 10)" >&2
  exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-fuzz"
TARGETS=(payload_decoder json topic config uplink_batch config_envelope coap_request mqtt_packet)

# On bookworm clang is clang 14. Its libFuzzer and ASan/UBSan runtimes
# (libclang_rt.fuzzer-x86_64.a and friends) are in libclang-rt-14-dev, which
# clang only recommends and deps.sh installs without recommends: name it.
# llvm provides llvm-symbolizer, without which sanitizer stack traces have
# no function names or lines.
"$ROOT/scripts/deps.sh" clang libclang-rt-14-dev llvm

mkdir -p "$BUILD"
# /build*/ in the top .gitignore covers this too; this one holds wherever
# the tree is and whatever happens to the top file.
[[ -f "$BUILD/.gitignore" ]] || printf '*\n' >"$BUILD/.gitignore"
if ! CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja \
      -DFOGGATE_FUZZ=ON -DFOGGATE_WERROR=OFF -DFOGGATE_TESTS=OFF >"$BUILD/configure.log" 2>&1; then
  cat "$BUILD/configure.log" >&2
  echo "fuzz: configure failed" >&2
  exit 2
fi
if ! cmake --build "$BUILD" --target "${TARGETS[@]/%/_fuzz}" >/dev/null; then
  echo "fuzz: build failed (cmake --build $BUILD for details)" >&2
  exit 2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/foggate-fuzz.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=0
for t in "${TARGETS[@]}"; do
  corpus="$WORK/$t"
  artifacts="$BUILD/artifacts/$t"
  log="$BUILD/artifacts/$t.log"
  mkdir -p "$corpus" "$artifacts"
  if [[ -d "$ROOT/fuzz/corpus/$t" ]]; then
    cp -r "$ROOT/fuzz/corpus/$t/." "$corpus/"
  fi
  # -max_total_time bounds the run; timeout(1) is the backstop should the
  # process hang outside libFuzzer's own watchdog.
  set +e
  timeout --signal=KILL $((SECONDS_PER_TARGET + 60)) \
    "$BUILD/fuzz/${t}_fuzz" "$corpus" \
      -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  if [[ $rc -eq 0 ]]; then
    printf '%-16s ok     %s runs\n' "$t" "${runs:-?}"
  else
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)"
    printf '%-16s CRASH  %s (exit %d, log %s)\n' "$t" "${artifact:-no artifact}" "$rc" "$log"
    failed=1
  fi
done
exit "$failed"
