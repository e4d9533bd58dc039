#!/usr/bin/env bash
# Configures (once; again when options are given) and builds foggate into
# build/ (or $FOGGATE_BUILD_DIR). Options are CMake -D settings, e.g.
# -DFOGGATE_EXTRAS=OFF (scripts/test.sh) or ON (scripts/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${FOGGATE_BUILD_DIR:-build}
# -g1: line tables only (backtraces and gdb still name file and line). Full
# debug information made every file compile a third slower, which a fresh
# CI machine pays on each of its builds. A directory that scripts/bench.sh
# configures itself (FOGGATE_BUILD_DIR=build-bench) keeps -g for profiles.
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "$@" >/dev/null
elif [ $# -gt 0 ]; then
  cmake -S . -B "$BUILD_DIR" "$@" >/dev/null  # cheap when nothing changes
fi
cmake --build "$BUILD_DIR" -j"$(nproc)"
