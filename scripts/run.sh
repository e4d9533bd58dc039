#!/usr/bin/env bash
# The demo: installs what is missing, builds, then starts a local mosquitto
# on a free port, foggate with examples/demo.json, and the sensor simulator,
# and prints the alerts as they arrive. Ctrl-C stops everything.
#
#   scripts/run.sh                 run until Ctrl-C
#   scripts/run.sh --seconds 30    run for 30 s (non-interactive)
#   FOGGATE_BROKER_PORT=1883 scripts/run.sh   use a broker already on that port
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TO_RUN=0
if [ "${1:-}" = "--seconds" ]; then SECONDS_TO_RUN=${2:?--seconds needs a number}; fi

scripts/deps.sh
scripts/build.sh >/dev/null
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

BROKER_PORT=${FOGGATE_BROKER_PORT:-}
if [ -z "$BROKER_PORT" ]; then
  BROKER_PORT=$(free_port tcp)
  # max_queued_messages: see examples/mosquitto/site-broker.conf for why.
  cat > "$RUN_DIR/mosquitto.conf" <<CONF
listener $BROKER_PORT 127.0.0.1
allow_anonymous true
max_queued_messages 1000000
persistence false
CONF
  mosquitto -c "$RUN_DIR/mosquitto.conf" > "$RUN_DIR/mosquitto.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$BROKER_PORT") 2>/dev/null && break
    sleep 0.1
  done
fi
BROKER=tcp://127.0.0.1:$BROKER_PORT
COAP_PORT=$(free_port udp)

sed -e "s#tcp://127.0.0.1:1883#$BROKER#" -e "s#\"port\": 5683#\"port\": $COAP_PORT#" \
    -e "s#/tmp/foggate-demo#$RUN_DIR/data#" examples/demo.json > "$RUN_DIR/foggate.json"
"$BUILD_DIR/foggate" check --config "$RUN_DIR/foggate.json" >/dev/null

echo "== foggate demo: broker $BROKER, CoAP udp/$COAP_PORT, logs in $RUN_DIR"
echo "== alerts (foggate/demo/alerts/#) will appear below; Ctrl-C stops"
mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -v -t 'foggate/demo/alerts/#' &
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
  echo "== status and last metrics:"
  mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t 'foggate/demo/status' -C 1 -W 2 || true
else
  wait
fi
