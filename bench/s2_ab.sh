#!/usr/bin/env bash
# S2 (alert latency at 10k msg/s, scripts/bench.sh) with two builds of
# foggate taking turns, so that a change's effect on the alert tail can be
# told apart from the host's drift (docs/benchmarks.md, session 14). Each
# turn runs one S2 trial at QoS 0 and one at QoS 1 with A's foggate, then
# the same with B's; the load generator is A's for both. At the end, per
# build and QoS: the median and worst alert p99, and the runs over 5 ms.
#
#   bench/s2_ab.sh DIR_A DIR_B [TURNS=6]
#
# DIR_A, DIR_B: build directories holding foggate (DIR_A also
# bench/foggate-loadgen), e.g. build-bench of this checkout and of a
# worktree of the older commit:
#   git worktree add ../fg-old <commit>
#   cmake -S ../fg-old -B ../fg-old/build-bench -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOGGATE_EXTRAS=ON
#   cmake --build ../fg-old/build-bench --target foggate foggate-loadgen
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/s2_ab.sh DIR_A DIR_B [TURNS]" >&2; exit 2; }
DIR_A=$(realpath "$1") DIR_B=$(realpath "$2") TURNS=${3:-6}
for d in "$DIR_A/foggate" "$DIR_B/foggate" "$DIR_A/bench/foggate-loadgen"; do
  [ -x "$d" ] || { echo "s2_ab: $d is missing" >&2; exit 2; }
done

DEVICES=1000 ALERT_DEVICES=10 BACKLOG_MS=100  # as scripts/bench.sh
LOADGEN=$DIR_A/bench/foggate-loadgen
TCK=$(getconf CLK_TCK)
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
open_run_dir s2ab

P99S=$RUN/p99.tsv  # build qos p99_ms broker_alone_p99_ms
for turn in $(seq "$TURNS"); do
  for build in A B; do
    if [ "$build" = A ]; then B=$DIR_A; else B=$DIR_B; fi
    for qos in 0 1; do
      trial foggate "$qos" 10000 5
      p99=$(calc "${R[lat_p99_us]} / 1000") alone=$(calc "${R[rx_p99_us]} / 1000")
      printf '%s\t%s\t%s\t%s\n' "$build" "$qos" "$p99" "$alone" >> "$P99S"
      log "turn $turn $build QoS $qos: alert p99 $p99 ms (broker alone $alone ms)"
    done
  done
done
python3 - "$P99S" <<'PY'
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
for build in "AB":
    for qos in "01":
        p = [float(r[2]) for r in rows if r[0] == build and r[1] == qos]
        alone = [float(r[3]) for r in rows if r[0] == build and r[1] == qos]
        print(f"{build} QoS {qos}: alert p99 median {statistics.median(p):.2f} ms, worst {max(p):.2f}, "
              f"over 5 ms in {sum(x > 5 for x in p)} of {len(p)} (broker alone median {statistics.median(alone):.2f})")
PY
