#!/usr/bin/env bash
# test-cli-order.sh: --keep-order, priorities and queue orders on one worker
#
# SPDX-License-Identifier: LGPL-2.1-or-later

source "$(dirname "$0")/cli-lib.sh"

step "--keep-order prints each job's output in one piece, in input order"
# Durations make the jobs end in another order: third, second, first…, and
# the a/b jobs interleave their lines without --keep-order.
cat > jobs <<'EOF'
sleep 0.4; echo first
echo second
sleep 0.2; echo third
echo a1; sleep 0.3; echo a2
sleep 0.1; echo b1 >&2; sleep 0.3; echo b2
EOF
expect_status 0 "$TR" -j 5 --keep-order jobs
assert_eq "stdout" "$(cat out)" $'first\nsecond\nthird\na1\na2\nb1\nb2'

step "--keep-order keeps the output of a failed job, and the order"
expect_status 1 "$TR" -j 3 -k <<< $'sleep 0.3; echo x; exit 4\necho y'
assert_eq "stdout" "$(cat out)" $'x\ny'

step "--weights on one worker: the smallest weight first, ties in input order"
# The first job holds the only worker while the others queue
printf '%s\t%s\n' 0 'sleep 0.3; echo first' 5 'echo w5' 1 'echo w1a' 3 'echo w3' \
  1 'echo w1b' -2 'echo w-2' > weighted
expect_status 0 "$TR" --size 1 --weights --json weighted
assert_eq "order" "$(head -n 6 out)" $'first\nw-2\nw1a\nw1b\nw3\nw5'
assert_eq "kind --weights defaults to" "$(json "d['kind']")" '"fixed-priority"'

step "fixed-lifo on one worker runs the newest first"
expect_status 0 "$TR" -j1 --kind fixed-lifo <<< $'sleep 0.3; echo first\necho a\necho b\necho c'
assert_eq "order" "$(cat out)" $'first\nc\nb\na'

step "fixed-simple on one worker runs in input order"
expect_status 0 "$TR" -j1 --kind fixed-simple <<< $'sleep 0.3; echo first\necho a\necho b\necho c'
assert_eq "order" "$(cat out)" $'first\na\nb\nc'

step "a line that is not WEIGHT<TAB>COMMAND is an input error: exit 2"
expect_status 2 "$TR" --weights <<< $'0\techo ok\nabc\techo x'
assert_grep err "line 2: “abc” is not a weight: --weights expects WEIGHT<TAB>COMMAND"
expect_status 2 "$TR" --weights <<< 'echo no tab'
assert_grep err "line 1: no TAB in “echo no tab”"
expect_status 2 "$TR" --weights <<< $'7\t  '
assert_grep err "line 1: no command after the weight 7"

echo "# all passed"
