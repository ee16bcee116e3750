#!/usr/bin/env bash
# test-cli-args.sh: -- COMMAND runs COMMAND once per line, the line as one argument
#
# SPDX-License-Identifier: LGPL-2.1-or-later

source "$(dirname "$0")/cli-lib.sh"

# show_args prints each of its arguments in brackets, one per line
cat > show_args <<'EOF'
#!/bin/sh
for arg in "$@"; do printf '[%s]\n' "$arg"; done
EOF
chmod +x show_args

step "each line is one argument, in place of {}, whatever it holds"
# Spaces, both quotes, a backslash, a TAB, a leading dash, UTF-8
{
  printf '%s\n' 'plain' 'two  spaces ' "it's" '"double"' 'back\slash' '-n' 'café'
  printf 'tab\there\n'
} > args
expect_status 0 "$TR" -j 3 --keep-order --json args -- ./show_args {}
{
  while IFS= read -r line; do printf '[%s]\n' "$line"; done < args
} > expected
assert_eq "stdout" "$(head -n -1 out)" "$(cat expected)"
assert_eq "submitted" "$(json "d['submitted']")" 8
assert_eq "succeeded" "$(json "d['succeeded']")" 8

step "no line can inject shell syntax: substitutions, separators, globs and redirections stay text"
cat > attacks <<'EOF'
$(touch injected.1)
`touch injected.2`
; touch injected.3
&& touch injected.4
| touch injected.5
> injected.6
' ; touch injected.7 ; '
" ; touch injected.8 ; "
'$(touch injected.9)'
\'; touch injected.10; \'
*
~
$HOME
${PATH}
{}
if
!
#not-a-comment
EOF
expect_status 0 "$TR" -j 4 --keep-order --json attacks -- ./show_args {}
{
  while IFS= read -r line; do printf '[%s]\n' "$line"; done < attacks
} > expected
assert_eq "stdout" "$(head -n -1 out)" "$(cat expected)"
if compgen -G 'injected*' > /dev/null; then
  fail "a line ran as shell syntax: $(ls injected*)"
fi
assert_eq "succeeded" "$(json "d['succeeded']")" 18

step "the same with the argument inside a word, several times, and first"
printf '%s\n' '; touch injected.11' 'x y' > inner
expect_status 0 "$TR" -j1 --json inner -- ./show_args pre{}post {} '{}{}'
assert_eq "stdout" "$(head -n -1 out)" \
  $'[pre; touch injected.11post]\n[; touch injected.11]\n[; touch injected.11; touch injected.11]\n[prex ypost]\n[x y]\n[x yx y]'
[ ! -e injected.11 ] || fail "a line ran as shell syntax inside a word"
printf '%s\n' './show_args' 'touch injected.12; ./show_args' > first
expect_status 1 "$TR" -j1 --json first -- {} first-word
assert_eq "the command from the line" "$(head -n 1 out)" "[first-word]"
assert_eq "failed" "$(json "d['failed']")" 1
assert_eq "exit code of a command that is not there" "$(json "d['jobs'][1]['exit_code']")" 127
[ ! -e injected.12 ] || fail "a line in the place of the command ran as shell syntax"

step "without {} the line comes last; the JSON report and messages show the command as run"
printf '%s\n' 'a b' 'c' > last
expect_status 0 "$TR" -j1 --json last -- ./show_args 'x y' --flag=1
assert_eq "stdout" "$(head -n -1 out)" $'[x y]\n[--flag=1]\n[a b]\n[x y]\n[--flag=1]\n[c]'
assert_eq "commands" "$(json "[j['command'] for j in d['jobs']]")" \
  "[\"./show_args 'x y' --flag=1 'a b'\", \"./show_args 'x y' --flag=1 c\"]"
assert_grep err "line 1: ok ("
assert_grep err "): ./show_args 'x y' --flag=1 'a b'"

step "only empty lines are skipped; line numbers count them"
printf '%s\n' 'one' '' '  ' '# two' > sparse
expect_status 0 "$TR" -j1 --json sparse -- ./show_args {}
assert_eq "stdout" "$(head -n -1 out)" $'[one]\n[  ]\n[# two]'
assert_eq "lines" "$(json "[j['line'] for j in d['jobs']]")" "[1, 3, 4]"

step "FILE before --; a failing command fails its job"
printf '%s\n' 0 3 0 > codes
expect_status 1 "$TR" -j1 --json codes -- sh -c 'exit "$1"' sh {}
assert_eq "exit codes" "$(json "[j['exit_code'] for j in d['jobs']]")" "[0, 3, 0]"

step "--weights: lines are WEIGHT<TAB>ARGUMENT"
printf '%s\t%s\n' 0 first 5 w5 1 'w 1' -2 'w-2' > weighted
expect_status 0 "$TR" --size 1 --weights --json weighted -- \
  sh -c 'case $1 in first) sleep 0.3;; esac; printf "[%s]\n" "$1"' sh {}
assert_eq "order" "$(head -n -1 out)" $'[first]\n[w-2]\n[w 1]\n[w5]'
expect_status 2 "$TR" --weights -- ./show_args {} <<< 'no tab'
assert_grep err "line 1: no TAB in “no tab”: --weights expects WEIGHT<TAB>ARGUMENT"
expect_status 2 "$TR" --weights -- ./show_args {} <<< $'7\t'
assert_grep err "line 1: no argument after the weight 7"

step "nothing after --: lines are commands, as without --"
expect_status 0 "$TR" -j1 --json -- <<< 'echo as-before'
assert_eq "stdout" "$(head -n 1 out)" "as-before"
assert_eq "command" "$(json "d['jobs'][0]['command']")" '"echo as-before"'

step "words after -- are not options, even those that look like some"
expect_status 0 "$TR" -j1 -- ./show_args -j8 --json -- {} <<< 'arg'
assert_eq "stdout" "$(cat out)" $'[-j8]\n[--json]\n[--]\n[arg]'

echo "# all passed"
