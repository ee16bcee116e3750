#!/usr/bin/env bash
# cli-bench.sh: taskpool-run against xargs -P and GNU parallel, side by side
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: bench/cli-bench.sh [BUILDDIR]        (default: _build next to this folder)
# Environment: RUNS (runs of each tool per workload, default 3), JOBS (at once, default 8)
#
# Two workloads, JOBS at once: 2000 × `true` (the cost of starting a job) and
# 200 × `sleep 0.05` (keeping JOBS busy; ideal 200 × 0.05 / JOBS seconds).
# Each runs through
#   taskpool-run -j JOBS -q FILE
#   xargs -P JOBS -I{} sh -c {} < FILE
#   parallel -j JOBS < FILE          (GNU parallel, skipped when not installed)
# RUNS times, the tools interleaved so that a change of machine load hits all of
# them alike. Prints a Markdown table of median wall times and the ratios, and
# whether taskpool-run is within 1.2 × xargs and faster than GNU parallel.
# Standalone: no meson.build runs it.

set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/_build}" && pwd)
taskpool_run=$build/tools/taskpool-run
RUNS=${RUNS:-3}
JOBS=${JOBS:-8}

if [ ! -x "$taskpool_run" ]; then
  echo "cli-bench: $taskpool_run is missing: build it first (meson compile -C $build)" >&2
  exit 2
fi
TASKPOOL_PLUGIN_PATH=$(printf '%s:' "$build"/plugins/*/)
export TASKPOOL_PLUGIN_PATH

tools=(taskpool-run xargs)
if command -v parallel > /dev/null && parallel --version 2> /dev/null | grep -q 'GNU parallel'; then
  tools+=(parallel)
else
  echo "GNU parallel is not installed (Debian package “parallel”): skipping it" >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
yes true | head -n 2000 > "$tmp/true.txt" || true
yes 'sleep 0.05' | head -n 200 > "$tmp/sleep.txt" || true
workloads=(true sleep)
declare -A workload_name=([true]="2000 × true" [sleep]="200 × sleep 0.05")

run_tool () {
  case $1 in
    taskpool-run) "$taskpool_run" -j "$JOBS" -q "$2" ;;
    xargs)        xargs -P "$JOBS" -I{} sh -c {} < "$2" ;;
    parallel)     parallel --will-cite -j "$JOBS" < "$2" ;;
  esac
}

# time_tool TOOL FILE: wall seconds of one run
time_tool () {
  local start=$EPOCHREALTIME
  if ! run_tool "$1" "$2" > /dev/null 2> "$tmp/stderr"; then
    echo "cli-bench: $1 failed on $2:" >&2
    cat "$tmp/stderr" >&2
    exit 1
  fi
  awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

median () {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio () {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

declare -A times
for run in $(seq "$RUNS"); do
  for workload in "${workloads[@]}"; do
    for tool in "${tools[@]}"; do
      times[$workload,$tool]+="$(time_tool "$tool" "$tmp/$workload.txt") "
    done
  done
done

echo "$(nproc) processors, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
     "$JOBS at once, median of $RUNS runs (wall seconds; all runs in brackets)"
echo
header="| workload | taskpool-run | xargs -P $JOBS |"
rule="|---|---|---|"
[[ " ${tools[*]} " == *" parallel "* ]] && header+=" parallel -j $JOBS |" && rule+="---|"
header+=" taskpool-run / xargs |"
rule+="---|"
[[ " ${tools[*]} " == *" parallel "* ]] && header+=" taskpool-run / parallel |" && rule+="---|"
echo "$header"
echo "$rule"

verdict=()
for workload in "${workloads[@]}"; do
  declare -A med=()
  row="| ${workload_name[$workload]} |"
  for tool in "${tools[@]}"; do
    # shellcheck disable=SC2086
    med[$tool]=$(median ${times[$workload,$tool]})
    row+=" ${med[$tool]} (${times[$workload,$tool]% }) |"
  done
  to_xargs=$(ratio "${med[taskpool-run]}" "${med[xargs]}")
  row+=" $to_xargs |"
  met=$(awk -v r="$to_xargs" 'BEGIN { print (r <= 1.2) ? "met" : "NOT met" }')
  verdict+=("${workload_name[$workload]}: taskpool-run / xargs = $to_xargs, target ≤ 1.2: $met")
  if [ -n "${med[parallel]:-}" ]; then
    to_parallel=$(ratio "${med[taskpool-run]}" "${med[parallel]}")
    row+=" $to_parallel |"
    met=$(awk -v r="$to_parallel" 'BEGIN { print (r < 1) ? "met" : "NOT met" }')
    verdict+=("${workload_name[$workload]}: taskpool-run / parallel = $to_parallel, target < 1: $met")
  fi
  echo "$row"
  unset med
done

echo
printf '%s\n' "${verdict[@]}"
