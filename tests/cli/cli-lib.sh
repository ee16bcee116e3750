# cli-lib.sh: helpers shared by the taskpool-run tests
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sourced by each test script, which gets the path of taskpool-run as its
# first argument. Every test runs in a fresh folder, removed at exit with any
# process it left in the background.

set -euo pipefail

TR=$(realpath "${1:?usage: $0 PATH-TO-taskpool-run}")
CLI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -x "$TR" ] || { echo "FAIL: $TR is not an executable" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/taskpool-run-test.XXXXXX")
BACKGROUND=()

# SIGTERM first: taskpool-run then terminates the jobs it started
cleanup () {
  local pid i
  for pid in "${BACKGROUND[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for i in $(seq 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

step () {
  echo "# $*"
}

fail () {
  echo "FAIL: $*" >&2
  exit 1
}

show_outputs () {
  echo "--- stdout:" >&2
  cat out >&2 || true
  echo "--- stderr:" >&2
  cat err >&2 || true
}

# expect_status STATUS COMMAND…: runs COMMAND with stdout in “out” and
# stderr in “err”, and checks its exit status
expect_status () {
  local want=$1 got=0
  shift
  "$@" > out 2> err || got=$?
  if [ "$got" != "$want" ]; then
    show_outputs
    fail "“$*” exited with $got, expected $want"
  fi
}

# assert_eq WHAT ACTUAL EXPECTED
assert_eq () {
  if [ "$2" != "$3" ]; then
    show_outputs
    fail "$1: got “$2”, expected “$3”"
  fi
}

# assert_grep FILE TEXT: FILE contains the fixed string TEXT
assert_grep () {
  if ! grep -qF -- "$2" "$1"; then
    show_outputs
    fail "$1 lacks “$2”"
  fi
}

# json EXPRESSION: checks that the JSON report, the last line of “out”, is the
# document doc/taskpool-run.md describes (cli-json.py), then prints
# EXPRESSION, Python applied to it as “d”: json "d['size']"
json () {
  /usr/bin/python3 "$CLI_DIR/cli-json.py" out "$1"
}

# json_true EXPRESSION: the report is right and EXPRESSION holds
json_true () {
  local value
  value=$(json "$1") || { show_outputs; fail "no JSON report to evaluate “$1”"; }
  assert_eq "$1" "$value" true
}

# wait_for WHAT COMMAND…: polls COMMAND until it succeeds, for at most 20 s
wait_for () {
  local what=$1 deadline=$((SECONDS + 20))
  shift
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_outputs
      fail "timed out waiting for $what"
    fi
    sleep 0.05
  done
}

# group_alive PGID: a process of the group is alive (zombies do not count)
group_alive () {
  ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

group_gone () {
  ! group_alive "$1"
}

# A job command that waits, for at most 30 s, until the file “go” exists
WAIT_FOR_GO='for i in $(seq 600); do [ -e go ] && break; sleep 0.05; done'
