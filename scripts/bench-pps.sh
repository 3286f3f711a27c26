#!/bin/sh
# bench-pps.sh: packets per second forwarded through a firewall namespace
# under fwc's ruleset, against no ruleset and hand-written peers.
#
#   scripts/bench-pps.sh [-n RULES] [-r RUNS] [-d SECONDS] [-p PREFIX] [-k DIR] [SHAPE...]
#
# Three network namespaces, PREFIX-src, PREFIX-fw and PREFIX-dst (PREFIX
# defaults to fwcpps), joined by veth pairs: the sender in src sends small
# UDP datagrams (internal/udpsend, 64-byte frames, one flow) to an address
# that fw routes to dst, where they are counted on arrival (the interface's
# rx_packets) and dropped (dst does not forward and does not own the
# address). fw takes them in on up0 and sends them out of dn0. The
# datagrams match none of the policy's rules, so every one is evaluated
# against the whole forward chain, whose policy is accept; the policies
# hold no ct state rule, so nothing short-cuts an established flow.
#
# Shapes (RULES rules each, default 10000; default: addr addrport zone):
#
#   addr      saddr A drop, one address per rule
#   addrport  saddr A udp dport P drop, P from 4,000 ports
#   zone      from ZA to ZB saddr A udp dport P drop, 32 zones (z0 is up0,
#             z1 dn0, the others vlanK), so some rules match the interfaces
#   sitegen   internal/sitegen's policy (seed 1), forward policy made accept
#             and its closing catch-all rule left out (see below)
#   polgen    internal/polgen's policy (seed 1), forward policy made accept
#
# Variants, loaded one after the other into fw in every run (interleaved,
# so that each sees the same machine load):
#
#   empty   no ruleset at all (nft flush ruleset)
#   fwc     fwc translate --to nft of the shape's policy
#   linear  one nft rule per policy rule, written by hand (what fwc emitted
#           before it merged runs along several fields); addr..zone only
#   set     the hand-written best: one rule over one set (ip saddr @s,
#           ip saddr . udp dport @s, iifname . oifname . ip saddr . udp
#           dport @s); addr..zone only
#
# Each measurement sends for SECONDS (default 2) and divides the datagrams
# that arrived in dst by the sender's elapsed time. The script prints, per
# shape and variant, packets per second as min / median / max over RUNS
# runs (default 5), and the ratio to empty's rate of the same run (the
# measurements next to each other in time) as min / median / max: on a
# shared machine the rates swing with the load, their ratios much less. Needs root, nft,
# ip and Go. The namespaces are deleted on exit. -k DIR keeps the policies
# and rulesets in DIR.
set -eu
prog=bench-pps.sh

n=10000 runs=5 secs=2 prefix=fwcpps keep=
while getopts n:r:d:p:k: opt; do
	case $opt in
	n) n=$OPTARG ;;
	r) runs=$OPTARG ;;
	d) secs=$OPTARG ;;
	p) prefix=$OPTARG ;;
	k) keep=$OPTARG ;;
	*) sed -n '4p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
shapes=${*:-addr addrport zone}
command -v nft >/dev/null || { echo "$prog: needs nft" >&2; exit 2; }
command -v ip >/dev/null || { echo "$prog: needs ip (iproute2)" >&2; exit 2; }

if [ -n "$keep" ]; then
	mkdir -p "$keep"
	dir=$keep
else
	dir=$(mktemp -d)
