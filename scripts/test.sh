#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds,
# and runs the whole suite (unit and integration) with ctest.
# Integration tests start their own mosquitto on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
BUILD_DIR=${FOGGATE_BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" "$@"
