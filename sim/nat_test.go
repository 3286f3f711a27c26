package sim_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sim"
)

// natPolicy rewrites and steers: a port forward, a redirect, snat and
// masquerade per uplink, and a policy route by mark.
const natPolicy = `route via_isp2 {
	mark 0x2
	table 102
	default via 198.51.100.254 dev eth2
	10.9.0.0/16 dev eth3
}
table mangle {
	chain prerouting {
		saddr 192.168.1.128/25 mark set 0x2
	}
}
table nat {
	chain prerouting {
		iif eth0 tcp dport 80 dnat to 192.168.1.200:8080
		iif eth1 tcp dport 8022 redirect to :22
		iif eth0 tcp dport 81 dnat to 192.168.1.1
	}
	chain postrouting {
		oif eth0 saddr 192.168.1.0/24 snat to 203.0.113.1
		oif eth2 masquerade
	}
}
table filter {
	chain input policy drop {
		tcp dport 22 accept
		daddr 192.168.1.1 tcp dport 81 accept
	}
	chain forward policy drop {
		oif eth1 daddr 192.168.1.200 tcp dport 8080 accept
		iif eth1 oif eth0 accept
		iif eth1 oif eth2 accept
		iif eth1 oif eth3 reject
	}
}
`

func pkt(src, dst string, dport uint16, iif, oif string) sem.Packet {
	p := sem.Packet{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: policy.ProtoTCP,
		SrcPort: 40000, DstPort: dport, InIface: iif, OutIface: oif, CtState: policy.CtNew, TCPFlags: policy.SYN}
	if oif == "?" {
		p.OutIface, p.Unknown = "", p.Unknown.With(sem.OIf)
	}
	return p
}

// TestNATAndRouting: nat rewrites change what the routing decision and the
// later chains see, and marks steer policy routes.
func TestNATAndRouting(t *testing.T) {
	rs := lower(t, natPolicy)
	zones := func(a netip.Addr) string {
		if netip.MustParsePrefix("192.168.1.0/24").Contains(a) {
			return "eth1"
		}
		return "eth0"
	}
	local := func(a netip.Addr) bool { return a == netip.MustParseAddr("192.168.1.1") }
	for _, tc := range []struct {
		name string
		path sem.Path
		p    sem.Packet
		opt  sim.Options
		// want: verdict, path, the packet's final "src:sport > dst:dport oif"
		verdict sim.Verdict
		reject  bool
		wpath   sem.Path
		final   string
		// table is the routing table of the (last) Route step.
		table int
	}{
		{"port forward: dnat before routing, forwarded to the lan", sem.ToSelf,
			pkt("198.51.100.7", "203.0.113.1", 80, "eth0", ""), sim.Options{Route: zones},
			sim.Accept, false, sem.Forwarded, "198.51.100.7:40000 > 192.168.1.200:8080 eth1", sim.TableMain},
		{"dnat to a local address: delivered to the host", sem.ToSelf,
			pkt("198.51.100.7", "203.0.113.1", 81, "eth0", ""), sim.Options{Route: zones, Local: local},
			sim.Accept, false, sem.ToSelf, "198.51.100.7:40000 > 192.168.1.1:81 ", sim.TableLocal},
		{"dnat to an address not known local: forwarded, and forward drops it", sem.ToSelf,
			pkt("198.51.100.7", "203.0.113.1", 81, "eth0", ""), sim.Options{Route: zones},
			sim.Drop, false, sem.Forwarded, "198.51.100.7:40000 > 192.168.1.1:81 eth1", sim.TableMain},
		{"redirect: to the host whatever the path", sem.Forwarded,
			pkt("192.168.1.20", "8.8.8.8", 8022, "eth1", "eth0"), sim.Options{},
			sim.Accept, false, sem.ToSelf, "192.168.1.20:40000 > ?:22 ", sim.TableLocal},
		{"snat in postrouting", sem.Forwarded,
			pkt("192.168.1.20", "8.8.8.8", 443, "eth1", "eth0"), sim.Options{},
			sim.Accept, false, sem.Forwarded, "203.0.113.1:40000 > 8.8.8.8:443 eth0", sim.TableMain},
		{"the mark steers the policy route: out eth2, masquerade", sem.Forwarded,
			pkt("192.168.1.200", "8.8.8.8", 443, "eth1", "eth0"), sim.Options{},
			sim.Accept, false, sem.Forwarded, "?:40000 > 8.8.8.8:443 eth2", 102},
		{"the longest prefix of the policy route's table", sem.Forwarded,
			pkt("192.168.1.200", "10.9.1.1", 443, "eth1", "eth0"), sim.Options{},
			sim.Drop, true, sem.Forwarded, "192.168.1.200:40000 > 10.9.1.1:443 eth3", 102},
		{"no mark: the main table's answer (the given oif)", sem.Forwarded,
			pkt("192.168.1.20", "10.9.1.1", 443, "eth1", "eth0"), sim.Options{},
			sim.Accept, false, sem.Forwarded, "203.0.113.1:40000 > 10.9.1.1:443 eth0", sim.TableMain},
		{"no oif and no main table: the way out is unknown, the walk forks", sem.Forwarded,
			pkt("192.168.1.20", "10.9.1.1", 443, "eth1", "?"), sim.Options{},
			sim.Accept, false, sem.Forwarded, "203.0.113.1:40000 > 10.9.1.1:443 ", sim.TableMain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := sim.Run(rs, tc.path, tc.p, tc.opt)
			w := res.Ways[0]
			if w.Verdict != tc.verdict || w.Reject != tc.reject || w.Path != tc.wpath {
				t.Errorf("got %v (reject %v) %v, want %v (reject %v) %v\n%s", w.Verdict, w.Reject, w.Path, tc.verdict, tc.reject, tc.wpath, summary(w))
			}
			if got := final(w.Packet); got != tc.final {
				t.Errorf("final packet %q, want %q\n%s", got, tc.final, summary(w))
			}
			table := -1
			for _, st := range w.Steps {
				if st.Kind == sim.Route {
					table = st.RouteTable
				}
			}
			if table != tc.table {
				t.Errorf("routing table %d, want %d", table, tc.table)
			}
			if tc.p.Unknown.Has(sem.OIf) {
				// eth0 accepts after snat; eth3 rejects; any other
				// drops: one way each.
				if f, _ := res.Fate(); f != sim.Undecided || len(res.Ways) < 3 {
					t.Errorf("fate %v with %d ways, want undecided over 3 or more", f, len(res.Ways))
				}
			} else if len(res.Ways) != 1 {
				t.Errorf("%d ways, want 1", len(res.Ways))
			}
		})
	}
}