fi
src=$prefix-src fw=$prefix-fw dst=$prefix-dst
cleanup() {
	for ns in "$src" "$fw" "$dst"; do ip netns del "$ns" 2>/dev/null || true; done
	[ -n "$keep" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

go build -o "$dir/fwc" ./cmd/fwc
go build -o "$dir/udpsend" ./internal/udpsend
go build -o "$dir/genpolicy" ./internal/genpolicy

# The namespaces: src (eth0 172.16.0.2) -- (up0 172.16.0.1) fw
# (dn0 172.17.0.1) -- (eth0 172.17.0.2) dst; 198.18.0.1 is routed by fw
# to dst, which drops it.
for ns in "$src" "$fw" "$dst"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip -n "$fw" link add up0 type veth peer name eth0 netns "$src"
ip -n "$fw" link add dn0 type veth peer name eth0 netns "$dst"
ip -n "$src" addr add 172.16.0.2/24 dev eth0
ip -n "$fw" addr add 172.16.0.1/24 dev up0
ip -n "$fw" addr add 172.17.0.1/24 dev dn0
ip -n "$dst" addr add 172.17.0.2/24 dev eth0
for l in "$src eth0" "$fw up0" "$fw dn0" "$dst eth0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n "$src" route add default via 172.16.0.1
ip -n "$fw" route add 198.18.0.0/24 via 172.17.0.2
ip netns exec "$fw" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
# Static neighbours: no datagram waits for ARP.
mac() { ip -n "$1" -br link show dev "$2" | awk '{ print $3 }'; }
ip -n "$src" neigh replace 172.16.0.1 lladdr "$(mac "$fw" up0)" dev eth0
ip -n "$fw" neigh replace 172.17.0.2 lladdr "$(mac "$dst" eth0)" dev dn0

# addr4 I: the I-th rule's source address, 10.64.0.0 onwards.
awkaddr='function addr(i) { return "10." (64 + int(i / 65536)) "." (int(i / 256) % 256) "." (i % 256) }
function port(i) { return 1024 + i % 4000 }
function za(i) { return i % 32 }
function zb(i) { return (i % 32 + 1 + int(i / 32) % 31) % 32 }
function ifn(z) { return z == 0 ? "up0" : z == 1 ? "dn0" : "vlan" z }'

# policy SHAPE: the fwc policy; linear SHAPE and set SHAPE: the peers.
policy() {
	case $1 in
	addr | addrport | zone)
		awk -v n="$n" -v shape="$1" "$awkaddr"'
		BEGIN {
			if (shape == "zone") for (z = 0; z < 32; z++) printf "zone z%d {\n\tiface %s\n}\n", z, ifn(z)
			print "table filter {\n\tchain forward policy accept {"
			if (shape != "zone") {
				for (i = 0; i < n; i++) {
					if (shape == "addr") printf "\t\tsaddr %s drop\n", addr(i)
					else printf "\t\tsaddr %s udp dport %d drop\n", addr(i), port(i)
				}
			}
			print "\t}\n}"
			if (shape == "zone") for (i = 0; i < n; i++) printf "from z%d to z%d saddr %s udp dport %d drop\n", za(i), zb(i), addr(i), port(i)
		}'
		;;
	sitegen | polgen)
		"$dir/genpolicy" -gen "$1" -n "$n" -seed 1
		;;
	esac
}
peer() {
	awk -v n="$n" -v shape="$1" -v form="$2" "$awkaddr"'
	BEGIN {
		print "table inet peer {"
		if (form == "set") {
			if (shape == "addr") print "\tset s {\n\t\ttype ipv4_addr"
			else if (shape == "addrport") print "\tset s {\n\t\ttype ipv4_addr . inet_service"
			else print "\tset s {\n\t\ttype ifname . ifname . ipv4_addr . inet_service"
			printf "\t\telements = { "
			for (i = 0; i < n; i++) {
				if (i > 0) printf ",\n\t\t\t"
				if (shape == "addr") printf "%s", addr(i)
				else if (shape == "addrport") printf "%s . %d", addr(i), port(i)
				else printf "\"%s\" . \"%s\" . %s . %d", ifn(za(i)), ifn(zb(i)), addr(i), port(i)
			}
			print " }\n\t}"
		}
		print "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;"
		if (form == "set") {
			if (shape == "addr") print "\t\tip saddr @s drop"
			else if (shape == "addrport") print "\t\tip saddr . udp dport @s drop"
			else print "\t\tiifname . oifname . ip saddr . udp dport @s drop"
		} else {
			for (i = 0; i < n; i++) {
				if (shape == "addr") printf "\t\tip saddr %s drop\n", addr(i)
				else if (shape == "addrport") printf "\t\tip saddr %s udp dport %d drop\n", addr(i), port(i)
				else printf "\t\tiifname \"%s\" oifname \"%s\" ip saddr %s udp dport %d drop\n", ifn(za(i)), ifn(zb(i)), addr(i), port(i)
			}
		}
		print "\t}\n}"
	}'
}

