package spacetest

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Generate writes a policy of about n rules in the line format, for
// benchmarks: an input chain with the usual guards (conntrack, loopback,
// anti-spoofing per interface), then rules mixing
// single addresses and /24s, ports and port ranges, named sets of addresses
// and ports, interfaces, and jumps into user chains of a dozen rules each.
// The same seed gives the same policy.
func Generate(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 42))
	var b strings.Builder
	addr := func() string {
		return fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256))
	}
	net24 := func() string { return fmt.Sprintf("10.%d.%d.0/24", rng.IntN(256), rng.IntN(256)) }
	nsets := n/200 + 1
	for i := range nsets {
		var els []string
		for range 20 {
			els = append(els, addr())
		}
		fmt.Fprintf(&b, "set hosts%d ipv4_addr { %s }\n", i, strings.Join(els, ", "))
		var ports []string
		for range 8 {
			ports = append(ports, fmt.Sprint(1+rng.IntN(65535)))
		}
		fmt.Fprintf(&b, "set ports%d port { %s }\n", i, strings.Join(ports, ", "))
	}
	verdict := func() string { return []string{"accept", "accept", "drop", "reject"}[rng.IntN(4)] }
	var user strings.Builder
	b.WriteString("chain input hook input policy drop\n")
	b.WriteString("  ct state established,related accept\n  iif lo accept\n  ct state invalid drop\n")
	for i := range 8 {
		fmt.Fprintf(&b, "  iif eth%d saddr != 10.%d.0.0/16 drop\n", i, 32*i)
	}
	written, chains := 0, 0
	for written < n {
		var r string
		switch k := rng.IntN(20); {
		case k < 7:
			r = fmt.Sprintf("saddr %s proto tcp dport %d %s", addr(), 1+rng.IntN(65535), verdict())
		case k < 10:
			lo := 1 + rng.IntN(60000)
			r = fmt.Sprintf("daddr %s proto udp dport %d-%d %s", net24(), lo, lo+rng.IntN(100), verdict())
		case k < 12:
			r = fmt.Sprintf("saddr @hosts%d proto tcp dport @ports%d %s", rng.IntN(nsets), rng.IntN(nsets), verdict())
		case k < 13:
			lo := 1 + rng.IntN(60000)
			r = fmt.Sprintf("saddr %s proto tcp dport %d-%d %s", net24(), lo, lo+rng.IntN(1000), verdict())
		case k < 14:
			r = fmt.Sprintf("proto tcp dport %d saddr %s %s", 1+rng.IntN(1024), net24(), verdict())
		case k < 15:
			r = fmt.Sprintf("saddr %s daddr %s proto tcp dport %d %s", net24(), addr(), 1+rng.IntN(65535), verdict())
		case k < 16:
			name := fmt.Sprintf("u%d", chains)
			chains++
			b16 := rng.IntN(256)
			r = fmt.Sprintf("saddr 10.%d.0.0/16 jump %s", b16, name)
			fmt.Fprintf(&user, "chain %s\n", name)
			for range 12 {
				fmt.Fprintf(&user, "  saddr 10.%d.%d.%d proto tcp dport %d %s\n", b16, rng.IntN(256), rng.IntN(256), 1+rng.IntN(65535), verdict())
				written++
			}
			user.WriteString("  proto udp return\n")
			written++
		default:
			r = fmt.Sprintf("saddr %s daddr %s %s", addr(), addr(), verdict())
		}
		fmt.Fprintf(&b, "  %s\n", r)
		written++
	}
	b.WriteString(user.String())
	return b.String()
}
