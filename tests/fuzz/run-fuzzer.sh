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
trap 'rm -rf "$work"' EXIT

# With file arguments, libFuzzer runs each file -runs times: give it none
found=$(find "$regressions" -type f ! -name README.md | sort)
if [ -n "$found" ]; then
  # shellcheck disable=SC2086 # the files of the tree have no spaces in their names
  "$fuzzer" -timeout=10 $found
fi

"$fuzzer" "$@" "$work" "$corpus"
