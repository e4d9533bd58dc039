#!/usr/bin/env bash
# Uplink rate against the configured budget, end to end on loopback: a site
# and an upstream mosquitto, foggate forwarding everything with
# uplink.bandwidth.bytes_per_s = BUDGET, and a simulator offering more than
# the budget. Counts payload+topic bytes arriving upstream per 10 s window.
#
#   bench/uplink_rate.sh [BUDGET_BYTES_PER_S=4000] [SECONDS=60]
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${1:-4000}
DURATION=${2:-60}
BURST=16384
scripts/build.sh -DFOGGATE_EXTRAS=ON >/dev/null  # the simulator
B=${FOGGATE_BUILD_DIR:-build}
RUN=$(mktemp -d /tmp/foggate-rate.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$RUN"; }
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
SITE=$(port); UP=$(port)
for p in $SITE $UP; do
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\npersistence false\n' "$p" > "$RUN/m$p.conf"
  mosquitto -c "$RUN/m$p.conf" > "$RUN/m$p.log" 2>&1 & PIDS+=($!)
done
sleep 0.5
cat > "$RUN/gw.json" <<JSON
{"gateway":{"id":"rate","data_dir":"$RUN/data"},
 "broker":{"uris":["tcp://127.0.0.1:$SITE"]},
 "ingest":{"coap":{"enabled":false}},
 "rules":{"default":[{"task":"forward","priority":"normal","deadline_ms":600000}]},
 "uplink":{"uris":["tcp://127.0.0.1:$UP"],"commit_interval_ms":1000,
   "batch":{"high":{"max_bytes":$BURST},"normal":{"max_bytes":$BURST},"low":{"max_bytes":$BURST}},
   "bandwidth":{"bytes_per_s":$BUDGET,"burst_bytes":$BURST}}}
JSON
# %U: arrival time (s.ns), %l: payload length, %t: topic.
mosquitto_sub -p "$UP" -t 'foggate/rate/uplink/#' -q 1 -F '%U %l %t' > "$RUN/arrivals" & PIDS+=($!)
"$B/foggate" run --config "$RUN/gw.json" > "$RUN/gw.log" 2>&1 & PIDS+=($!)
sleep 0.5
"$B/foggate-sim" --uri "tcp://127.0.0.1:$SITE" --devices 200 --rate 500 --seconds "$DURATION" > "$RUN/sim.log" 2>&1
sleep 1
echo "budget: $BUDGET B/s (burst $BURST B), offered: ~1000 msg/s for ${DURATION}s"
awk -v budget="$BUDGET" -v burst="$BURST" '
  NR == 1 { t0 = $1 }
  { w = int(($1 - t0) / 10); bytes[w] += $2 + length($3); if (w > last) last = w }
  END {
    printf "%-10s %12s %10s %12s\n", "window", "bytes", "B/s", "limit(10s)"
    for (w = 0; w < last; w++) {   # the last window is partial
      printf "%3d-%-3ds %14d %10.0f %12d\n", w*10, w*10+10, bytes[w], bytes[w]/10, budget*10 + burst
      if (bytes[w] > max) max = bytes[w]
    }
    printf "max 10 s window: %d bytes = %.0f B/s (budget %d B/s + burst)\n", max, max/10, budget
  }' "$RUN/arrivals"
