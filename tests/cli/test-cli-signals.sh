#!/usr/bin/env bash
# test-cli-signals.sh: SIGUSR1/SIGUSR2 scale the pool; SIGINT and SIGTERM stop it
#
# SPDX-License-Identifier: LGPL-2.1-or-later

source "$(dirname "$0")/cli-lib.sh"

step "SIGUSR1 adds a worker, SIGUSR2 retires one"
# Input comes from a FIFO held open here, so the run lasts until we close it
mkfifo input
"$TR" --size 2 --json < input > out 2> err &
pid=$!
BACKGROUND+=("$pid")
exec 3> input
wait_for "the start line" grep -qF "pool fixed-simple, size 2" err
kill -USR1 "$pid"
wait_for "the first SIGUSR1" grep -qF "SIGUSR1: size 3 (was 2)" err
kill -USR1 "$pid"
wait_for "the second SIGUSR1" grep -qF "SIGUSR1: size 4 (was 3)" err
kill -USR2 "$pid"
wait_for "SIGUSR2" grep -qF "SIGUSR2: size 3 (was 4)" err

step "… and the new size holds: three jobs run at once, not four"
for i in 1 2 3 4; do
  echo "touch started.$i; $WAIT_FOR_GO" >&3
done
wait_for "three jobs running" test -e started.1 -a -e started.2 -a -e started.3
sleep 0.2  # a fourth worker would start job 4 now
[ ! -e started.4 ] || fail "a fourth job started on a pool of size 3"
touch go
exec 3>&-
status=0
wait "$pid" || status=$?
assert_eq "exit status" "$status" 0
assert_eq "final size" "$(json "d['size']")" 3
assert_eq "peak running" "$(json "d['peak_running']")" 3
assert_eq "peak size" "$(json "d['peak_size']")" 4
assert_eq "succeeded" "$(json "d['succeeded']")" 4

step "SIGINT terminates the running jobs, runs no queued one, prints the summary, exits 130"
cat > jobs <<'EOF'
echo $$ > pgid.1; exec sleep 30
echo $$ > pgid.2; sleep 30; echo never
echo queued 1
echo queued 2
echo queued 3
EOF
"$TR" --size 2 --json jobs > out 2> err &
pid=$!
BACKGROUND+=("$pid")
wait_for "two jobs running" test -s pgid.1 -a -s pgid.2
kill -INT "$pid"
start=$SECONDS
status=0
wait "$pid" || status=$?
assert_eq "exit status" "$status" 130
[ $((SECONDS - start)) -lt 5 ] || fail "SIGINT took $((SECONDS - start)) s to stop the run"
assert_eq "cancelled" "$(json "d['cancelled']")" 2
assert_eq "not run" "$(json "d['not_run']")" 3
assert_eq "statuses" "$(json "[j['status'] for j in d['jobs']]")" \
  '["cancelled", "cancelled", "not_run", "not_run", "not_run"]'
assert_eq "interrupted" "$(json "d['interrupted']")" true
assert_eq "exit status in the summary" "$(json "d['exit_status']")" 130
assert_grep err "interrupted by SIGINT: terminating 2 running jobs, 3 queued will not run"
assert_grep err "5 jobs in "
assert_grep err "0 succeeded, 0 failed, 2 cancelled, 3 not run"
if grep -qx -e never -e "queued 1" out; then
  fail "a job went on after SIGINT"
fi
# Each job is a process group: the sleep started by the second one is gone too
wait_for "the first job's processes to end" group_gone "$(cat pgid.1)"
wait_for "the second job's processes to end" group_gone "$(cat pgid.2)"

step "a second SIGINT kills what is left and exits at once"
echo "trap '' TERM; echo \$\$ > pgid.stubborn; while :; do sleep 0.1; done" > stubborn
"$TR" stubborn > out 2> err &
pid=$!
BACKGROUND+=("$pid")
wait_for "the stubborn job" test -s pgid.stubborn
kill -INT "$pid"
wait_for "the interrupt message" grep -qF "interrupted by SIGINT" err
kill -INT "$pid"
status=0
wait "$pid" || status=$?
assert_eq "exit status" "$status" 130
assert_grep err "SIGINT again: killed 1 running job, exiting at once"
if grep -qF "1 job in " err; then
  fail "a summary after the second SIGINT: the run waited for its jobs"
fi
wait_for "the stubborn job's processes to end" group_gone "$(cat pgid.stubborn)"

step "SIGTERM stops the run like SIGINT, with exit status 143"
"$TR" --json <<< 'echo $$ > pgid.term; exec sleep 30' > out 2> err &
pid=$!
BACKGROUND+=("$pid")
wait_for "the job" test -s pgid.term
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
assert_eq "exit status" "$status" 143
assert_eq "cancelled" "$(json "d['cancelled']")" 1

echo "# all passed"
