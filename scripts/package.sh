#!/usr/bin/env bash
# Builds foggate's Debian package and prints the .deb's path on stdout.
#
#   scripts/package.sh amd64   native build (build-pkg-amd64/)
#   scripts/package.sh arm64   cross build on amd64 (build-pkg-arm64/), then the
#                              unit tests under qemu-user before packaging
#
# Optimized build of the foggate binary only (and, for arm64, the unit tests):
# no integration tests, benchmarks, simulator or fuzz targets. What the
# package holds: docs/packaging.md. Installs what is missing first
# (scripts/deps.sh, scripts/cross-deps.sh), like scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# Only the path goes to stdout (deb=$(scripts/package.sh amd64)); the
# build's and the tests' output go to stderr.
exec 3>&1 1>&2
ARCH=${1:-}
HOST_ARCH=$(dpkg --print-architecture)
BUILD_DIR=build-pkg-$ARCH
# -O2, as Debian builds its own packages: GCC 12 at -O3 (CMake's Release)
# reports a false -Wrestrict in std::string concatenation, an error here.
CONFIGURE=(-G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" -DFOGGATE_DEB_ARCH="$ARCH" -DFOGGATE_EXTRAS=OFF)
TARGETS=(foggate)
RUN_UNIT_TESTS=0
case "$ARCH" in
  "$HOST_ARCH")
    # Unit and integration tests run natively in scripts/test.sh.
    scripts/deps.sh
    CONFIGURE+=(-DFOGGATE_TESTS=OFF)
    ;;
  arm64)
    [ "$HOST_ARCH" = amd64 ] || { echo "package.sh: arm64 is cross-built on amd64 only" >&2; exit 2; }
    scripts/cross-deps.sh
    CONFIGURE+=(-DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake -DFOGGATE_INTEGRATION_TESTS=OFF)
    TARGETS+=(foggate_all_unit_tests)
    RUN_UNIT_TESTS=1
    ;;
  *)
    echo "usage: scripts/package.sh amd64|arm64" >&2
    exit 2
    ;;
esac
scripts/deps.sh scdoc  # renders the foggate(1) man page (cmake/Packaging.cmake)

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" "${CONFIGURE[@]}" >/dev/null
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${TARGETS[@]}"
if [ "$RUN_UNIT_TESTS" = 1 ]; then
  # The toolchain file's CMAKE_CROSSCOMPILING_EMULATOR makes ctest (and the
  # test discovery at build time) run each arm64 binary as qemu-aarch64 -L /.
  ctest --test-dir "$BUILD_DIR" -L unit --output-on-failure -j"$(nproc)"
fi

rm -f "$BUILD_DIR"/packages/*.deb
(cd "$BUILD_DIR" && cpack -G DEB -B "$PWD/packages")
deb=$(ls "$BUILD_DIR"/packages/*.deb)
echo "$PWD/$deb" >&3
