#!/bin/sh
# bench-revs.sh: fwc at two git revisions, interleaved, on one generated policy.
#
#   scripts/bench-revs.sh [-g polgen|sitegen] [-n RULES] [-s SEED] [-r RUNS] OLD [NEW]
#
# Builds fwc at OLD and at NEW (default: the working tree) in temporary
# worktrees, writes one policy with internal/genpolicy of NEW, then runs
# RUNS times (default 5), alternating the two binaries so that each pair
# sees the same machine load:
#
#   check      fwc check POLICY
#   translate  fwc translate --to nft -o OUT POLICY
#   iptables   fwc translate --to iptables -o OUT POLICY
#
# and prints, per command and revision, the CPU time of the whole process
# (user+system) and peak RSS as min / median / max, and the ratio NEW/OLD
# of the CPU medians. Both outputs are compared byte for byte: a
# redesign that changes what fwc emits fails here. Needs GNU time at
# /usr/bin/time (Debian package "time"). Run from the repository root.
set -eu
prog=bench-revs.sh
. "$(dirname "$0")/bench-lib.sh"

gen=sitegen n=10000 seed=1 runs=5
while getopts g:n:s:r: opt; do
	case $opt in
	g) gen=$OPTARG ;;
	n) n=$OPTARG ;;
	s) seed=$OPTARG ;;
	r) runs=$OPTARG ;;
	*) sed -n '3p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '3p' "$0" >&2; exit 2; }
old=$1 new=${2:-}
[ -x /usr/bin/time ] || { echo "bench-revs.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

dir=$(mktemp -d)
cleanup() {
	git worktree remove --force "$dir/old-src" 2>/dev/null || true
	[ -z "$new" ] || git worktree remove --force "$dir/new-src" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
git worktree add -q --detach "$dir/old-src" "$old"
(cd "$dir/old-src" && go build -o "$dir/fwc-old" ./cmd/fwc)
if [ -n "$new" ]; then
	git worktree add -q --detach "$dir/new-src" "$new"
	src=$dir/new-src
else
	src=.
fi
(cd "$src" && go build -o "$dir/fwc-new" ./cmd/fwc && go build -o "$dir/genpolicy" ./internal/genpolicy)
"$dir/genpolicy" -gen "$gen" -n "$n" -seed "$seed" >"$dir/policy.fw"

for v in old new; do
	"$dir/fwc-$v" translate --to nft -o "$dir/$v.nft" "$dir/policy.fw"
	"$dir/fwc-$v" translate --to iptables -o "$dir/$v.v4" "$dir/policy.fw"
done
cmp -s "$dir/old.nft" "$dir/new.nft" || { echo "bench-revs.sh: the nft output differs between $old and ${new:-the working tree}" >&2; exit 1; }
cmp -s "$dir/old.v4" "$dir/new.v4" || { echo "bench-revs.sh: the iptables output differs between $old and ${new:-the working tree}" >&2; exit 1; }

echo "generator $gen, n $n, seed $seed: $(wc -l <"$dir/policy.fw") policy lines; $runs runs each, interleaved"
echo "old $(git rev-parse --short "$old"), new ${new:-working tree $(git describe --always --dirty)}; outputs identical"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

i=0
while [ "$i" -lt "$runs" ]; do
	for v in old new; do
		measure "check-$v" "$dir/fwc-$v" check "$dir/policy.fw"
		measure "translate-$v" "$dir/fwc-$v" translate --to nft -o "$dir/out.nft" "$dir/policy.fw"
		measure "iptables-$v" "$dir/fwc-$v" translate --to iptables -o "$dir/out.v4" "$dir/policy.fw"
	done
	i=$((i + 1))
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"


printf '\n%-14s  %-26s  %-24s  %s\n' "command" "cpu s (user+sys) min/med/max" "peak RSS MiB min/med/max" "new/old cpu"
for cmd in check translate iptables; do
	for v in old new; do
		r=
		[ "$v" = new ] && r=$(awk -v a="$(median "$dir/$cmd-new" '$1 + $2')" -v b="$(median "$dir/$cmd-old" '$1 + $2')" 'BEGIN { printf "%.2fx", a / b }')
		printf '%-14s  %-26s  %-24s  %s\n' "$cmd-$v" \
			"$(stats "$dir/$cmd-$v" '$1 + $2' '%.2f')" \
			"$(stats "$dir/$cmd-$v" '$4 / 1024' '%.0f')" "$r"
	done
done
