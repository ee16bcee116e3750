#!/usr/bin/env bash
# test-cli-run.sh: taskpool-run runs real commands and reports how they ended
#
# SPDX-License-Identifier: LGPL-2.1-or-later

source "$(dirname "$0")/cli-lib.sh"

step "commands run through /bin/sh: variables, pipes, redirections; comments are skipped"
cat > jobs <<'EOF'
# a comment, then a blank line

echo $((6 * 7)) > answer
printf 'b\na\n' | sort | tr -d '\n' > sorted
x=hello; echo "$x world" > greeting
EOF
expect_status 0 "$TR" --json jobs
assert_eq "answer" "$(cat answer)" 42
assert_eq "sorted" "$(cat sorted)" ab
assert_eq "greeting" "$(cat greeting)" "hello world"
assert_eq "submitted" "$(json "d['submitted']")" 3
assert_eq "succeeded" "$(json "d['succeeded']")" 3
assert_eq "lines of the jobs" "$(json "[j['line'] for j in d['jobs']]")" "[3, 4, 5]"
assert_eq "exit status in the summary" "$(json "d['exit_status']")" 0

step "--json: one line, the last of stdout; commands come back as read, times to the millisecond"
# Quotes, a backslash, a TAB, a control character, UTF-8 and a byte that is
# not UTF-8 (it comes back as U+FFFD); JSON forbids raw control characters
{
  printf '%s\n' 'echo "quo\"ted" back\\slash'
  printf 'echo "a\tb"\n'
  printf 'echo \001 caf\303\251\n'
  printf 'echo \377 bad\n'
} > awkward
expect_status 0 "$TR" -j1 --json awkward
assert_eq "lines of stdout" "$(wc -l < out)" 5
json_true "[j['command'] for j in d['jobs']] == \
  open('awkward', 'rb').read().decode('utf-8', 'replace').splitlines()"
json_true "all(abs(t * 1000 - round(t * 1000)) < 1e-6 \
  for t in [d['elapsed_s']] + [j['elapsed_s'] for j in d['jobs']])"
json_true "d['elapsed_s'] >= max(j['elapsed_s'] for j in d['jobs'])"

step "one worker runs the commands in input order; their stdout is ours"
expect_status 0 "$TR" -j1 <<< $'echo one\necho two\necho three'
assert_eq "stdout" "$(cat out)" $'one\ntwo\nthree'
assert_grep err "pool fixed-simple, size 1 (min 0, max 4096), queue capacity 0 (no limit)"
assert_grep err "line 2: ok ("
assert_grep err "3 jobs in "

step "exit status 1 when a job fails; every job still runs"
expect_status 1 "$TR" -j2 --json <<< $'true\nfalse\nexit 3\necho still-here'
assert_eq "succeeded" "$(json "d['succeeded']")" 2
assert_eq "failed" "$(json "d['failed']")" 2
assert_eq "exit codes" "$(json "[j['exit_code'] for j in d['jobs']]")" "[0, 1, 3, 0]"
assert_eq "exit status in the summary" "$(json "d['exit_status']")" 1
assert_eq "first line of stdout" "$(head -n1 out)" still-here
assert_grep err "line 2: failed, exit status 1"
assert_grep err "line 3: failed, exit status 3"
assert_grep err "4 jobs in "

step "a command killed by a signal failed"
expect_status 1 "$TR" --json <<< 'kill -KILL $$'
assert_eq "signal" "$(json "d['jobs'][0]['signal']")" 9
assert_eq "exit code" "$(json "d['jobs'][0]['exit_code']")" null
assert_grep err "line 1: failed, killed by signal 9"

step "commands read /dev/null, never the job list"
expect_status 0 "$TR" -j1 --json <<< $'cat\necho after'
assert_eq "first line of stdout" "$(head -n1 out)" after
assert_eq "submitted" "$(json "d['submitted']")" 2

step "FILE “-” is standard input; empty input is no error"
expect_status 0 "$TR" - <<< 'echo dash'
assert_eq "stdout" "$(cat out)" dash
expect_status 0 "$TR" --json < /dev/null
assert_eq "submitted" "$(json "d['submitted']")" 0

step "every bundled kind runs jobs"
for kind in fixed-simple fixed-lifo fixed-priority autoscale-simple autoscale-lifo \
            autoscale-priority; do
  expect_status 0 "$TR" --kind "$kind" --json <<< 'echo ran'
  assert_eq "$kind: stdout" "$(head -n1 out)" ran
  assert_eq "$kind: kind" "$(json "d['kind']")" "\"$kind\""
done

step "--timeout terminates a command that runs too long, and it failed"
start=$SECONDS
expect_status 1 "$TR" -j2 --timeout 0.3 --json <<< $'sleep 20\necho quick'
[ $((SECONDS - start)) -lt 10 ] || fail "--timeout 0.3 did not stop “sleep 20”"
assert_eq "timed out" "$(json "d['timed_out']")" 1
assert_eq "failed" "$(json "d['failed']")" 1
assert_eq "succeeded" "$(json "d['succeeded']")" 1
assert_eq "signal of the timed out job" "$(json "d['jobs'][0]['signal']")" 15
assert_grep err "line 1: failed, timed out after"

step "--halt-on-error starts no more jobs after a failure"
expect_status 1 "$TR" -j1 --halt-on-error --json <<< $'echo before\nfalse\necho after'
assert_eq "first line of stdout" "$(head -n1 out)" before
if grep -qx after out; then
  fail "a job ran after the failure"
fi
assert_eq "not run" "$(json "d['not_run']")" 1
assert_eq "statuses" "$(json "[j['status'] for j in d['jobs']]")" \
  '["succeeded", "failed", "not_run"]'
assert_grep err "line 2 failed: starting no more jobs (--halt-on-error)"

step "on a terminal: a live status line, and no line per successful job"
if command -v script > /dev/null; then
  for i in 1 2 3 4 5 6; do echo "sleep 0.25"; done > slow
  script -qec "$(printf '%q ' "$TR" -j 2 slow)" /dev/null > tty.txt
  grep -q $'\033\\[K' tty.txt || fail "no clear-to-end-of-line in the terminal output"
  assert_grep tty.txt "done "
  assert_grep tty.txt "workers 2"
  assert_grep tty.txt "6 jobs in "
  if grep -q "line 1: ok" tty.txt; then
    fail "a line per job on a terminal"
  fi
else
  echo "# script(1) is missing: terminal mode not checked"
fi

echo "# all passed"
