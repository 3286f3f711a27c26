// Package polgen generates large, realistic fwc policies for benchmarks:
// zones, services and sets declared once, then n rules mixing zone-level
// rules and chain rules over addresses, prefixes, ports, services and set
// lookups. The output is deterministic for a given n and seed.
package polgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Policy returns the source of a policy with n rules.
func Policy(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	var b strings.Builder
	b.WriteString(`zone wan { iface eth0 }
zone lan { iface eth1; net 10.0.0.0/8, fd00::/48 }
zone dmz { iface eth2; net 172.16.0.0/16, fd01::/48 }
service web = tcp/{80, 443}
service dns = udp/53, tcp/53
service ssh = tcp/22
set blocked : ipv4_net { elements { 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 } }
set admin_ports : port { elements { 22, 2222, 8022 } }
table filter {
	chain input policy drop {
		iif lo accept
		ct state established,related accept
		ct state invalid drop
		tcp dport 22 accept
		icmpv6 type nd-neighbor-solicit, nd-neighbor-advert accept
`)
	chainRules := n / 2
	for i := 0; i < chainRules; i++ {
		b.WriteString("\t\t")
		b.WriteString(rule(r, i))
		b.WriteByte('\n')
	}
	b.WriteString("\t}\n}\n")
	zones := []string{"wan", "lan", "dmz", "any"}
	for i := chainRules; i < n; i++ {
		from := zones[r.IntN(len(zones))]
		to := zones[r.IntN(len(zones))]
		body := rule(r, i)
		// The addresses are drawn at random, mostly outside lan's and
		// dmz's networks: "from lan ... saddr X" with X outside lan can
		// match no packet (the checker refuses it, FW1103), so such a
		// rule comes from wan, which has no networks, instead.
		if nets[from] && strings.Contains(body, "saddr") {
			from = "wan"
		}
		if nets[to] && strings.Contains(body, "daddr") {
			to = "wan"
		}
		if from == to {
			to = "self"
		}
		fmt.Fprintf(&b, "from %s to %s %s\n", from, to, body)
	}
	b.WriteString("policy any -> any drop\n")
	return []byte(b.String())
}

// nets are the zones with networks.
var nets = map[string]bool{"lan": true, "dmz": true}

func rule(r *rand.Rand, i int) string {
	verdicts := []string{"accept", "drop", "reject", "accept", "drop"}
	v := verdicts[r.IntN(len(verdicts))]
	a, bb, c := 10+r.IntN(200), r.IntN(256), r.IntN(256)
	switch r.IntN(8) {
	case 0:
		return fmt.Sprintf("saddr %d.%d.%d.%d tcp dport %d %s", a, bb, c, 1+r.IntN(254), 1+r.IntN(65000), v)
	case 1:
		return fmt.Sprintf("saddr %d.%d.%d.0/24 udp dport %d-%d %s", a, bb, c, 1000+r.IntN(100), 2000+r.IntN(100), v)
	case 2:
		return fmt.Sprintf("daddr %d.%d.%d.%d service web %s", a, bb, c, 1+r.IntN(254), v)
	case 3:
		return fmt.Sprintf("saddr @blocked log prefix \"blk%d: \" drop", i%1000)
	case 4:
		return fmt.Sprintf("tcp dport @admin_ports saddr %d.%d.0.0/16 %s", a, bb, v)
	case 5:
		return fmt.Sprintf("saddr fd00:%x::/64 tcp dport %d %s", r.IntN(65536), 1+r.IntN(65000), v)
	case 6:
		return fmt.Sprintf("tcp dport != 22, 80, 443 saddr %d.%d.%d.%d ct state new %s", a, bb, c, 1+r.IntN(254), v)
	}
	return fmt.Sprintf("saddr %d.%d.%d.%d-%d.%d.%d.%d service dns %s", a, bb, c, 1, a, bb, c, 100, v)
}
