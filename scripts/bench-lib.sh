# Functions of scripts/bench.sh (sourced by it and bench/s2_ab.sh): the
# processes it starts, the trial and the search for the most msg/s kept up
# with, and how figures are recorded. They use bench.sh's globals (B,
# LOADGEN, RUNS, TCK and the scenario settings; RUN, RESULTS and PIDS from
# open_run_dir).
# shellcheck shell=bash

log() { echo "bench: $*" >&2; }

# RUN (a temp dir for logs and files), RESULTS and PIDS; at exit every
# process started is killed and RUN removed (kept when the run failed).
open_run_dir() {  # name
  RUN=$(mktemp -d "/tmp/foggate-$1.XXXXXX")
  RESULTS=$RUN/results.tsv
  : > "$RESULTS"
  PIDS=()
  trap close_run_dir EXIT
  trap 'exit 130' INT TERM
}
close_run_dir() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ $rc -eq 0 ]; then rm -rf "$RUN"; else echo "bench: failed; logs in $RUN" >&2; fi
}
die() { log "$*"; exit 1; }
calc() { awk "BEGIN { v = $1; printf \"%.6g\", v }"; }   # float arithmetic
is_true() { [ "$(awk "BEGIN { print ($1) ? 1 : 0 }")" = 1 ]; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }          # utime + stime
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }  # VmRSS, VmHWM
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >> "$RESULTS"; }  # scenario figure value [ratio-to]
median_of() {  # scenario figure -> the median recorded (the lower one of an even count), 0 if none
  local v n
  v=$(awk -F'\t' -v s="$1" -v f="$2" '$1 == s && $2 == f { print $3 }' "$RESULTS" | sort -g)
  if [ -z "$v" ]; then echo 0; return; fi
  n=$(wc -l <<<"$v")
  sed -n "$(( (n + 1) / 2 ))p" <<<"$v"
}

