// Package sitegen generates large fwc policies shaped like a real site's,
// for benchmarks, as a second generator beside internal/polgen.
//
// polgen draws each rule from eight templates over a small address space,
// so many of its rules repeat one another (one in eight is the same
// blocklist drop), and the engine's indexes share their entries. A site
// does not look like that: every rule names its own hosts. Policy(n, seed)
// writes a gateway between a wan and 31 internal zones (32 zones in all,
// half of them dual-stack) with
//
//   - unique addresses: each rule's hosts are drawn from per-zone counters,
//     so no two rules name the same host (IPv4 and IPv6);
//   - about 4,000 distinct ports, drawn once from the seed, and 200
//     services over them;
//   - named sets: a 3,000-prefix IPv4 blocklist (and a small IPv6 one), 20
//     allow-lists of 50 prefixes (14 IPv4, 6 IPv6), and a 500-element
//     `ipv4_addr . port` set;
//   - rules of every layer: forward rules between zones, rules to the host,
//     user chains (one per zone, jumped to from forward by input interface)
//     with their own rules, port forwards (dnat), snat and masquerade, log
//     then drop, rate limits and meters, IPv6 rules between the dual-stack
//     zones, port ranges and port lists; and rules that hold others: a
//     server network's /24 dropped after the rules that let its hosts be
//     reached, and services opened for a whole pair of zones.
//
// n is the number of rule statements after the fixed preamble (zones, sets,
// services, the base chains' first rules, a `ct status dnat accept` per zone
// and the zone policies). The output is deterministic
// for a given n and seed, and every policy passes `fwc check` without
// errors (the package's tests check that for several seeds and sizes and
// load the nft output into a kernel).
package sitegen

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
)

const (
	// Zones is the number of zones: the wan and Zones-1 internal ones.
	Zones = 32
	// Ports is the number of distinct ports the rules draw from.
	Ports = 4000
	// Services is the number of declared services.
	Services = 200
	// Blocklist is the number of prefixes in the IPv4 blocklist.
	Blocklist = 3000
	// AllowLists is the number of allow-lists, AllowSize prefixes each.
	AllowLists, AllowSize = 20, 50
	// Pairs is the number of elements of the address·port set.
	Pairs = 500
	// v6From is the first allow-list of IPv6 prefixes.
	v6From = 14
)

// gen holds the counters that keep every rule's hosts unique.
type gen struct {
	r     *rand.Rand
	ports []int
	host  [Zones]int // next host number per internal zone (IPv4 and IPv6)
	wan   int        // next wan host
	pub   int        // next (public address, port) pair for dnat
	snat  int
	b     strings.Builder
	// chains holds the rules of each zone's user chain, written at the end
	// of the table block.
	chains [Zones][]string
}

// Policy returns the source of a site policy with n rule statements.
func Policy(n int, seed uint64) []byte {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x5173))}
	// Ports: Ports distinct values in 1..65535, in random order.
	perm := g.r.Perm(65535)
	g.ports = make([]int, Ports)
	for i := range g.ports {
		g.ports[i] = perm[i] + 1
	}
	g.preamble()
	zoneRules := g.rules(n)
	g.table()
	g.b.WriteString(zoneRules)
	g.policies()
	return []byte(g.b.String())
}

func (g *gen) port() int { return g.ports[g.r.IntN(len(g.ports))] }

// zone is the name of internal zone k (1..Zones-1); zone 0 is the wan.
func zone(k int) string {
	if k == 0 {
		return "wan"
	}
	return fmt.Sprintf("z%02d", k)
}

// dual reports whether zone k has an IPv6 network too.
func dual(k int) bool { return k != 0 && k%2 == 0 }

// v4 returns the next unused IPv4 host of zone k (10.k.0.0/16).
func (g *gen) v4(k int) string {
	g.host[k]++
	h := g.host[k] - 1 // 255 hosts per /24, none ending in .0
	return fmt.Sprintf("10.%d.%d.%d", k, (h/255)%256, h%255+1)
}

