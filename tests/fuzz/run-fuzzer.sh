#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# run-fuzzer.sh FUZZER CORPUS REGRESSIONS [LIBFUZZER-FLAGS…]
#
# Runs FUZZER once over each file of REGRESSIONS, then fuzzes from the seed
# CORPUS with the flags given. libFuzzer writes the inputs it finds into its
# first corpus folder: that is a temporary folder, so the source tree stays
# untouched. A crashing input is saved as crash-* in the working folder.
set -eu

fuzzer=$1 corpus=$2 regressions=$3
shift 3
case $fuzzer in */*) ;; *) fuzzer=./$fuzzer ;; esac

work=$(mktemp -d)
# The target's plugin folders, here rather than in a temporary folder that
# may be noexec; removed even when the target stops without exiting
TP_FUZZ_SCRATCH_PARENT=$(mktemp -d "$PWD/fuzz-scratch.XXXXXX")
export TP_FUZZ_SCRATCH_PARENT
trap 'rm -rf "$work" "$TP_FUZZ_SCRATCH_PARENT"' EXIT

# libFuzzer's own exit status for a bug is 77, which meson takes for a
# skipped test; and the target changes folder, so artifacts go here by name
flags="-error_exitcode=1 -artifact_prefix=$PWD/"

# With file arguments, libFuzzer runs each file -runs times: give it none
found=$(find "$regressions" -type f ! -name README.md | sort)
if [ -n "$found" ]; then
  # shellcheck disable=SC2086 # the files of the tree have no spaces in their names
  "$fuzzer" $flags -timeout=10 $found
fi

# shellcheck disable=SC2086
"$fuzzer" $flags "$@" "$work" "$corpus"
