package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// generate writes a policy of about n rules, the packet-space passes'
// own benchmark input (internal/polgen is the second, independent one): an
// input chain with the usual guards (conntrack, loopback, anti-spoofing per
// interface), then rules mixing single addresses and /24s, ports and port
// ranges, named sets of addresses and ports, and jumps into user chains of
// a dozen rules each. The same seed gives the same policy.
func generate(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 42))
	var b strings.Builder
	addr := func() string {
		return fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256))
	}
	net24 := func() string { return fmt.Sprintf("10.%d.%d.0/24", rng.IntN(256), rng.IntN(256)) }
	nsets := n/200 + 1
	for i := range nsets {
		// Sets hold each element once.
		els := map[string]bool{}
		var list []string
		for len(list) < 20 {
			if a := addr(); !els[a] {
				els[a] = true
				list = append(list, a)
			}
		}
		fmt.Fprintf(&b, "set hosts%d : ipv4_addr { elements { %s } }\n", i, strings.Join(list, ", "))
		ps := map[int]bool{}
		list = list[:0]
		for len(list) < 8 {
			if p := 1 + rng.IntN(65535); !ps[p] {
				ps[p] = true
				list = append(list, fmt.Sprint(p))
			}
		}
		fmt.Fprintf(&b, "set ports%d : port { elements { %s } }\n", i, strings.Join(list, ", "))
	}
	verdict := func() string { return []string{"accept", "accept", "drop", "reject"}[rng.IntN(4)] }
	var user strings.Builder
	b.WriteString("table filter {\n\tchain input policy drop {\n")
	b.WriteString("\t\tct state established, related accept\n\t\tiif lo accept\n\t\tct state invalid drop\n")
	for i := range 8 {
		fmt.Fprintf(&b, "\t\tiif eth%d saddr != 10.%d.0.0/16 drop\n", i, 32*i)
	}
	written, chains := 0, 0
	for written < n {
		var r string
		switch k := rng.IntN(20); {
		case k < 7:
			r = fmt.Sprintf("saddr %s tcp dport %d %s", addr(), 1+rng.IntN(65535), verdict())
		case k < 10:
			lo := 1 + rng.IntN(60000)
			r = fmt.Sprintf("daddr %s udp dport %d-%d %s", net24(), lo, lo+rng.IntN(100), verdict())
		case k < 12:
			r = fmt.Sprintf("saddr @hosts%d tcp dport @ports%d %s", rng.IntN(nsets), rng.IntN(nsets), verdict())
		case k < 13:
			lo := 1 + rng.IntN(60000)
			r = fmt.Sprintf("saddr %s tcp dport %d-%d %s", net24(), lo, lo+rng.IntN(1000), verdict())
		case k < 14:
			r = fmt.Sprintf("tcp dport %d saddr %s %s", 1+rng.IntN(1024), net24(), verdict())
		case k < 15:
			r = fmt.Sprintf("saddr %s daddr %s tcp dport %d %s", net24(), addr(), 1+rng.IntN(65535), verdict())
		case k < 16:
			name := fmt.Sprintf("u%d", chains)
			chains++
			b16 := rng.IntN(256)
			r = fmt.Sprintf("saddr 10.%d.0.0/16 jump %s", b16, name)
			fmt.Fprintf(&user, "\tchain %s {\n", name)
			for range 12 {
				fmt.Fprintf(&user, "\t\tsaddr 10.%d.%d.%d tcp dport %d %s\n", b16, rng.IntN(256), rng.IntN(256), 1+rng.IntN(65535), verdict())
				written++
			}
			user.WriteString("\t\tproto udp return\n\t}\n")
			written++
		default:
			r = fmt.Sprintf("saddr %s daddr %s %s", addr(), addr(), verdict())
		}
		fmt.Fprintf(&b, "\t\t%s\n", r)
		written++
	}
	b.WriteString("\t}\n")
	b.WriteString(user.String())
	b.WriteString("}\n")
	return []byte(b.String())
}