variants=""
for shape in $shapes; do
	policy "$shape" >"$dir/$shape.fw"
	"$dir/fwc" translate --to nft -o "$dir/$shape-fwc.nft" "$dir/$shape.fw"
	case $shape in
	sitegen | polgen)
		# The measure is of packets that crossed the whole forward
		# chain: its policy is made accept, and its rules that hold
		# every packet (sitegen's closing "log then drop") are left out.
		awk '/hook forward/ { sub(/policy drop;/, "policy accept;"); fwd = 1 }
			fwd && /^\t}/ { fwd = 0 }
			fwd && /^\t\t(log|drop|reject|counter)( |$)/ { next }
			{ print }' "$dir/$shape-fwc.nft" >"$dir/$shape-fwc.tmp"
		mv "$dir/$shape-fwc.tmp" "$dir/$shape-fwc.nft"
		variants="$variants $shape/empty $shape/fwc"
		;;
	*)
		peer "$shape" linear >"$dir/$shape-linear.nft"
		peer "$shape" set >"$dir/$shape-set.nft"
		variants="$variants $shape/empty $shape/fwc $shape/linear $shape/set"
		;;
	esac
	echo "$shape: $(grep -c . "$dir/$shape.fw") policy lines, fwc's forward chain $(awk '/chain filter_forward/,/^\t}/' "$dir/$shape-fwc.nft" | grep -c 'comment') rules"
done

rx() { ip netns exec "$dst" cat /sys/class/net/eth0/statistics/rx_packets; }

# measure VARIANT: load it, send, append the rate to $dir/VARIANT.pps.
measure() {
	shape=${1%/*} form=${1#*/}
	ip netns exec "$fw" nft flush ruleset
	[ "$form" = empty ] || ip netns exec "$fw" nft -f "$dir/$shape-$form.nft"
	before=$(rx)
	out=$(ip netns exec "$src" "$dir/udpsend" -to 198.18.0.1:9 -for "${secs}s")
	after=$(rx)
	secs_taken=$(echo "$out" | awk '{ print $4 }')
	echo "$after $before $secs_taken" | awk '{ printf "%.0f\n", ($1 - $2) / $3 }' >>"$dir/$(echo "$1" | tr / -).pps"
}

echo "$(nft --version), kernel $(uname -r), $runs runs of ${secs}s each, interleaved"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for v in $variants; do rm -f "$dir/$(echo "$v" | tr / -).pps"; done
i=0
while [ "$i" -lt "$runs" ]; do
	for v in $variants; do measure "$v"; done
	i=$((i + 1))
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

# mmm: "min / median / max" of the numbers on stdin, in format $1.
mmm() {
	sort -g | awk -v f="$1" '{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf f " / " f " / " f, v[1], m, v[NR] }'
}
printf '\n%-10s %-7s %-28s %s\n' shape variant "pps min / median / max" "per-run ratio to empty, min / median / max"
for v in $variants; do
	f=$dir/$(echo "$v" | tr / -).pps
	e=$dir/${v%/*}-empty.pps
	printf '%-10s %-7s %-28s %s\n' "${v%/*}" "${v#*/}" "$(mmm %d <"$f")" \
		"$(paste "$f" "$e" | awk '{ print $1 / $2 }' | mmm %.3f)"
done
