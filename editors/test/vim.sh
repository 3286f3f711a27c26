#!/usr/bin/env bash
# Loads editors/vim's syntax on every example policy in vim (Ex mode, no
# user configuration) and checks that the file type is detected, that no
# error is raised, and that a few items get their syntax groups.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail=0
check() { # file line col group
	local out
	out=$(vim -es -N -u NONE -i NONE --cmd 'set rtp^=editors/vim' \
		-c 'filetype on' -c 'syntax on' -c "edit $1" \
		-c "if v:errmsg != '' | cquit 2 | endif" \
		-c "if &filetype != 'fwc' | cquit 3 | endif" \
		-c "let g:got = synIDattr(synID($2, $3, 1), 'name')" \
		-c "if g:got != '$4' | call writefile([g:got], '/dev/stderr') | cquit 4 | endif" \
		-c 'qa!' 2>&1) || { echo "vim: $1:$2:$3: want $4: exit $? $out"; fail=1; }
}
for f in $(find examples -name '*.fw' | sort); do
	check "$f" 1 1 fwcComment # every example starts with a comment
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'from wan to self saddr 203.0.113.0/24 tcp dport 22 log prefix "ssh: " accept\n' >"$tmp/t.fw"
check "$tmp/t.fw" 1 1 fwcDeclaration
check "$tmp/t.fw" 1 18 fwcKeyword
check "$tmp/t.fw" 1 24 fwcIPv4
check "$tmp/t.fw" 1 49 fwcNumber
check "$tmp/t.fw" 1 67 fwcString
check "$tmp/t.fw" 1 75 fwcVerdict
[[ $fail == 0 ]] && echo "vim syntax: ok"
exit $fail
