#!/usr/bin/env bash
# The demo: installs what is missing, builds, then starts a site mosquitto
# and an "upstream" (cloud) mosquitto on free ports, foggate with
# examples/demo.json, and the sensor simulator; prints the alerts as they
# arrive, and samples of what reaches the cloud (foggate decode).
# Ctrl-C stops everything.
#
#   scripts/run.sh                 run until Ctrl-C
#   scripts/run.sh --seconds 30    run for 30 s (non-interactive)
#   FOGGATE_BROKER_PORT=1883 scripts/run.sh   use a broker already on that port
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TO_RUN=0
if [ "${1:-}" = "--seconds" ]; then SECONDS_TO_RUN=${2:?--seconds needs a number}; fi

scripts/deps.sh
scripts/build.sh -DFOGGATE_EXTRAS=ON >/dev/null  # the simulator
BUILD_DIR=${FOGGATE_BUILD_DIR:-build}

free_port() {  # $1 = tcp|udp
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

RUN_DIR=$(mktemp -d /tmp/foggate-demo.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

start_broker() {  # $1 = name, $2 = port
  # max_queued_messages, max_inflight_messages, set_tcp_nodelay: see
  # examples/mosquitto/site-broker.conf for why.
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\nmax_inflight_messages 0\nset_tcp_nodelay true\npersistence false\n' \
    "$2" > "$RUN_DIR/$1.conf"
  mosquitto -c "$RUN_DIR/$1.conf" > "$RUN_DIR/$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run.sh: mosquitto ($1) did not start; see $RUN_DIR/$1.log" >&2
  exit 1
}

BROKER_PORT=${FOGGATE_BROKER_PORT:-}
if [ -z "$BROKER_PORT" ]; then
  BROKER_PORT=$(free_port tcp)
  start_broker site "$BROKER_PORT"
fi
UPSTREAM_PORT=$(free_port tcp)
start_broker upstream "$UPSTREAM_PORT"
BROKER=tcp://127.0.0.1:$BROKER_PORT
UPSTREAM=tcp://127.0.0.1:$UPSTREAM_PORT
COAP_PORT=$(free_port udp)

sed -e "s#tcp://127.0.0.1:1883#$BROKER#" -e "s#tcp://127.0.0.1:1884#$UPSTREAM#" \
    -e "s#\"port\": 5683#\"port\": $COAP_PORT#" \
    -e "s#/tmp/foggate-demo#$RUN_DIR/data#" examples/demo.json > "$RUN_DIR/foggate.json"
"$BUILD_DIR/foggate" check --config "$RUN_DIR/foggate.json" >/dev/null

echo "== foggate demo: site broker $BROKER, cloud broker $UPSTREAM, CoAP udp/$COAP_PORT"
echo "== logs in $RUN_DIR; Ctrl-C stops"
echo "== ALERT lines: foggate/demo/alerts/# on the site broker"
echo "== CLOUD lines: every 25th message decoded from the cloud broker by 'foggate decode'"
# Process substitution, so that $! is the producer's PID and stopping it
# ends its filter too.
mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -v -t 'foggate/demo/alerts/#' > >(sed -u 's/^/ALERT /') &
PIDS+=($!)
"$BUILD_DIR/foggate" decode --uri "$UPSTREAM" --topic 'foggate/demo/uplink/#' 2>/dev/null \
  > >(awk '{ n++ } n % 25 == 1 { print "CLOUD (" n " so far) " $0; fflush() }') &
PIDS+=($!)
"$BUILD_DIR/foggate" run --config "$RUN_DIR/foggate.json" > "$RUN_DIR/foggate.log" 2>&1 &
PIDS+=($!)
"$BUILD_DIR/foggate-sim" --uri "$BROKER" --devices 5 --rate 20 > "$RUN_DIR/sim.log" 2>&1 &
PIDS+=($!)
# One CoAP sensor too, every few seconds.
(
  while true; do
    coap-client-notls -B 2 -m post -t 50 -e "{\"t\":$((60 + RANDOM % 20))}" \
      "coap://127.0.0.1:$COAP_PORT/sensors/coap-boiler/temp" >/dev/null 2>&1 || true
    sleep 3
  done
) &
PIDS+=($!)

if [ "$SECONDS_TO_RUN" -gt 0 ]; then
  sleep "$SECONDS_TO_RUN"
  echo "== status:"
  mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t 'foggate/demo/status' -C 1 -W 2 || true
else
  wait
fi
