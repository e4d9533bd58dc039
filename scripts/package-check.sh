#!/usr/bin/env bash
# Installs a built foggate package on this machine, checks what it installed,
# runs the installed binary briefly as the packaged service would, and purges
# the package again. Needs root (uses sudo otherwise); needs no running
# systemd, so it works in a container.
#
#   scripts/package-check.sh [DEB]   default: the one in build-pkg-<this arch>/packages/
#
# What it checks: dpkg -i succeeds (dependencies, maintainer scripts), the
# system user and the conffile are registered, the man page and the
# copyright file (Apache-2.0) are installed, `foggate version` and
# `foggate check` on the packaged configuration, `systemd-analyze verify` and
# `security --offline` on the unit, a few seconds of `foggate run` as user
# foggate without privileges against a throwaway mosquitto on a free
# loopback port, then that removal keeps /var/lib/foggate and purge deletes it.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=$(dpkg --print-architecture)
DEB=${1:-$(ls build-pkg-"$ARCH"/packages/foggate_*_"$ARCH".deb 2>/dev/null | head -n 1 || true)}
if [ -z "$DEB" ] || [ ! -f "$DEB" ]; then
  echo "package-check.sh: no package; run scripts/package.sh $ARCH first" >&2
  exit 2
fi
DEB=$(realpath "$DEB")
# systemd-analyze and deb-systemd-helper (init-system-helpers, a dependency
# of systemd); adduser for postinst; man-db for `man -w`. A systemd that is
# installed need not run.
scripts/deps.sh systemd adduser man-db

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "package-check.sh: need root or sudo" >&2; exit 1; }
  SUDO="sudo"
fi
if dpkg-query -W -f='${Status}' foggate 2>/dev/null | grep -q "ok installed"; then
  echo "package-check.sh: foggate is installed on this machine; this check would purge it, so it stops" >&2
  exit 1
fi
USER_EXISTED=0
getent passwd foggate >/dev/null && USER_EXISTED=1

passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { echo "FAILED: $*" >&2; echo "package-check: $passed passed, 1 failed"; exit 1; }