stop_pid() {  # TERM, then KILL after 10 s; forgets the PID
  local pid=$1 i
  kill "$pid" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local keep=()
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# A mosquitto on a free port, configured like examples/mosquitto/site-broker.conf
# where it matters here. Sets BROKER_PORT and BROKER_PID (or UP_PORT/UP_PID
# for "upstream").
start_broker() {
  local name=$1 port conf
  port=$(free_port)
  conf=$RUN/$name.conf
  {
    echo "listener $port 127.0.0.1"
    echo "allow_anonymous true"
    # Stock mosquitto drops past 1000 queued messages per client.
    echo "max_queued_messages 1000000"
    echo "max_inflight_messages 0"
    # Without it the broker holds a small message back until the previous
    # one is acknowledged, and a QoS 0 subscriber acknowledges late (delayed
    # ACK, 40 ms): that would be measured as everyone's latency.
    echo "set_tcp_nodelay true"
    echo "persistence false"
    echo "log_type error"
    echo "log_type warning"
    # As root mosquitto switches to user "mosquitto", who cannot write here.
    if [ "$(id -u)" -eq 0 ]; then echo "user root"; fi
  } > "$conf"
  mosquitto -c "$conf" > "$RUN/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      if [ "$name" = upstream ]; then UP_PORT=$port UP_PID=$pid; else BROKER_PORT=$port BROKER_PID=$pid; fi
      return 0
    fi
    sleep 0.1
  done
  die "mosquitto ($name) did not start; see $RUN/$name.log"
}

# foggate's configuration for a run: a threshold detector on t (max 1000,
# hysteresis 1, no cooldown) that only the alert devices cross, default
# rules (detect + forward), metrics every METRICS_MS, CoAP off, uplink only
# when an upstream port is given.
# CONFIG_EXTRA: more top-level members (e.g. rules) for one scenario;
# INGEST: the ingest section's members instead of MQTT only.
# Alarm flood control is off: S2 times every alert of devices that cross
# the limit on every other reading (docs/alarms.md).
write_config() {  # file qos metrics_ms [upstream_port]
  local uplink=""
  if [ -n "${4:-}" ]; then uplink=",\"uplink\":{\"uris\":[\"tcp://127.0.0.1:$4\"]}"; fi
  if [ -n "${CONFIG_EXTRA:-}" ]; then uplink="$uplink,$CONFIG_EXTRA"; fi
  cat > "$1" <<JSON
{"gateway":{"id":"bench","data_dir":"$RUN/data"},
 "broker":{"uris":["tcp://127.0.0.1:$BROKER_PORT"]},
 "ingest":{${INGEST:-"\"mqtt\":[{\"filter\":\"sensors/#\",\"qos\":$2}],\"coap\":{\"enabled\":false}"}},
 "detectors":[{"name":"limit","type":"threshold","field":"t","max":1000,"hysteresis":1,
               "cooldown_ms":0,"severity":"critical"}],
 "alarms":{"flood_max_events":0${ALARMS_EXTRA:-}},
 "metrics":{"interval_ms":$3}$uplink}
JSON
}

start_foggate() {  # config; sets FG_PID once foggate announces "online"
  rm -rf "$RUN/data"
  "$B/foggate" run --config "$1" > "$RUN/foggate.log" 2>&1 &
  FG_PID=$!
  PIDS+=("$FG_PID")
  mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t foggate/bench/status -C 1 -W 10 2>/dev/null | grep -q '"online"' ||
    die "foggate did not come online; see $RUN/foggate.log"
}

# foggate's metrics, read off its metrics topic (the scenarios that need
# them set a short metrics interval).
metrics_now() {  # -> $RUN/metrics.json: the next metrics document
  mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t foggate/bench/metrics -C 1 -W 10 > "$RUN/metrics.json" 2>/dev/null ||
    die "no metrics document from foggate; see $RUN/foggate.log"
}
metric_sum() {  # name [label=value ...] -> sum over the matching series of $RUN/metrics.json
  python3 - "$RUN/metrics.json" "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))["metrics"]
name, want = sys.argv[2], sys.argv[3:]
total = 0.0
for key, value in doc.items():
    base, _, labels = key.partition("{")
    if base == name and all(w in labels.rstrip("}").split(",") for w in want):
        total += value
print(f"{total:.0f}" if total.is_integer() else total)
PY
}
wait_metric() {  # name op value timeout_s: polls until "metric op value" holds
  local until=$((SECONDS + $4)) v
  while [ $SECONDS -lt "$until" ]; do
    metrics_now
    v=$(metric_sum "$1")
    if is_true "$v $2 $3"; then return 0; fi
  done
  log "gave up waiting for $1 $2 $3 (last $v)"
  return 1
}
io_write_bytes() { awk '$1 == "write_bytes:" { print $2 }' "/proc/$1/io"; }
result_of() {  # file -> fills R from its RESULT line
  local line kv
  line=$(grep '^RESULT ' "$1" | tail -1) || die "no result in $1"
  R=()
  for kv in ${line#RESULT }; do R[${kv%%=*}]=${kv#*=}; done
}

declare -A R
loadgen() {  # loadgen arguments; fills R from its RESULT line
  local out line kv
  out=$(timeout 120 "$LOADGEN" --uri "tcp://127.0.0.1:$BROKER_PORT" "$@" 2>>"$RUN/loadgen.log") || true
  line=$(grep '^RESULT ' <<<"$out" | tail -1) || die "foggate-loadgen gave no result; see $RUN/loadgen.log"
  R=()
  for kv in ${line#RESULT }; do R[${kv%%=*}]=${kv#*=}; done
}

# One measurement on fresh processes.
#   trial ceiling|foggate QOS RATE SECONDS [loadgen args]
# Sets R, OK (1: kept up), THROUGHPUT (msg/s the subscriber took), and for
# foggate FG_CPU_US (CPU µs per message), FG_RSS_KB, FG_HWM_KB; BR_CPU_US
# for the broker. METRICS_MS (default 1000) sets foggate's metrics interval.
trial() {
  local mode=$1 qos=$2 rate=$3 secs=$4 b0 b1 f0 f1
  shift 4
  start_broker site
  b0=$(cpu_ticks "$BROKER_PID")
  if [ "$mode" = ceiling ]; then
    loadgen --devices "$DEVICES" --rate "$rate" --seconds "$secs" --qos "$qos" \
      --alert-devices "$ALERT_DEVICES" --count 'sensors/#' "$@"
    THROUGHPUT=${R[recv_rate]}
    OK=0
    if [ "${R[lost]}" = 0 ] && [ "${R[gaps]}" = 0 ] && [ "${R[drain_ms]}" -le "$BACKLOG_MS" ] &&
       is_true "${R[send_rate]} >= 0.97 * $rate"; then OK=1; fi
  else
    write_config "$RUN/gw.json" "$qos" "${METRICS_MS:-1000}"
    start_foggate "$RUN/gw.json"
    b0=$(cpu_ticks "$BROKER_PID")
    f0=$(cpu_ticks "$FG_PID")
    local metrics=(--metrics foggate/bench/metrics)
    if [ "${METRICS_MS:-1000}" = 0 ]; then metrics=(); fi
    loadgen --devices "$DEVICES" --rate "$rate" --seconds "$secs" --qos "$qos" --alert-devices "$ALERT_DEVICES" \
      --alerts --count-alert-devices "${metrics[@]}" "$@"
    f1=$(cpu_ticks "$FG_PID")
    FG_RSS_KB=$(status_kb "$FG_PID" VmRSS)
    FG_HWM_KB=$(status_kb "$FG_PID" VmHWM)
    stop_pid "$FG_PID"
    local n=${R[fg_received]:-0}
    if [ -z "${metrics[*]}" ]; then n=${R[sent]}; fi
    FG_CPU_US=$(calc "$n > 0 ? ($f1 - $f0) * 1e6 / $TCK / $n : 0")
    THROUGHPUT=${R[fg_rate]:-0}
    if [ "$THROUGHPUT" = 0 ]; then THROUGHPUT=$(calc "$n / $secs"); fi
    # Kept up: received everything, shed nothing, every alert out, and
    # never more than BACKLOG_MS of traffic behind at a metrics sample
    # (sent by the document's time_ms less received; loadgen.cpp).
    OK=0
    if [ -n "${metrics[*]}" ] && is_true "${R[fg_received]} >= ${R[sent]} && ${R[fg_shed]} == 0 &&
         ${R[alerts]} >= ${R[alerts_expected]} && ${R[fg_backlog_max]} <= $rate * $BACKLOG_MS / 1000 &&
         ${R[send_rate]} >= 0.97 * $rate"; then OK=1; fi
  fi
  b1=$(cpu_ticks "$BROKER_PID")
  BR_CPU_US=$(calc "${R[sent]} > 0 ? ($b1 - $b0) * 1e6 / $TCK / ${R[sent]} : 0")
  stop_pid "$BROKER_PID"
  local why="lost ${R[lost]}, gaps ${R[gaps]}, last ${R[drain_ms]} ms after sending"
  if [ "$mode" = foggate ] && [ -n "${R[fg_backlog_max]:-}" ]; then
    why="backlog <= ${R[fg_backlog_max]} (${R[fg_backlog_on_arrival_max]} on arrival, metrics <= ${R[fg_metrics_delay_max_ms]} ms late), queues <= ${R[fg_queue_max]}, shed ${R[fg_shed]}, alerts ${R[alerts]}/${R[alerts_expected]}"
  elif [ "$mode" = foggate ]; then
    why="metrics off: not judged; alerts ${R[alerts]}/${R[alerts_expected]}"
  fi
  log "$(printf '%-7s qos %s %6s msg/s: took %6.0f msg/s, kept up: %s (%s)' "$mode" "$qos" "$rate" "$THROUGHPUT" "$OK" "$why")"
}

round_down() { calc "int($1 / 1000) * 1000"; }  # search steps are 1000 msg/s

# Most msg/s kept up with, one repetition: from START, up by 6% while it
# keeps up, down by 10% while it does not; at most STEPS runs.
#   search MODE QOS START STEPS -> BEST (0: none), with BEST_CPU_US, BEST_RSS_KB, BEST_BR_CPU_US
search() {
  local mode=$1 qos=$2 r fail=999999999 step
  r=$(round_down "$3")
  BEST=0 BEST_CPU_US=0 BEST_RSS_KB=0 BEST_BR_CPU_US=0
  for step in $(seq "$4"); do
    [ "$r" -ge 1000 ] || break
    trial "$mode" "$qos" "$r" "$TRIAL_S"
    if [ "$OK" = 1 ]; then
      BEST=$r BEST_CPU_US=${FG_CPU_US:-0} BEST_RSS_KB=${FG_RSS_KB:-0} BEST_BR_CPU_US=$BR_CPU_US
      r=$(calc "int($r * 1.06 / 1000 + 0.999) * 1000")
      [ "$r" -lt "$fail" ] || break
    else
      fail=$r
      if [ "$BEST" -gt 0 ]; then break; fi
      r=$(round_down "$(calc "$r * 0.9")")
    fi
  done
}

# The max-rate figure of MODE at QOS, RUNS times; records under SCENARIO.
max_rate() {  # mode qos scenario probe_rate ratio_ref
  local mode=$1 qos=$2 sc=$3 start i factor
  trial "$mode" "$qos" "$4" "$PROBE_S" --drain-seconds 2   # overloaded on purpose: its throughput is the first guess
  # Overloaded, foggate's workers sleep less, so it takes more than it
  # sustains: start lower.
  factor=0.95
  if [ "$mode" = foggate ]; then factor=0.85; fi
  start=$(calc "$THROUGHPUT * $factor")
  for i in $(seq "$RUNS"); do
    over_budget "$sc run $i" && break
    # The first repetition searches from the guess; the others start at
    # the rate found before and take a step or two from there.
    if [ "$i" = 1 ]; then search "$mode" "$qos" "$start" 5; else search "$mode" "$qos" "$start" 3; fi
    record "$sc" "max msg/s kept up with" "$BEST" "$5"
    if [ "$BEST" = 0 ]; then continue; fi
    record "$sc" "broker CPU µs/msg" "$BEST_BR_CPU_US"
    if [ "$mode" = foggate ]; then
      record "$sc" "foggate CPU µs/msg at that rate" "$BEST_CPU_US"
      record "$sc" "foggate RSS MB at that rate" "$(calc "$BEST_RSS_KB / 1024")"
    fi
    if [ "$BEST" -gt 0 ]; then start=$BEST; fi
  done
}

s4_figures() {  # devices; records from R and the trial's globals
  local sc="S4 $1 devices, 10k msg/s QoS 0"
  record "$sc" "VmRSS MB" "$(calc "$FG_RSS_KB / 1024")"
  record "$sc" "VmHWM MB" "$(calc "$FG_HWM_KB / 1024")"
  record "$sc" "foggate CPU µs/msg" "$FG_CPU_US"
  record "$sc" "most msgs behind (metrics samples)" "${R[fg_backlog_max]}"
  record "$sc" "alert latency p50 ms" "$(calc "${R[lat_p50_us]} / 1000")"
  record "$sc" "alerts received / expected" "$(calc "${R[alerts]} / ${R[alerts_expected]}")"
}

latency_figures() {  # scenario; records from R and the trial's globals
  record "$1" "alert latency p50 ms" "$(calc "${R[lat_p50_us]} / 1000")"
  record "$1" "alert latency p99 ms" "$(calc "${R[lat_p99_us]} / 1000")"
  record "$1" "alert latency p99.9 ms" "$(calc "${R[lat_p999_us]} / 1000")"
  record "$1" "alert latency max ms" "$(calc "${R[lat_max_us]} / 1000")"
  record "$1" "same readings via broker only, p99 ms" "$(calc "${R[rx_p99_us]} / 1000")"
  record "$1" "alerts received / expected" "$(calc "${R[alerts]} / ${R[alerts_expected]}")"
  record "$1" "foggate CPU µs/msg" "$FG_CPU_US"
}

# Other work on the machine takes CPU from the processes measured: wait up
# to 30 s for it to be quiet, and at the end say how much CPU went to
# processes other than ours (all machine CPU less what our children used).
cpu_stat() { awk '/^cpu / { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }  # busy total
children_ticks() {  # CPU of every child waited for, in ticks; sets OURS (`times` must run in this shell)
  times > "$RUN/times"
  OURS=$(awk -v t="$TCK" 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] }
    printf "%.0f", n * t }' "$RUN/times")
}
