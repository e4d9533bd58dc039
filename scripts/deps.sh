#!/usr/bin/env bash
# Installs the Debian packages foggate needs to build, test and run its demo,
# plus any extra packages named on the command line (scripts/fuzz.sh asks for
# clang this way). Idempotent: asks dpkg first and runs apt-get only for what
# is missing.
#
#   scripts/deps.sh [EXTRA_PACKAGE...]
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libpaho-mqttpp-dev libpaho-mqtt-dev libcoap3-dev libmbedtls-dev libmsgpack-cxx-dev
  zlib1g-dev libsqlite3-dev libgtest-dev libsystemd-dev libjemalloc2
  mosquitto mosquitto-clients libcoap3-bin python3 python3-msgpack openssl
  ccache
)
for p in "$@"; do
  # Debian package names only: nothing that apt-get could take as an option.
  if ! [[ "$p" =~ ^[a-z0-9][a-z0-9+.-]+$ ]]; then
    echo "deps.sh: not a package name: $p" >&2
    exit 2
  fi
  PACKAGES+=("$p")
done

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "deps.sh: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
# policy-rc.d-less containers may try to start mosquitto's own service on
# 1883; foggate's scripts and tests start their own brokers on free ports.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
