#!/usr/bin/env bash
# Installs what the arm64 cross build (scripts/package.sh arm64) needs on an
# amd64 Debian bookworm machine: the cross compiler, qemu-user to run the
# arm64 unit tests, and the arm64 builds of foggate's -dev packages through
# Debian multiarch (every one of them is Multi-Arch: same, so they install
# beside the amd64 ones, which stay). Idempotent: asks dpkg first and runs
# apt-get only for what is missing.
#
#   scripts/cross-deps.sh
#
# apt may upgrade some installed amd64 libraries on the first run: a
# Multi-Arch: same package must have the same version on both architectures,
# so installing libssl3:arm64 from the archive lifts libssl3:amd64 to it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh  # the native toolchain, cmake, ninja, pkg-config and the amd64 libraries

# g++-aarch64-linux-gnu rather than crossbuild-essential-arm64: the latter
# only adds dpkg-cross and its Perl modules, which this build does not use.
PACKAGES=(
  g++-aarch64-linux-gnu qemu-user
  libpaho-mqttpp-dev:arm64 libpaho-mqtt-dev:arm64 libssl-dev:arm64 libcoap3-dev:arm64
  libmbedtls-dev:arm64 libmsgpack-cxx-dev:arm64 zlib1g-dev:arm64 libsqlite3-dev:arm64
  libgtest-dev:arm64 libsystemd-dev:arm64 libjemalloc2:arm64
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "cross-deps.sh: need root or sudo" >&2; exit 1; }
  SUDO="sudo"
fi

added_arch=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "cross-deps.sh: dpkg --add-architecture arm64" >&2
  $SUDO dpkg --add-architecture arm64
  added_arch=1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && [ $added_arch -eq 0 ] && exit 0

echo "cross-deps.sh: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
