#!/usr/bin/env bash
# test-cli-usage.sh: bad options and configuration exit 2 with a clear message
#
# SPDX-License-Identifier: LGPL-2.1-or-later

source "$(dirname "$0")/cli-lib.sh"

# check_usage MESSAGE ARGUMENT…: exit status 2, MESSAGE on stderr, nothing run
check_usage () {
  local message=$1
  shift
  expect_status 2 "$TR" "$@" <<< 'touch ran'
  assert_grep err "$message"
  assert_grep err "Try “taskpool-run --help” for more information."
  [ ! -e ran ] || fail "“$*” ran a job"
  [ ! -s out ] || fail "“$*” wrote to stdout"
}

step "bad options"
check_usage "Unknown option --nosuch" --nosuch
check_usage "--size: “abc” is not a whole number from 0 to 4096" --size abc
check_usage "--size: “-1” is not a whole number from 0 to 4096" --size -1
check_usage "--size: “-1” is not a whole number from 0 to 4096" --size=-1
check_usage "-j: “1.5” is not a whole number from 0 to 4096" -j1.5
check_usage "--size: “5000” is not a whole number from 0 to 4096" --size 5000
check_usage "--max-size: “0” is not a whole number from 1 to 4096" --max-size 0
check_usage "--queue-capacity: “many” is not a whole number from 0 to 2147483647" \
  --queue-capacity many
check_usage "--timeout: “soon” is not a number of seconds greater than 0" --timeout soon
check_usage "--timeout: “-2” is not a number of seconds greater than 0" --timeout -2
check_usage "expected at most one FILE, got 2 (“a”, “b”…)" a b

step "a kind no plugin provides names the missing strategy and the available kinds"
check_usage "No scaling strategy “nosuch”" --kind nosuch-simple
assert_grep err "available kinds: autoscale-fair, autoscale-lifo, autoscale-priority, autoscale-simple"
check_usage "No queue strategy “nosuch”" --kind fixed-nosuch
check_usage "plugin path /nowhere/plugins:" --kind nosuch-simple --plugin-path /nowhere/plugins

step "relative plugin folders: the command line's from here, the --config file's from its folder"
mkdir -p conf/plugins
printf '[jobs]\nkind=nosuch-simple\nplugin-path=plugins\n' > conf/rel.ini
check_usage "plugin path $PWD/conf/plugins:" --config conf/rel.ini --pool jobs
check_usage "plugin path $PWD/conf/plugins:$PWD/other:" \
  --config conf/rel.ini --pool jobs --plugin-path conf/plugins:other

step "sizes that contradict each other"
check_usage "min-size 5 is greater than max-size 2" --min-size 5 --max-size 2
check_usage "Invalid size 99 for “command line”: expected a size from min-size 3 to max-size 8" \
  --kind autoscale-simple --size 99

step "a missing FILE"
check_usage "cannot read “missing.txt”: No such file or directory" missing.txt
check_usage "cannot read “.”: Is a directory" .

step "bad --config and --pool"
printf '[jobs]\ncolour=blue\n' > bad-key.ini
printf '[jobs]\nsize=-3\n' > bad-value.ini
printf 'not a keyfile\n' > broken.ini
printf '[jobs]\nkind=fixed-lifo\nsize=1\n' > good.ini
check_usage "--pool “jobs” needs --config FILE" --pool jobs
check_usage "--config “good.ini” needs --pool GROUP" --config good.ini
check_usage "--config: cannot read “nope.ini”: No such file or directory" --config nope.ini --pool x
check_usage "--config: cannot read “broken.ini”: Key file contains line “not a keyfile”" \
  --config broken.ini --pool jobs
check_usage "--pool: “good.ini” has no group “other”; its groups are: jobs" \
  --config good.ini --pool other
check_usage "--config “bad-key.ini”: Unknown key “colour” in group “jobs”" \
  --config bad-key.ini --pool jobs
assert_grep err "valid keys are executor, gates, held, kind, max-size, min-size, plugin-path, queue-capacity, queue-timeout-ms, run-timeout-ms, size, and keys that begin with “X-”"
check_usage "--config “bad-value.ini”: Invalid value “-3” for key “size” in group “jobs”" \
  --config bad-value.ini --pool jobs

step "a good --config; options on the command line replace its values"
expect_status 0 "$TR" --config good.ini --pool jobs --json <<< $'sleep 0.3; echo first\necho a\necho b'
assert_eq "order on one LIFO worker" "$(head -n 3 out)" $'first\nb\na'
assert_eq "kind" "$(json "d['kind']")" '"fixed-lifo"'
assert_eq "size" "$(json "d['size']")" 1
expect_status 0 "$TR" -c good.ini -p jobs --size 2 --kind fixed-simple --json < /dev/null
assert_eq "size from --size" "$(json "d['size']")" 2
assert_eq "kind from --kind" "$(json "d['kind']")" '"fixed-simple"'

step "--version prints the versions of taskpool-run, libtaskpool and GLib; it runs nothing"
version=${TASKPOOL_VERSION:?the test needs TASKPOOL_VERSION: the version of the project}
expect_status 0 env TASKPOOL_PLUGIN_PATH=/nowhere "$TR" --version <<< 'touch ran'
assert_eq "first line" "$(sed -n 1p out)" "taskpool-run $version"
assert_eq "second line" "$(sed -n 2p out)" "libtaskpool $version"
grep -qxE 'GLib [0-9]+\.[0-9]+\.[0-9]+' <(sed -n 3p out) || fail "no GLib version: $(cat out)"
assert_eq "lines" "$(wc -l < out)" 3
[ ! -s err ] || fail "--version wrote to stderr: $(cat err)"
[ ! -e ran ] || fail "--version ran a job"
expect_status 0 "$TR" --size 3 --version missing-file <<< 'touch ran'
assert_eq "--version with other arguments" "$(sed -n 1p out)" "taskpool-run $version"
[ ! -e ran ] || fail "--version ran a job"

step "--help reads well and exits 0"
expect_status 0 "$TR" --help
for text in "taskpool-run [OPTION…] [FILE]" "--keep-order" "--weights" "--config=FILE" \
            "SIGUSR1 adds a worker" "Exit status:" "Examples:" "--version"; do
  assert_grep out "$text"
done

echo "# all passed"