func final(p sem.Packet) string {
	addr := func(a netip.Addr, d sem.Dim) string {
		if p.Unknown.Has(d) {
			return "?"
		}
		return a.String()
	}
	return addr(p.Src, sem.SAddr) + ":" + itoa(p.SrcPort) + " > " + addr(p.Dst, sem.DAddr) + ":" + itoa(p.DstPort) + " " + p.OutIface
}

func itoa(n uint16) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), n).String()[len("0.0.0.0:"):]
}

// TestFromSelfReroute: a mark set in mangle output routes the packet again
// by the policy's routes, as ip_route_me_harder does.
func TestFromSelfReroute(t *testing.T) {
	rs := lower(t, `route r { mark 0x7; table 107; default dev wg0 }
table mangle { chain output { tcp dport 443 mark set 0x7 } }
table filter { chain postrouting { oif wg0 accept
	drop } }
`)
	p := pkt("203.0.113.1", "8.8.8.8", 443, "", "eth0")
	res := sim.Run(rs, sem.FromSelf, p, sim.Options{})
	if w := res.Ways[0]; w.Verdict != sim.Accept || w.Packet.OutIface != "wg0" || len(res.Ways) != 1 {
		t.Errorf("got %v out %q\n%s", w.Verdict, w.Packet.OutIface, summary(w))
	}
	p.DstPort = 80
	if w := sim.Run(rs, sem.FromSelf, p, sim.Options{}).Ways[0]; w.Verdict != sim.Drop || w.Packet.OutIface != "eth0" {
		t.Errorf("port 80: got %v out %q\n%s", w.Verdict, w.Packet.OutIface, summary(w))
	}
}