WORK=$(mktemp -d /tmp/foggate-package-check.XXXXXX)
chmod 755 "$WORK"  # foggate's run below reads its configuration from here
BROKER_PID=""
GATEWAY_PID=""
cleanup() {
  [ -n "$GATEWAY_PID" ] && $SUDO kill "$GATEWAY_PID" 2>/dev/null || true
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null || true
  $SUDO dpkg --purge foggate >/dev/null 2>&1 || true
  # The package leaves its system user on purge, as Debian packages do; this
  # check leaves the machine as it found it.
  if [ "$USER_EXISTED" = 0 ] && getent passwd foggate >/dev/null; then
    $SUDO deluser --quiet --system foggate >/dev/null 2>&1 || true
    getent group foggate >/dev/null && { $SUDO delgroup --quiet --system foggate >/dev/null 2>&1 || true; }
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# 1. Install. policy-rc.d-less containers have no running systemd: postinst
#    then only records the service as enabled.
$SUDO dpkg -i "$DEB" >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log" >&2; fail "dpkg -i $DEB"; }
ok "dpkg -i $(basename "$DEB")"

# The man page. Slim Debian images tell dpkg not to unpack /usr/share/man
# (path-exclude in /etc/dpkg/dpkg.cfg.d/, as docker's debian:*-slim does):
# dpkg -L still lists the page but the file is not there, so the page is
# then read from the package file and `man -w` is not tried.
MAN=/usr/share/man/man1/foggate.1.gz
dpkg -L foggate | grep -qx "$MAN" || fail "the package has no $MAN"
if [ -f "$MAN" ]; then
  where=$(man -w foggate 2>/dev/null || true)
  [ "$where" = "$MAN" ] || fail "man -w foggate found '$where', not $MAN"
  ok "man -w foggate: $MAN"
  page=$(zcat "$MAN")
elif grep -qs '^ *path-exclude *[= ] */usr/share/man' /etc/dpkg/dpkg.cfg /etc/dpkg/dpkg.cfg.d/*; then
  ok "$MAN in the package (dpkg's path-exclude keeps it off this machine: man -w not tried)"
  page=$(dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ".$MAN" | zcat)
else
  fail "dpkg -L lists $MAN but it is not installed"
fi
grep -q "EXIT STATUS" <<<"$page" || fail "foggate(1) has no EXIT STATUS"
ok "foggate(1) has its EXIT STATUS section"
grep -qx "License: Apache-2.0" /usr/share/doc/foggate/copyright ||
  fail "/usr/share/doc/foggate/copyright does not say License: Apache-2.0"
ok "/usr/share/doc/foggate/copyright: License: Apache-2.0"

version=$(dpkg-deb -f "$DEB" Version)
out=$(/usr/bin/foggate version)
[ "$out" = "foggate ${version%-*}" ] || fail "foggate version printed '$out', package is $version"
ok "$out"

dpkg-query -W -f='${Conffiles}\n' foggate | grep -q '^ /etc/foggate/foggate.json ' ||
  fail "/etc/foggate/foggate.json is not a conffile"
ok "/etc/foggate/foggate.json is a conffile"

IFS=: read -r _ _ uid _ _ home shell < <(getent passwd foggate) || fail "no user foggate after postinst"
[ "$uid" -lt 1000 ] && [ "$home" = /var/lib/foggate ] && [ "$shell" = /usr/sbin/nologin ] ||
  fail "user foggate: uid $uid, home $home, shell $shell"
ok "system user foggate (uid $uid)"

[ -L /etc/systemd/system/multi-user.target.wants/foggate.service ] || fail "postinst did not enable foggate.service"
ok "foggate.service enabled (multi-user.target.wants)"

/usr/bin/foggate check --config /etc/foggate/foggate.json || fail "foggate check on the packaged configuration"
ok "foggate check --config /etc/foggate/foggate.json"

# verify exits 0 on unknown keys and bad values too (it only warns): any
# output is a failure.
UNIT=/lib/systemd/system/foggate.service
verify=$(systemd-analyze verify --man=no "$UNIT" 2>&1) || true
[ -z "$verify" ] || { echo "$verify" >&2; fail "systemd-analyze verify $UNIT"; }
ok "systemd-analyze verify $UNIT"
# Exposure 0.0 (locked down) to 10.0 (unsafe); the unit scores 1.4.
security=$(systemd-analyze security --offline=yes --threshold=20 "$UNIT" 2>&1) ||
  { echo "$security" >&2; fail "systemd-analyze security: exposure above 2.0"; }
ok "$(echo "$security" | grep -o 'Overall exposure level.*' | sed 's/ *[^ ]*$//')"

# 2. Run. As the service would: user foggate, no capabilities, no new
#    privileges, the state directory as StateDirectory= makes it. Only the
#    broker's and CoAP's ports differ from the packaged configuration.
free_port() {
  python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=='udp' else socket.SOCK_STREAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"
}
BROKER_PORT=$(free_port tcp)
COAP_PORT=$(free_port udp)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$BROKER_PORT" >"$WORK/mosquitto.conf"
/usr/sbin/mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
BROKER_PID=$!
sed -e "s|tcp://127.0.0.1:1883|tcp://127.0.0.1:$BROKER_PORT|" \
    -e "s|\"bind\": \"127.0.0.1\"|\"bind\": \"127.0.0.1\", \"port\": $COAP_PORT|" \
    /etc/foggate/foggate.json >"$WORK/foggate.json"
chmod 644 "$WORK/foggate.json"
grep -q "$BROKER_PORT" "$WORK/foggate.json" && grep -q "$COAP_PORT" "$WORK/foggate.json" ||
  fail "the packaged configuration no longer names tcp://127.0.0.1:1883 and a CoAP bind address"
$SUDO install -d -o foggate -g foggate -m 0750 /var/lib/foggate
for _ in $(seq 50); do
  mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t x -C 1 -W 1 -E >/dev/null 2>&1 && break
  sleep 0.1
done
$SUDO setpriv --reuid=foggate --regid=foggate --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
  /usr/bin/foggate run --config "$WORK/foggate.json" >"$WORK/foggate.log" 2>&1 &
GATEWAY_PID=$!
status=$(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t 'foggate/+/status' -C 1 -W 10 2>/dev/null || true)
echo "$status" | grep -q '"state":"online"' || { cat "$WORK/foggate.log" >&2; fail "foggate run: no online status within 10 s"; }
ok "foggate run as user foggate: online on the broker"
$SUDO kill -TERM "$GATEWAY_PID"
rc=0
wait "$GATEWAY_PID" || rc=$?
GATEWAY_PID=""
[ "$rc" = 0 ] || { cat "$WORK/foggate.log" >&2; fail "foggate run exited $rc on SIGTERM"; }
[ "$(stat -c %U /var/lib/foggate/config.db 2>/dev/null)" = foggate ] ||
  { ls -la /var/lib/foggate >&2; fail "no /var/lib/foggate/config.db owned by foggate"; }
ok "SIGTERM: clean exit, state in /var/lib/foggate"

# 3. Installing over itself takes postinst's upgrade path: an edited conffile
#    and the state directory stay as they are.
$SUDO sed -i 's|"uris": \["tcp://127.0.0.1:1883"\]|"uris": ["tcp://127.0.0.1:1884"]|' /etc/foggate/foggate.json
grep -q 1884 /etc/foggate/foggate.json || fail "could not edit /etc/foggate/foggate.json"
$SUDO dpkg -i "$DEB" >"$WORK/dpkg.log" 2>&1 </dev/null || { cat "$WORK/dpkg.log" >&2; fail "dpkg -i over the installed package"; }
grep -q 1884 /etc/foggate/foggate.json && [ -f /var/lib/foggate/config.db ] ||
  fail "reinstalling replaced the edited conffile or lost /var/lib/foggate"
ok "upgrade path: edited conffile and /var/lib/foggate kept"

# 4. Remove keeps the configuration and the state; purge deletes them.
$SUDO dpkg -r foggate >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log" >&2; fail "dpkg -r foggate"; }
[ ! -e /usr/bin/foggate ] && [ -f /etc/foggate/foggate.json ] && [ -f /var/lib/foggate/config.db ] ||
  fail "after dpkg -r: binary gone, configuration and state kept"
ok "dpkg -r: configuration and /var/lib/foggate kept"
$SUDO dpkg --purge foggate >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log" >&2; fail "dpkg --purge foggate"; }
[ ! -e /etc/foggate/foggate.json ] && [ ! -e /var/lib/foggate ] && [ ! -e "$UNIT" ] &&
  [ ! -e /etc/systemd/system/multi-user.target.wants/foggate.service ] ||
  fail "after dpkg --purge: configuration, state and the service's enablement gone"
ok "dpkg --purge: configuration, /var/lib/foggate and the enablement link gone"

echo "package-check: $passed passed, 0 failed"
