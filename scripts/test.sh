#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds,
# and runs the whole suite (unit and integration) with ctest.
# Integration tests start their own mosquitto on free loopback ports.
#
#   scripts/test.sh              normal build (build/)
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/);
#                                fails on any sanitizer report, foggate child processes included
# Other arguments go to ctest (e.g. -R Uplink).
set -euo pipefail
cd "$(dirname "$0")/.."
SANITIZE=0
if [ "${1:-}" = "--sanitize" ]; then SANITIZE=1; shift; fi
# Every test has its own limit too (tests/CMakeLists.txt).
CTEST_TIMEOUT=${FOGGATE_CTEST_TIMEOUT:-1200}
# Tests mostly wait on their brokers and child processes: at -j2 the suite
# used a quarter of one core for 150 s; at three per core it takes about 60 s
# on 2 cores (sanitizers: longer), every test on its own free ports.
CTEST_JOBS=${FOGGATE_CTEST_JOBS:-$(( $(nproc) * 3 ))}
scripts/deps.sh
if [ "$SANITIZE" = 1 ]; then
  export FOGGATE_BUILD_DIR=${FOGGATE_BUILD_DIR:-build-asan}
  # -g1 as in scripts/build.sh: the reports' stacks keep file and line.
  scripts/build.sh -DFOGGATE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 \
    -DFOGGATE_EXTRAS=OFF
  LOGS=$(mktemp -d /tmp/foggate-sanitizers.XXXXXX)
  # Child processes (foggate under test) inherit these: their reports land
  # in files we check below, since their own logs go away with the test.
  # fast_unwind_on_malloc=0: allocation stacks go through libraries built
  # without frame pointers (libcrypto), so a report names who allocated and
  # the suppressions (scripts/lsan.supp, each with its reason) can match.
  export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:log_path=$LOGS/asan"
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:log_path=$LOGS/ubsan"
  status=0
  timeout "$CTEST_TIMEOUT" ctest --test-dir "$FOGGATE_BUILD_DIR" --output-on-failure -j"$CTEST_JOBS" "$@" || status=$?
  if compgen -G "$LOGS/*" >/dev/null; then
    echo "sanitizer reports:" >&2
    head -n 60 "$LOGS"/* >&2
    status=1
  fi
  rm -rf "$LOGS"
  exit $status
fi
scripts/build.sh -DFOGGATE_EXTRAS=OFF  # no benchmark tools or simulator: nothing tests them
BUILD_DIR=${FOGGATE_BUILD_DIR:-build}
timeout "$CTEST_TIMEOUT" ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$CTEST_JOBS" "$@"