// closeNet returns the /24 of zone k's latest IPv4 host and moves the
// zone's counter to the next /24, so that no later rule names a host the
// returned network holds (it would be shadowed or redundant).
func (g *gen) closeNet(k int) string {
	hi := 0
	if g.host[k] > 0 {
		hi = (g.host[k] - 1) / 255
	}
	g.host[k] = (hi + 1) * 255
	return fmt.Sprintf("10.%d.%d.0/24", k, hi%256)
}

// v6 returns the next unused IPv6 host of dual-stack zone k (fd00:k::/48).
func (g *gen) v6(k int) string {
	g.host[k]++
	return fmt.Sprintf("fd00:%x::%x:%x", k, g.host[k]>>16, g.host[k]&0xffff)
}

// wanHost returns the next unused outside address, in 100.64.0.0/11
// (apart from the blocklist's and the allow-lists' space).
func (g *gen) wanHost() string {
	g.wan++
	v := uint32(100)<<24 + uint32(64)<<16 + uint32(g.wan)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

func (g *gen) inner() int     { return 1 + g.r.IntN(Zones-1) }
func (g *gen) innerDual() int { return 2 * (1 + g.r.IntN((Zones-1)/2)) }

// other returns an internal zone other than k.
func (g *gen) other(k int) int {
	for {
		if o := g.inner(); o != k {
			return o
		}
	}
}

func (g *gen) verdict() string {
	switch g.r.IntN(10) {
	case 0, 1:
		return "drop"
	case 2:
		return "reject"
	}
	return "accept"
}

func (g *gen) proto() string {
	if g.r.IntN(4) == 0 {
		return "udp"
	}
	return "tcp"
}

func (g *gen) preamble() {
	b := &g.b
	fmt.Fprintf(b, "# sitegen: a generated site policy (seed-determined); see internal/sitegen.\n")
	b.WriteString("zone wan { iface eth0 }\n")
	for k := 1; k < Zones; k++ {
		if dual(k) {
			fmt.Fprintf(b, "zone %s { iface vlan%d; net 10.%d.0.0/16, fd00:%x::/48 }\n", zone(k), k, k, k)
		} else {
			fmt.Fprintf(b, "zone %s { iface vlan%d; net 10.%d.0.0/16 }\n", zone(k), k, k)
		}
	}
	b.WriteString("service ndp = icmpv6/{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert }\n")
	for s := 0; s < Services; s++ {
		p := g.proto()
		switch g.r.IntN(3) {
		case 0:
			fmt.Fprintf(b, "service svc%03d = %s/%d\n", s, p, g.port())
		case 1:
			fmt.Fprintf(b, "service svc%03d = %s/{ %d, %d }\n", s, p, g.port(), g.port())
		default:
			fmt.Fprintf(b, "service svc%03d = tcp/%d, udp/%d\n", s, g.port(), g.port())
		}
	}

	// The blocklist: Blocklist distinct /24s of 45.0.0.0/8 and 46.0.0.0/8.
	b.WriteString("set blocklist : ipv4_net {\n\telements {\n")
	for i, x := range g.r.Perm(1 << 17)[:Blocklist] {
		sep := ","
		if i == Blocklist-1 {
			sep = ""
		}
		fmt.Fprintf(b, "\t\t%d.%d.%d.0/24%s\n", 45+x>>16, (x>>8)&255, x&255, sep)
	}
	b.WriteString("\t}\n}\n")
	b.WriteString("set blocklist6 : ipv6_net {\n\telements { 2001:db8:bad::/48, 2001:db8:bad1::/48, 2001:db8:bad2::/48 }\n}\n")

	// Allow-lists: disjoint /28s of 100.96.0.0/11, or /64s of 2001:db8:a::/48.
	next := 0
	for k := 0; k < AllowLists; k++ {
		typ := "ipv4_net"
		if k >= v6From {
			typ = "ipv6_net"
		}
		fmt.Fprintf(b, "set allow%02d : %s {\n\telements {\n", k, typ)
		for e := 0; e < AllowSize; e++ {
			sep := ","
			if e == AllowSize-1 {
				sep = ""
			}
			if k >= v6From {
				fmt.Fprintf(b, "\t\t2001:db8:a:%x::/64%s\n", next, sep)
			} else {
				v := next << 4
				fmt.Fprintf(b, "\t\t100.%d.%d.%d/28%s\n", 96+(v>>16), (v>>8)&255, v&255, sep)
			}
			next++
		}
		b.WriteString("\t}\n}\n")
	}

	// Address·port pairs: hosts of the internal zones, each with one port.
	b.WriteString("set pairs : ipv4_addr . port {\n\telements {\n")
	for e := 0; e < Pairs; e++ {
		sep := ","
		if e == Pairs-1 {
			sep = ""
		}
		fmt.Fprintf(b, "\t\t%s . %d%s\n", g.v4(g.inner()), g.port(), sep)
	}
	b.WriteString("\t}\n}\n")
}

// table writes the filter table: the base chains' first rules, a jump per
// zone from forward, and the user chains with the rules rules gave them.
func (g *gen) table() {
	b := &g.b
	b.WriteString(`table filter {
	chain input policy drop {
		iif lo accept
		ct state established, related accept
		ct state invalid drop
		service ndp accept
		saddr @blocklist drop
		saddr @blocklist6 drop
		tcp dport 22 accept
		saddr . tcp dport @pairs accept
	}
	chain forward policy drop {
		ct state established, related accept
		ct state invalid drop
		saddr @blocklist drop
		daddr @blocklist drop
		saddr @blocklist6 drop
`)
	for k := 1; k < Zones; k++ {
		if len(g.chains[k]) > 0 {
			fmt.Fprintf(b, "\t\tiif vlan%d jump from_%s\n", k, zone(k))
		}
	}
	b.WriteString("\t}\n")
	for k := 1; k < Zones; k++ {
		if len(g.chains[k]) == 0 {
			continue
		}
		fmt.Fprintf(b, "\tchain from_%s {\n", zone(k))
		for _, r := range g.chains[k] {
			b.WriteString("\t\t")
			b.WriteString(r)
			b.WriteByte('\n')
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
}

// rules returns n rule statements: zone rules as text, chain rules into
// g.chains.
func (g *gen) rules(n int) string {
	var b strings.Builder
	// What the port forwards below let in, after translation.
	for k := 1; k < Zones; k++ {
		fmt.Fprintf(&b, "from wan to %s ct status dnat accept\n", zone(k))
	}
	for i := 0; i < n; i++ {
		a, z := g.inner(), 0
		z = g.other(a)
		switch c := g.r.IntN(108); {
		case c < 28: // forward between zones, one host and port
			fmt.Fprintf(&b, "from %s to %s saddr %s daddr %s %s dport %d %s\n", zone(a), zone(z), g.v4(a), g.v4(z), g.proto(), g.port(), g.verdict())
		case c < 36: // from the outside to a server, by service
			fmt.Fprintf(&b, "from wan to %s saddr %s daddr %s service svc%03d accept\n", zone(z), g.wanHost(), g.v4(z), g.r.IntN(Services))
		case c < 42: // to the host
			fmt.Fprintf(&b, "from %s to self saddr %s %s dport %d %s\n", zone(a), g.v4(a), g.proto(), g.port(), g.verdict())
		case c < 54: // a zone's user chain
			g.chains[a] = append(g.chains[a], fmt.Sprintf("saddr %s daddr %s %s dport %d %s", g.v4(a), g.v4(z), g.proto(), g.port(), g.verdict()))
		case c < 64: // IPv6 between dual-stack zones
			a, z = g.innerDual(), g.innerDual()
			if a == z {
				fmt.Fprintf(&b, "from %s to self saddr %s tcp dport %d accept\n", zone(a), g.v6(a), g.port())
			} else {
				fmt.Fprintf(&b, "from %s to %s saddr %s daddr %s %s dport %d %s\n", zone(a), zone(z), g.v6(a), g.v6(z), g.proto(), g.port(), g.verdict())
			}
		case c < 69: // an allow-list to one server
			k := g.r.IntN(AllowLists)
			if k >= v6From {
				z := g.innerDual()
				fmt.Fprintf(&b, "from wan to %s saddr @allow%02d daddr %s tcp dport %d accept\n", zone(z), k, g.v6(z), g.port())
			} else {
				fmt.Fprintf(&b, "from wan to %s saddr @allow%02d daddr %s tcp dport %d accept\n", zone(z), k, g.v4(z), g.port())
			}
		case c < 75: // a port forward: a public address and port to a server
			g.pub++
			pub := fmt.Sprintf("203.0.%d.%d", 113+(g.pub/len(g.ports))/254, 1+(g.pub/len(g.ports))%254)
			fmt.Fprintf(&b, "from wan to self daddr %s tcp dport %d dnat to %s:%d\n", pub, g.ports[g.pub%len(g.ports)], g.v4(z), g.port())
		case c < 79: // source NAT of a host or a zone's subnet
			g.snat++
			if g.snat%4 == 0 {
				fmt.Fprintf(&b, "from %s to wan saddr %s masquerade\n", zone(a), g.v4(a))
			} else {
				fmt.Fprintf(&b, "from %s to wan saddr %s snat to 192.0.2.%d\n", zone(a), g.v4(a), 1+g.snat%254)
			}
		case c < 84: // log, then drop
			fmt.Fprintf(&b, "from %s to %s saddr %s daddr %s %s dport %d log prefix \"deny-%d: \" drop\n", zone(a), zone(z), g.v4(a), g.v4(z), g.proto(), g.port(), i)
		case c < 88: // a rate limit on new connections
			fmt.Fprintf(&b, "from wan to %s daddr %s tcp dport %d ct state new limit %d/second burst %d accept\n", zone(z), g.v4(z), g.port(), 10+g.r.IntN(90), 20+g.r.IntN(200))
		case c < 90: // a meter per source
			fmt.Fprintf(&b, "from wan to %s daddr %s tcp dport %d ct state new meter m%d per saddr over %d/minute burst 4 drop\n", zone(z), g.v4(z), g.port(), i, 4+g.r.IntN(30))
		case c < 94: // ICMP with a limit
			fmt.Fprintf(&b, "from %s to %s daddr %s icmp type echo-request limit %d/second accept\n", zone(a), zone(z), g.v4(z), 1+g.r.IntN(20))
		case c < 97: // a port range
			lo := g.port()
			hi := min(lo+1+g.r.IntN(200), 65535)
			fmt.Fprintf(&b, "from %s to %s saddr %s daddr %s udp dport %d-%d accept\n", zone(a), zone(z), g.v4(a), g.v4(z), lo, hi)
		case c < 100: // a port list
			fmt.Fprintf(&b, "from %s to %s daddr %s tcp dport %d, %d, %d %s\n", zone(a), zone(z), g.v4(z), g.port(), g.port(), g.port(), g.verdict())
		case c < 104: // the rest of a server network closed, after its exceptions
			fmt.Fprintf(&b, "from %s to %s daddr %s drop\n", zone(a), zone(z), g.closeNet(z))
		default: // a service for a whole zone pair
			fmt.Fprintf(&b, "from %s to %s service svc%03d accept\n", zone(a), zone(z), g.r.IntN(Services))
		}
	}
	return b.String()
}

// policies writes the zone policies: each zone may go out to the wan, the
// host may go anywhere, everything else forwarded is logged and dropped.
func (g *gen) policies() {
	for k := 1; k < Zones; k++ {
		fmt.Fprintf(&g.b, "policy %s -> wan accept\n", zone(k))
	}
	g.b.WriteString("policy self -> any accept\n")
	g.b.WriteString("policy any -> any log prefix \"fwd-drop: \" drop\n")
}
