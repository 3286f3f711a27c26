#!/bin/sh
# bench-cli.sh: fwc's commands against nft's validator on a generated policy.
#
#   scripts/bench-cli.sh [-g polgen|sitegen] [-n RULES] [-s SEED] [-r RUNS] [-k DIR]
#
# Writes the policy (internal/genpolicy), translates it to nft once, then
# runs, interleaved so that each sees the same machine load, RUNS times
# (default 5):
#
#   check      fwc check POLICY
#   nft-c      nft -c -f POLICY.nft     (fwc's own nft output, validated by
#                                        the kernel in a fresh network
#                                        namespace, nothing committed)
#   translate  fwc translate --to nft -o OUT POLICY
#
# and prints, per command, the CPU time of the whole process (user+system,
# the figure to compare), wall time and peak RSS as min / median / max, and
# the ratio of the medians of check and nft-c. Times come from GNU time
# (/usr/bin/time -f; Debian/Ubuntu package "time"). nft -c needs root (for
# unshare --net). -k DIR keeps the policy and outputs in DIR.
#
# Run from the repository root. The load average is printed before and
# after: on a shared machine, compare the medians of one run, not figures
# taken at different times.
set -eu
prog=bench-cli.sh
. "$(dirname "$0")/bench-lib.sh"

gen=sitegen n=10000 seed=1 runs=5 keep=
while getopts g:n:s:r:k: opt; do
	case $opt in
	g) gen=$OPTARG ;;
	n) n=$OPTARG ;;
	s) seed=$OPTARG ;;
	r) runs=$OPTARG ;;
	k) keep=$OPTARG ;;
	*) sed -n '3p' "$0" >&2; exit 2 ;;
	esac
done
[ -x /usr/bin/time ] || { echo "bench-cli.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }
command -v nft >/dev/null || { echo "bench-cli.sh: needs nft" >&2; exit 2; }
command -v unshare >/dev/null || { echo "bench-cli.sh: needs unshare (util-linux)" >&2; exit 2; }

if [ -n "$keep" ]; then
	mkdir -p "$keep"
	dir=$keep
else
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
fi
go build -o "$dir/fwc" ./cmd/fwc
go build -o "$dir/genpolicy" ./internal/genpolicy
"$dir/genpolicy" -gen "$gen" -n "$n" -seed "$seed" >"$dir/policy.fw"
"$dir/fwc" translate --to nft -o "$dir/policy.nft" "$dir/policy.fw"
# A policy with errors would measure nothing: stop on any.
"$dir/fwc" check "$dir/policy.fw" >/dev/null 2>&1 || { echo "bench-cli.sh: fwc check fails on the generated policy" >&2; exit 1; }

echo "generator $gen, n $n, seed $seed: $(wc -l <"$dir/policy.fw") policy lines, $(wc -l <"$dir/policy.nft") nft lines; $runs runs each, interleaved"
echo "fwc $(git describe --always --dirty 2>/dev/null || echo '?'), $(nft --version)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"


rm -f "$dir/check" "$dir/nft-c" "$dir/translate"
i=0
while [ "$i" -lt "$runs" ]; do
	measure check "$dir/fwc" check "$dir/policy.fw"
	measure nft-c unshare --net nft -c -f "$dir/policy.nft"
	measure translate "$dir/fwc" translate --to nft -o "$dir/out.nft" "$dir/policy.fw"
	i=$((i + 1))
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"


printf '\n%-10s  %-26s  %-26s  %s\n' "command" "cpu s (user+sys) min/med/max" "wall s min/med/max" "peak RSS MiB min/med/max"
for name in check nft-c translate; do
	printf '%-10s  %-26s  %-26s  %s\n' "$name" \
		"$(stats "$dir/$name" '$1 + $2' '%.2f')" \
		"$(stats "$dir/$name" '$3' '%.2f')" \
		"$(stats "$dir/$name" '$4 / 1024' '%.0f')"
done
c=$(median "$dir/check" '$1 + $2')
v=$(median "$dir/nft-c" '$1 + $2')
w=$(median "$dir/check" '$3')
x=$(median "$dir/nft-c" '$3')
awk -v c="$c" -v v="$v" -v w="$w" -v x="$x" 'BEGIN { printf "\nfwc check / nft -c -f, medians: cpu %.2fx, wall %.2fx\n", c / v, w / x }'
