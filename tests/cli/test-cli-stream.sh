#!/usr/bin/env bash
# test-cli-stream.sh: with a queue capacity, input is read only as fast as jobs get in
#
# SPDX-License-Identifier: LGPL-2.1-or-later

source "$(dirname "$0")/cli-lib.sh"

# The first job holds the only worker until “go” exists; then come 200 lines
# of about 4 KiB each, 800 KiB in all, while a pipe buffers 64 KiB. The
# producer counts in “written” the lines the pipe took.
pad=$(printf '%04000d' 0)
producer () {
  echo "$WAIT_FOR_GO"
  for i in $(seq 1 200); do
    printf 'true # %s\n' "$pad"
    echo "$i" > written.tmp
    mv written.tmp written
  done
}

lines_written () {
  cat written 2>/dev/null || echo 0
}

all_lines_written () {
  [ "$(lines_written)" = 200 ]
}

step "with --queue-capacity 2, reading stops while the queue is full"
producer | "$TR" --size 1 --queue-capacity 2 --json > out 2> err &
pid=$!
BACKGROUND+=("$pid")
wait_for "the producer to start" test -e written
sleep 0.5  # time enough for a reader without back-pressure to take everything
n=$(lines_written)
[ "$n" -lt 100 ] || fail "$n of 200 lines were read while the queue was full"
echo "# $n of 200 lines written while the first job ran"
touch go
status=0
wait "$pid" || status=$?
assert_eq "exit status" "$status" 0
assert_eq "submitted" "$(json "d['submitted']")" 201
assert_eq "succeeded" "$(json "d['succeeded']")" 201

step "without a capacity, the whole input is read while the first job still runs"
rm -f go written
producer | "$TR" --size 1 --json > out 2> err &
pid=$!
BACKGROUND+=("$pid")
wait_for "all 200 lines to be read" all_lines_written
[ ! -e go ] || fail "the first job ended early"
touch go
status=0
wait "$pid" || status=$?
assert_eq "exit status" "$status" 0
assert_eq "submitted" "$(json "d['submitted']")" 201

echo "# all passed"