// TestBalanceForks: a balance picks an endpoint at random: one way each.
func TestBalanceForks(t *testing.T) {
	rs := lower(t, `zone wan { iface eth0 }
balance web { address 203.0.113.1; service tcp/80; endpoints 10.0.0.1:8080, 10.0.0.2:8080 }
`)
	res := sim.Run(rs, sem.ToSelf, pkt("198.51.100.7", "203.0.113.1", 80, "eth0", ""), sim.Options{})
	var got []string
	for _, w := range res.Ways {
		got = append(got, w.Packet.Dst.String())
	}
	if strings.Join(got, ",") != "10.0.0.1,10.0.0.2" {
		t.Errorf("ways to %v", got)
	}
}

// TestMergedSame: the nft backend's merged rules (anonymous sets, verdict
// maps) give every packet the verdict and the deciding source lines of
// the rules they came from.
func TestMergedSame(t *testing.T) {
	rs := lower(t, `table filter { chain input policy drop {
	tcp dport 22 accept
	tcp dport 23 drop
	tcp dport 24 accept
	tcp dport 25 drop
	tcp dport 26 reject
	saddr 10.0.0.1 accept
	saddr 10.0.0.2 accept
	saddr 10.0.0.3 accept
} }
`)
	merged := ir.Merge(rs)
	vmaps := 0
	for _, r := range merged.Tables[0].Chains[0].Rules {
		for _, a := range r.Actions {
			if _, ok := a.(*ir.VerdictMap); ok {
				vmaps++
			}
		}
	}
	if vmaps == 0 || len(merged.Tables[0].Chains[0].Rules) >= 7 {
		t.Fatalf("nothing merged: %d rules, %d verdict maps", len(merged.Tables[0].Chains[0].Rules), vmaps)
	}
	for _, src := range []string{"10.0.0.2", "10.0.0.9"} {
		for port := uint16(20); port < 28; port++ {
			p := pkt(src, "10.0.0.100", port, "eth0", "")
			a, b := sim.Run(rs, sem.ToSelf, p, sim.Options{}).Ways, sim.Run(merged, sem.ToSelf, p, sim.Options{}).Ways
			if len(a) != 1 || len(b) != 1 || a[0].Verdict != b[0].Verdict || a[0].Reject != b[0].Reject {
				t.Errorf("%s port %d: %d and %d ways, %v and %v", src, port, len(a), len(b), a[0].Verdict, b[0].Verdict)
				continue
			}
			if a[0].By != nil && !slices.ContainsFunc(b[0].By.Pos, func(p ir.Pos) bool { return p.Line == a[0].By.Pos[0].Line }) {
				t.Errorf("%s port %d: decided by %s, merged by %s", src, port, a[0].By.Comment(80), b[0].By.Comment(80))
			}
		}
	}
}

// TestNATStatus: a nat rewrite sets the connection's status bit (dnat,
// snat) at once, so a later chain's `ct status dnat` holds for the
// connection's first packet, as gateway.fw's port forward relies on.
func TestNATStatus(t *testing.T) {
	rs := lower(t, `table nat { chain prerouting { tcp dport 80 dnat to 192.168.1.200:8080 } }
table filter { chain forward policy drop { ct status dnat accept } }
`)
	res := sim.Run(rs, sem.ToSelf, pkt("198.51.100.7", "203.0.113.1", 80, "eth0", ""), sim.Options{Route: func(netip.Addr) string { return "eth1" }})
	if w := res.Ways[0]; w.Verdict != sim.Accept || w.Packet.CtStatus&policy.StatusDNAT == 0 {
		t.Errorf("got %v, status %#x\n%s", w.Verdict, w.Packet.CtStatus, summary(w))
	}
}

// TestMergedKeepsRouting: the merged ruleset (what nft loads, what trace
// --merged walks) keeps the policy's routing, so a mark steers the same
// way in both (ir.Clone once left Routing out).
func TestMergedKeepsRouting(t *testing.T) {
	rs := ir.Merge(lower(t, natPolicy))
	w := sim.Run(rs, sem.Forwarded, pkt("192.168.1.200", "8.8.8.8", 443, "eth1", "eth0"), sim.Options{}).Ways[0]
	if w.Packet.OutIface != "eth2" {
		t.Errorf("out %q, want eth2 (table 102)\n%s", w.Packet.OutIface, summary(w))
	}
}
