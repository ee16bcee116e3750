#!/usr/bin/env bash
# test-cli-limits.sh: keys, --per-key, --rate and the timeouts, seen by the jobs themselves
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The jobs write what they do to a log, one short line per append (atomic
# with O_APPEND): "start KEY" after they began, "end KEY" before they end.
# A job's logged interval lies inside the time the pool had it running, so
# counting the log never sees more at once than the pool ran. The checks
# count and order; they never time a run.

source "$(dirname "$0")/cli-lib.sh"

# check_usage MESSAGE ARGUMENT…: exit status 2, MESSAGE on stderr, nothing run
check_usage () {
  local message=$1
  shift
  expect_status 2 "$TR" "$@" <<< $'k\ttouch ran'
  assert_grep err "$message"
  assert_grep err "Try “taskpool-run --help” for more information."
  [ ! -e ran ] || fail "“$*” ran a job"
}

# job_meeting KEY N: a line for a job of KEY (none: no key) that logs its
# start, waits, for at most 30 s, until N jobs of KEY have started, and logs
# its end
job_meeting () {
  local name=${1:-none}
  printf '%s\techo start %s >> log; for i in $(seq 600); do ' "$1" "$name"
  printf '[ "$(grep -c "^start %s$" log)" -ge %s ] && break; sleep 0.05; done; ' "$name" "$2"
  printf 'echo end %s >> log\n' "$name"
}

# most_at_once KEY: the most jobs of KEY between their start and end lines in “log”
most_at_once () {
  awk -v key="$1" '
    $2 == key && $1 == "start" { now++; if (now > most) most = now }
    $2 == key && $1 == "end" { now-- }
    END { print most + 0 }' log
}

step "--rate wants N/INTERVAL: a whole number, a slash, a whole number and a unit"
check_usage "--rate: “10” is not N/INTERVAL, at most N starts in any INTERVAL, such as 10/1s" \
  --rate 10
check_usage "--rate: “10/” is not N/INTERVAL" --rate 10/
check_usage "--rate: “/1s” is not N/INTERVAL" --rate /1s
check_usage "--rate: “10/1s/2” is not N/INTERVAL" --rate 10/1s/2
check_usage "--rate: “0/1s”: N, “0”, is not a whole number from 1 to 1000000" --rate 0/1s
check_usage "--rate: “-5/1s”: N, “-5”, is not a whole number from 1 to 1000000" --rate=-5/1s
check_usage "--rate: “+5/1s”: N, “+5”, is not a whole number from 1 to 1000000" --rate +5/1s
check_usage "--rate: “1000001/1s”: N, “1000001”, is not a whole number from 1 to 1000000" \
  --rate 1000001/1s
check_usage "--rate: “ten/1s”: N, “ten”, is not a whole number" --rate ten/1s
check_usage "the interval, “1.5s”, is not a whole number and a unit (ms, s, min, h or d)" \
  --rate 10/1.5s
check_usage "--rate: “10/1S”: the interval, “1S”, is not a whole number and a unit" --rate 10/1S
check_usage "--rate: “10/1 s”: the interval, “1 s”, is not a whole number and a unit" \
  --rate '10/1 s'
check_usage "--rate: “10/5m”: the interval, “5m”, is not a whole number and a unit" --rate 10/5m
check_usage "--rate: “10/0ms”: the interval, “0ms”, is not from 1 ms to 1 d" --rate 10/0ms
check_usage "--rate: “10/2d”: the interval, “2d”, is not from 1 ms to 1 d" --rate 10/2d
check_usage "--rate: “10/1441min”: the interval, “1441min”, is not from 1 ms to 1 d" \
  --rate 10/1441min

step "--per-key, --keys, --rate-per-key and the timeouts are checked before anything runs"
check_usage "--per-key: “0” is not a whole number from 1 to 4096" --keys --per-key 0
check_usage "--per-key: “4097” is not a whole number from 1 to 4096" --keys --per-key 4097
check_usage "--per-key: “two” is not a whole number from 1 to 4096" --keys --per-key two
check_usage "--per-key 2 needs --keys: lines KEY<TAB>COMMAND" --per-key 2
check_usage "--rate-per-key needs --keys" --rate 5/1s --rate-per-key
check_usage "--rate-per-key needs --rate N/INTERVAL, or a --config group with the rate gate" \
  --keys --rate-per-key
check_usage "--queue-timeout: “soon” is not a number of seconds greater than 0" \
  --queue-timeout soon
check_usage "--queue-timeout: “0” is not a number of seconds greater than 0" --queue-timeout 0
check_usage "--run-timeout: “-1” is not a number of seconds greater than 0" --run-timeout -1
check_usage "--run-timeout: “3000000” is not a number of seconds greater than 0 and at most" \
  --run-timeout 3000000
printf '[jobs]\nkind=fixed-simple\n' > plain.ini
check_usage "Unknown key “rate-per-key” in group “jobs”" \
  --config plain.ini --pool jobs --keys --rate-per-key

step "a --keys line without its TAB, or without a command, is an input error"
expect_status 2 "$TR" --keys <<< 'no tab here'
assert_grep err "line 1: no TAB in “no tab here”: --keys expects KEY<TAB>COMMAND"
expect_status 2 "$TR" --keys <<< $'host\t'
assert_grep err "line 1: no command after the key “host”"
expect_status 2 "$TR" --keys --weights <<< $'5\tno key'
assert_grep err "line 1: no TAB in “no key”: --keys expects WEIGHT<TAB>KEY<TAB>COMMAND"
expect_status 2 "$TR" --keys --weights <<< 'nothing'
assert_grep err "line 1: no TAB in “nothing”: --weights expects WEIGHT<TAB>KEY<TAB>COMMAND"
expect_status 2 "$TR" --keys -- printf '%s\n' <<< 'arg'
assert_grep err "line 1: no TAB in “arg”: --keys expects KEY<TAB>ARGUMENT"

step "keys reach the report; blanks around a key go, and an empty key is none"
expect_status 0 "$TR" -j 1 --keys --weights --json <<< $'2\t host.a \techo a\n1\t\techo none'
assert_eq "keys in input order" "$(json "[j['key'] for j in d['jobs']]")" '["host.a", null]'
assert_eq "commands" "$(json "[j['command'] for j in d['jobs']]")" '["echo a", "echo none"]'
expect_status 0 "$TR" --keys --json -- echo <<< $'k 1\tone argument'
assert_eq "after -- COMMAND" "$(json "[d['jobs'][0]['key'], d['jobs'][0]['command']]")" \
  "[\"k 1\", \"echo 'one argument'\"]"

step "--per-key 2: never more than two jobs of a key run at once, and each key gets two"
# Each job waits, for at most 30 s, until two of its key have started: only
# a pool that runs two of a key at once lets the first two end
: > log
for key in a b c; do
  for i in 1 2 3 4; do
    job_meeting "$key" 2
  done
done > jobs
expect_status 0 "$TR" -j 6 --keys --per-key 2 --json jobs
assert_eq "succeeded" "$(json "d['succeeded']")" 12
for key in a b c; do
  assert_eq "most jobs of $key at once" "$(most_at_once "$key")" 2
done
assert_grep err "gates per-key"

step "no head-of-line blocking: key b's job starts while key a's first job runs"
# a's first job ends only once b's job started; the others of a wait behind it
{
  printf 'a\tfor i in $(seq 600); do [ -e b.started ] && break; sleep 0.05; done; '
  printf 'test -e b.started\n'
  for i in 1 2 3 4 5; do printf 'a\techo a%s >> log\n' "$i"; done
  printf 'b\ttouch b.started\n'
} > jobs
: > log
expect_status 0 "$TR" -j 2 --keys --per-key 1 --json jobs
assert_eq "succeeded" "$(json "d['succeeded']")" 7
assert_eq "key a's others, in order, after its first" "$(tr '\n' ' ' < log)" "a1 a2 a3 a4 a5 "

step "jobs without a key are not limited by --per-key"
for i in 1 2 3; do
  job_meeting "" 3
done > jobs
: > log
expect_status 0 "$TR" -j 3 --keys --per-key 1 --json jobs
assert_eq "keyless jobs at once" "$(most_at_once none)" 3

# check_windows LIMIT INTERVAL_MS ORIGIN_NS [KEY]: the jobs ran one at a time
# (-j 1), each logging "start KEY NS" and "end KEY NS". No INTERVAL holds more
# than LIMIT starts of KEY (all keys without it), counted from a time each job
# had certainly not started by: the end of the one before it, or ORIGIN.
check_windows () {
  /usr/bin/python3 - "$@" <<'EOF'
import sys
limit, interval = int(sys.argv[1]), int(sys.argv[2]) * 1000000
origin = int(sys.argv[3])
key = sys.argv[4] if len(sys.argv) > 4 else None
runs, ends = [], {}
for line in open("log"):
    what, k, ns = line.split()
    if what == "start":
        runs.append([k, int(ns), None])
    else:
        runs[-1][2] = int(ns)
stream = [r for r in runs if key is None or r[0] == key]
if len(stream) < 2 * limit:
    sys.exit(f"only {len(stream)} starts of {key}")
for k, run in enumerate(stream):
    anchor = origin if k == 0 else stream[k - 1][2]
    if not anchor <= run[1]:
        sys.exit(f"job {k} started before the one before it ended: not one at a time")
    count = sum(1 for r in stream[k:] if r[1] < anchor + interval)
    if count > limit:
        sys.exit(f"{count} starts of {key or 'all keys'} within {interval} ns from job {k}")
EOF
}

step "--rate 3/400ms: no 400 ms window holds more than three starts"
for i in $(seq 9); do
  printf 'x\techo "start x $(date +%%s%%N)" >> log; echo "end x $(date +%%s%%N)" >> log\n'
done > jobs
: > log
origin=$(date +%s%N)
expect_status 0 "$TR" -j 1 --keys --rate 3/400ms --json jobs
assert_eq "succeeded" "$(json "d['succeeded']")" 9
check_windows 3 400 "$origin" || fail "more than 3 starts in a 400 ms window"
assert_grep err "gates rate"

step "--rate 2/300ms --rate-per-key: each key has its own window"
for i in $(seq 4); do
  for key in p q; do
    printf '%s\techo "start %s $(date +%%s%%N)" >> log; echo "end %s $(date +%%s%%N)" >> log\n' \
      "$key" "$key" "$key"
  done
done > jobs
: > log
origin=$(date +%s%N)
expect_status 0 "$TR" -j 1 --keys --rate 2/300ms --rate-per-key --json jobs
assert_eq "succeeded" "$(json "d['succeeded']")" 8
check_windows 2 300 "$origin" p || fail "more than 2 starts of p in a 300 ms window"
check_windows 2 300 "$origin" q || fail "more than 2 starts of q in a 300 ms window"

step "--rate-per-key: a key whose window is full does not hold back another key"
# p's third job waits an hour for its window, and times out in the queue; q's starts
expect_status 1 "$TR" -j 1 --keys --rate 2/1h --rate-per-key --queue-timeout 1 --json \
  <<< $'p\ttrue\np\ttrue\np\ttrue\nq\ttrue'
assert_eq "statuses" "$(json "[j['status'] for j in d['jobs']]")" \
  '["succeeded", "succeeded", "failed", "succeeded"]'
assert_eq "timed out" "$(json "[j['timed_out'] for j in d['jobs']]")" '[false, false, true, false]'

step "--per-key and --rate together, with a --config group: the options' gates join the group's"
printf '[jobs]\nkind=fixed-fair\nsize=4\ngates=rate\nrate-limit=1000\nrate-interval-ms=1000\n' \
  > limits.ini
expect_status 0 "$TR" --config limits.ini --pool jobs --keys --per-key 1 --json <<< $'k\ttrue'
assert_grep err "pool fixed-fair, size 4 (min 0, max 4096), queue capacity 0 (no limit), gates "
assert_grep err "(no limit), gates rate;per-key"
expect_status 0 "$TR" --keys --per-key 1 --rate 10/1s --json <<< $'k\ttrue'
assert_grep err "gates per-key;rate"

step "--queue-timeout: a job that has not started in time fails without running"
printf 'echo first > first.ran; %s\ntouch second.ran\necho third\n' "$WAIT_FOR_GO" > jobs
"$TR" -j 1 --queue-timeout 0.2 --json jobs > out 2> err &
pid=$!
BACKGROUND+=("$pid")
wait_for "the queue timeouts" \
  grep -qF "line 3: failed, not started within its queue timeout of 0.20 s" err
assert_grep err "line 2: failed, not started within its queue timeout of 0.20 s: touch second.ran"
touch go
status=0
wait "$pid" || status=$?
assert_eq "exit status" "$status" 1
[ -e first.ran ] || fail "the first job did not run"
[ ! -e second.ran ] || fail "a job that timed out in the queue ran"
assert_eq "statuses" "$(json "[j['status'] for j in d['jobs']]")" \
  '["succeeded", "failed", "failed"]'
assert_eq "timed out" "$(json "[j['timed_out'] for j in d['jobs']]")" '[false, true, true]'
assert_eq "never started" "$(json "[(j['exit_code'], j['signal']) for j in d['jobs'][1:]]")" \
  '[[null, null], [null, null]]'
assert_eq "timed_out" "$(json "d['timed_out']")" 2

step "--run-timeout terminates a command that runs too long, like --timeout"
expect_status 1 "$TR" -j2 --run-timeout 0.3 --json <<< $'echo $$ > pgid; sleep 20\necho quick'
assert_eq "timed out" "$(json "[j['timed_out'] for j in d['jobs']]")" '[true, false]'
assert_eq "signal of the timed out job" "$(json "d['jobs'][0]['signal']")" 15
assert_eq "statuses" "$(json "[j['status'] for j in d['jobs']]")" '["failed", "succeeded"]'
assert_grep err "line 1: failed, timed out after"
group_gone "$(cat pgid)" || fail "the timed out job's process group is still there"

step "a keyfile's run-timeout-ms terminates too: the pool's run timeout drives it"
printf '[jobs]\nrun-timeout-ms=300\n' > timeout.ini
expect_status 1 "$TR" --config timeout.ini --pool jobs --json <<< 'sleep 20'
assert_eq "timed out" "$(json "d['jobs'][0]['timed_out']")" true
expect_status 0 "$TR" --config timeout.ini --pool jobs --run-timeout 60 --json <<< 'sleep 0.5'
assert_eq "the option replaced the group's" "$(json "d['succeeded']")" 1

step "a SIGTERM-proof command timed out gets SIGKILL 2 s later"
expect_status 1 "$TR" --timeout 0.2 --json <<< "trap '' TERM; sleep 20"
assert_eq "signal" "$(json "d['jobs'][0]['signal']")" 9
assert_eq "timed out" "$(json "d['jobs'][0]['timed_out']")" true
