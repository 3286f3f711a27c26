package sim_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	vnl "github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/backend/iproute2"
	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sim"
	"github.com/fwcproject/fwc/sim/packet"
)

// TestTraceMatchesKernel is the differential test of `fwc trace` against
// the kernel: every example policy and random policies of both generators
// are loaded through both backends (nft -f; ipset restore and
// iptables-restore / ip6tables-restore) into a scratch namespace, real
// packets are sent into it on the policy's interfaces, and what the kernel
// did with each is compared with sim's walk of the IR that backend loads
// (ir.Merge's for nft, the IR as lowered for iptables): the verdict, where
// an accepted packet goes (the host, or out of which interface), and its
// addresses and ports after NAT, where the walk knows them.
//
// The kernel's answer is read from events, not waited for: a table of the
// test's own sets nftrace on the probes (they carry ttl / hop limit 61) at
// the start of prerouting, and has empty chains at the end of input and of
// postrouting; the kernel reports each traced packet's way on the
// NFNLGRP_NFTRACE netlink group. A rule or chain policy with verdict drop
// is a drop (reject too: the kernel drops after answering); the policy
// event of the end chain of input or postrouting is an accept, with the
// packet's headers after NAT and its output interface. A packet whose walk
// is undecided (a rate limit, a time, an interface fwc cannot tell) is not
// compared, and counted; the test fails when too few were compared.
//
// The routing the kernel does is made to be the one the walk is told: the
// addresses a packet to the host is sent to are on lo, every other
// destination a policy names (dnat targets, route gateways included) has
// a host route through the interface the walk's Options.Route gives, and
// the policy's routes (ip rules by fwmark, their tables) are installed as
// fwc translate --to iproute2 writes them.
func TestTraceMatchesKernel(t *testing.T) {
	testnetns.RequireTools(t, "iptables-restore", "ip6tables-restore", "ipset")
	if out, _ := exec.Command("iptables-restore", "--version").CombinedOutput(); !strings.Contains(string(out), "nf_tables") {
		// The legacy iptables reports no trace events.
		missing := "needs the nf_tables variant of iptables-restore, not " + strings.TrimSpace(string(out))
		if os.Getenv(testnetns.EnvRequire) == "1" {
			t.Fatal(missing)
		}
		t.Skip(missing)
	}
	type source struct {
		name  string
		rs    *ir.Ruleset
		zones []*policy.Zone
	}
	var srcs []source
	l, ds := compile.Load([]string{"../examples"}, compile.LoadOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	for _, u := range l.Units {
		low, cds := compile.Lower(&compile.Loaded{Units: []*lang.Unit{u}, Sources: l.Sources}, check.Options{ErrorsOnly: true})
		if cds.HasErrors() {
			t.Fatalf("%s: %v", u.Root, cds)
		}
		srcs = append(srcs, source{"examples/" + filepath.Base(u.Root), low.Ruleset, low.Zones})
	}
	if len(srcs) < 8 {
		t.Fatalf("only %d example policies found", len(srcs))
	}
	seeds := []uint64{1, 2, 3}
	for _, seed := range seeds {
		for _, g := range []struct {
			name string
			src  []byte
		}{{"polgen", polgen.Policy(60, seed)}, {"sitegen", sitegen.Policy(60, seed)}} {
			name := fmt.Sprintf("%s-%d", g.name, seed)
			f, pds := lang.ParseFile(name+".fw", g.src)
			if pds.HasErrors() {
				t.Fatal(pds)
			}
			low, cds := compile.Lower(&compile.Loaded{Units: []*lang.Unit{{Root: name, Files: []*ast.File{f}}}}, check.Options{ErrorsOnly: true})
			if cds.HasErrors() {
				t.Fatalf("%s: %v", name, cds)
			}
			srcs = append(srcs, source{name, low.Ruleset, low.Zones})
		}
	}
	total := map[string]int{}
	counts := map[string]int{}
	for _, s := range srcs {
		t.Run(strings.ReplaceAll(s.name, "/", "_"), func(t *testing.T) {
			for _, backend := range []string{"nft", "iptables"} {
				compared, skipped := kernelCase(t, backend, s.rs, s.zones, int64(len(s.name)), counts)
				t.Logf("%s: %d packets compared, %d undecided by the walk", backend, compared, skipped)
				total[backend] += compared
			}
		})
	}
	for _, b := range []string{"nft", "iptables"} {
		if total[b] < 20*len(srcs) {
			t.Errorf("%s: only %d packets compared over %d policies", b, total[b], len(srcs))
		}
	}
	// What the comparisons covered: a kind of packet no probe was of
	// would be a gap the generators or the plan opened.
	t.Logf("compared: %v", counts)
	for _, kind := range []string{"accept", "drop", "reject", "to self", "forwarded", "from self", "dnat", "snat", "redirect", "masquerade", "policy route"} {
		if counts[kind] == 0 {
			t.Errorf("no compared packet was %s", kind)
		}
	}
}

// probeTTL marks the test's packets: only they are traced.
const probeTTL = 61

// host is the scratch firewall the walk is told about.
type host struct {
	ifaces []string
	// ifAddr4/6 are each interface's own addresses (masquerade and a
	// redirect take them).
	ifAddr4, ifAddr6 map[string]netip.Addr
	local            map[netip.Addr]bool // to-self destinations, on lo
	routes           map[netip.Addr]string
	def              string // the interface of the default routes
}

func (h *host) route(a netip.Addr) string {
	if d, ok := h.routes[a.Unmap()]; ok {
		return d
	}
	return h.def
}

func (h *host) isLocal(a netip.Addr) bool {
	a = a.Unmap()
	if h.local[a] {
		return true
	}
	for _, n := range h.ifaces {
		if h.ifAddr4[n] == a || h.ifAddr6[n] == a {
			return true
		}
	}
	return false
}

// probe is one packet and how it starts.
type probe struct {
	path sem.Path
	p    sem.Packet
}

func kernelCase(t *testing.T, backend string, rs *ir.Ruleset, zones []*policy.Zone, seed int64, counts map[string]int) (compared, skipped int) {
	t.Helper()
	walked := rs
	var texts []struct {
		text []byte
		argv []string
	}
	add := func(emit func(*ir.Ruleset) ([]byte, diag.Diagnostics), argv ...string) bool {
		text, ds := emit(rs)
		if ds.HasErrors() {
			return false
		}
		texts = append(texts, struct {
			text []byte
			argv []string
		}{text, argv})
		return true
	}
	switch backend {
	case "nft":
		walked = ir.Merge(rs)
		if !add(nft.Text, "nft", "-f", "-") {
			t.Logf("nft cannot express this policy")
			return 0, 0
		}
	case "iptables":
		if !add(restore.IPSet, "ipset", "restore") || !add(restore.IPv4, "iptables-restore") || !add(restore.IPv6, "ip6tables-restore") {
			t.Logf("iptables cannot express this policy")
			return 0, 0
		}
	}
	h, probes := plan(rs, zones, seed)
	fw, inj := testnetns.New(t), testnetns.New(t)
	setupHost(t, fw, inj, h, rs)
	for _, x := range texts {
		if out, err := testnetns.Feed(fw, x.text, x.argv...); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(x.argv, " "), err, out)
		}
	}
	traceTable := fmt.Sprintf(`table inet fwc_test_trace {
	chain pre {
		type filter hook prerouting priority -350
		ip ttl %d meta nftrace set 1
		ip6 hoplimit %d meta nftrace set 1
	}
	chain out {
		type filter hook output priority -350
		ip ttl %d meta nftrace set 1
		ip6 hoplimit %d meta nftrace set 1
	}
	chain in_end {
		type filter hook input priority 1000
		meta nftrace set 1
	}
	chain post_end {
		type filter hook postrouting priority 1000
		meta nftrace set 1
	}
}
`, probeTTL, probeTTL, probeTTL, probeTTL)
	if out, err := testnetns.Feed(fw, []byte(traceTable), "nft", "-f", "-"); err != nil {
		t.Fatalf("trace table: %v\n%s", err, out)
	}
	k := newKernel(t, fw, inj, h)
	for i, pr := range probes {
		// The walk of the packet as fwc trace reads it from its words.
		spec, pds := packet.Parse("PACKET", packetWords(pr))
		if pds.HasErrors() {
			t.Fatalf("%s: %v", packetWords(pr), pds)
		}
		if spec.Path != pr.path || spec.Packet != pr.p {
			t.Fatalf("%s reads as %s %+v, want %s %+v", packetWords(pr), spec.Path, spec.Packet, pr.path, pr.p)
		}
		res := sim.Run(walked, spec.Path, spec.Packet, sim.Options{Local: h.isLocal, Route: h.route})
		want, ok := decided(res)
		if !ok {
			skipped++
			continue
		}
		id := pr.p.SrcPort
		if id == 0 {
			id = uint16(20000 + i) // an echo's id
		}
		got := k.send(t, pr, id)
		compared++
		count(counts, want)
		if msg := compare(want, got); msg != "" {
			w := res.Ways[0]
			t.Errorf("%s: %s %s: %s\nwalk: %s", backend, pr.path, words(pr.p), msg, summary(w))
		}
	}
	return compared, skipped
}

// count records what kind of walk a compared packet had.
func count(counts map[string]int, w sim.Way) {
	v := w.Verdict.String()
	if w.Reject {
		v = "reject"
	}
	counts[v]++
	if w.Verdict == sim.Accept {
		counts[w.Path.String()]++
	}
	for _, st := range w.Steps {
		switch {
		case st.Kind == sim.NAT:
			for _, a := range st.Rule.Actions {
				switch a := a.(type) {
				case *policy.NAT:
					counts[a.Kind.String()]++
				case *policy.Balance:
					counts["dnat"]++
				}
			}
		case st.Kind == sim.Route && st.IPRule != nil:
			counts["policy route"]++
		}
	}
}

// packetWords writes a probe as a PACKET of fwc trace.
func packetWords(pr probe) string {
	p := pr.p
	w := []string{"saddr", p.Src.String(), "daddr", p.Dst.String()}
	switch pr.path {
	case sem.ToSelf:
		w = append(w, "iif", p.InIface, "to", "self")
	case sem.FromSelf:
		w = append(w, "from", "self")
	default:
		w = append(w, "iif", p.InIface)
	}
	switch p.Proto {
	case policy.ProtoTCP:
		w = append(w, "tcp", "sport", fmt.Sprint(p.SrcPort), "dport", fmt.Sprint(p.DstPort), "tcp", "flags", "syn")
	case policy.ProtoUDP:
		w = append(w, "udp", "sport", fmt.Sprint(p.SrcPort), "dport", fmt.Sprint(p.DstPort))
	case 1:
		w = append(w, "icmp", "type", "echo-request")
	case 58:
		w = append(w, "icmpv6", "type", "echo-request")
	}
	return strings.Join(append(w, "ct", "state", "new"), " ")
}

// decided returns the walk's answer when every way agrees on it.
func decided(res *sim.Result) (sim.Way, bool) {
	if len(res.Ways) != 1 {
		return sim.Way{}, false
	}
	w := res.Ways[0]
	for _, st := range w.Steps {
		if st.Kind == sim.MatchRule && st.Match != sem.Yes {
			return w, false
		}
	}
	return w, true
}

// kernelAnswer is what the trace events said of one packet.
type kernelAnswer struct {
	drop      bool
	where     string // "local", or the output interface
	src, dst  netip.Addr
	sp, dp    uint16
	proto     uint8
	dropChain string
}

func compare(w sim.Way, k kernelAnswer) string {
	if (w.Verdict == sim.Drop) != k.drop {
		if k.drop {
			return "the kernel dropped it (in " + k.dropChain + "), the walk accepts it"
		}
		return "the kernel accepted it, the walk drops it (" + w.Why + ")"
	}
	if k.drop {
		return ""
	}
	where := "local"
	if w.Path != sem.ToSelf {
		where = w.Packet.OutIface
		if w.Packet.Unknown.Has(sem.OIf) {
			where = "?"
		}
	}
	if where != "?" && where != k.where {
		return fmt.Sprintf("the kernel sends it to %s, the walk to %s", k.where, where)
	}
	p := w.Packet
	var diffs []string
	if !p.Unknown.Has(sem.SAddr) && p.Src.Unmap() != k.src {
		diffs = append(diffs, fmt.Sprintf("saddr %s, walk %s", k.src, p.Src))
	}
	if !p.Unknown.Has(sem.DAddr) && p.Dst.Unmap() != k.dst {
		diffs = append(diffs, fmt.Sprintf("daddr %s, walk %s", k.dst, p.Dst))
	}
	if p.Proto.HasPorts() {
		if !p.Unknown.Has(sem.SPort) && p.SrcPort != k.sp {
			diffs = append(diffs, fmt.Sprintf("sport %d, walk %d", k.sp, p.SrcPort))
		}
		if !p.Unknown.Has(sem.DPort) && p.DstPort != k.dp {
			diffs = append(diffs, fmt.Sprintf("dport %d, walk %d", k.dp, p.DstPort))
		}
	}
	if len(diffs) > 0 {
		return "after NAT the kernel has " + strings.Join(diffs, "; ")
	}
	return ""
}

func words(p sem.Packet) string {
	return fmt.Sprintf("iif %s %s:%d > %s:%d proto %d", p.InIface, p.Src, p.SrcPort, p.Dst, p.DstPort, p.Proto)
}

// plan picks the host's interfaces and addresses and the probes, from what
// the policy names: its interfaces, addresses, ports, nat targets.
func plan(rs *ir.Ruleset, zones []*policy.Zone, seed int64) (*host, []probe) {
	r := rand.New(rand.NewPCG(uint64(seed), 99))
	h := &host{ifAddr4: map[string]netip.Addr{}, ifAddr6: map[string]netip.Addr{}, local: map[netip.Addr]bool{}, routes: map[netip.Addr]string{}}
	ifs := map[string]bool{}
	var addrs []netip.Addr
	ports := []uint16{22, 53, 80, 443, 8080, 1194}
	addAddr := func(a netip.Addr) {
		a = a.Unmap()
		if a.IsValid() && !a.IsLoopback() && !a.IsMulticast() && !a.IsUnspecified() && !a.IsLinkLocalUnicast() &&
			!(a.Is4() && (a.As4()[0] == 0 || a.As4()[0] >= 224)) && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	addItem := func(it policy.AddrItem) {
		lo, hi := ir.Bounds(it)
		addAddr(lo)
		addAddr(hi)
		if n := lo.Next(); n.IsValid() && n.Compare(hi) < 0 {
			addAddr(n)
		}
	}
	addPort := func(p uint16) {
		if p != 0 && !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	visit := func(c policy.Cond) {
		switch c := c.(type) {
		case *policy.AddrCond:
			for _, it := range c.Items {
				addItem(it)
			}
			if c.Set != nil && len(c.Set.Elements) > 0 {
				for _, e := range c.Set.Elements[:min(3, len(c.Set.Elements))] {
					if len(e.Parts) > 0 && (e.Parts[0].Addr.Prefix.IsValid() || e.Parts[0].Addr.IsRange()) {
						addItem(e.Parts[0].Addr)
					}
				}
			}
		case *policy.PortCond:
			for _, pr := range c.Ranges {
				addPort(pr.Lo)
				addPort(pr.Hi)
			}
		case *policy.IfaceCond:
			for _, i := range c.Ifaces {
				if !i.Wildcard && i.Name != "lo" && len(i.Name) <= 15 {
					ifs[i.Name] = true
				}
			}
		}
	}
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			for _, ru := range c.Rules {
				for _, m := range ru.Matches {
					visit(m)
				}
				for _, a := range ru.Actions {
					switch a := a.(type) {
					case *policy.NAT:
						addAddr(a.AddrLo)
						addPort(a.PortLo)
					case *policy.Balance:
						for _, ep := range a.Endpoints {
							addAddr(ep.Addr())
							addPort(ep.Port())
						}
					case *ir.VerdictMap:
						for _, e := range a.Entries {
							visit(e.Match)
						}
					}
				}
			}
		}
	}
	for _, ro := range rs.Routing.Routes {
		if ro.Dev != "" {
			ifs[ro.Dev] = true
		}
	}
	for n := range ifs {
		h.ifaces = append(h.ifaces, n)
	}
	sort.Strings(h.ifaces)
	if len(h.ifaces) == 0 {
		h.ifaces = []string{"eth0", "eth1"}
	}
	if len(h.ifaces) > 40 {
		h.ifaces = h.ifaces[:40]
	}
	for i, n := range h.ifaces {
		h.ifAddr4[n] = netip.AddrFrom4([4]byte{10, 254, byte(i), 1})
		h.ifAddr6[n] = netip.MustParseAddr(fmt.Sprintf("fd00:254:%x::1", i))
	}
	h.def = h.ifaces[0]
	for _, s := range []string{"203.0.113.9", "198.51.100.77", "192.0.2.200", "2001:db8:77::9", "2001:db8:99::1"} {
		addAddr(netip.MustParseAddr(s))
	}
	addrs = slices.DeleteFunc(addrs, func(a netip.Addr) bool {
		return (a.Is4() && a.As4()[0] == 10 && a.As4()[1] == 254) || (a.Is6() && strings.HasPrefix(a.String(), "fd00:254:"))
	})
	// A third of the addresses are the host's own.
	var v4, v6 []netip.Addr
	for _, a := range addrs {
		if r.IntN(3) == 0 {
			h.local[a] = true
		}
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	// A zone's networks lie behind its interface, as on a real host;
	// other addresses behind any interface.
	for _, a := range addrs {
		if !h.local[a] {
			h.routes[a] = h.ifaces[r.IntN(len(h.ifaces))]
			if z := zoneOf(zones, a); z != "" && slices.Contains(h.ifaces, z) {
				h.routes[a] = z
			}
		}
	}
	for _, ro := range rs.Routing.Routes {
		if ro.Via.IsValid() && !h.isLocal(ro.Via) {
			// The gateway is reached through the route's own device.
			if ro.Dev != "" {
				h.routes[ro.Via.Unmap()] = ro.Dev
			} else if _, ok := h.routes[ro.Via.Unmap()]; !ok {
				h.routes[ro.Via.Unmap()] = h.ifaces[r.IntN(len(h.ifaces))]
			}
		}
	}
	var rules, natRules []*ir.Rule
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			rules = append(rules, c.Rules...)
			if t.Name == "nat" {
				natRules = append(natRules, c.Rules...)
			}
		}
	}
	var probes []probe
	for i := 0; i < 48; i++ {
		fam := v4
		if r.IntN(4) == 0 && len(v6) > 1 {
			fam = v6
		}
		var src, dst netip.Addr
		for range 20 {
			src, dst = fam[r.IntN(len(fam))], fam[r.IntN(len(fam))]
			if !h.local[src] && src != dst {
				break
			}
		}
		// Half the probes take what a rule names, so that rules of
		// specific hosts and ports are met, not only policies.
		var like *ir.Rule
		if i%2 == 1 && len(rules) > 0 {
			like = rules[r.IntN(len(rules))]
			if i%4 == 1 && len(natRules) > 0 {
				// NAT is where the walk does most: a quarter of
				// the probes aim at a nat rule.
				like = natRules[r.IntN(len(natRules))]
			}
			for _, m := range like.Matches {
				if a, ok := m.(*policy.AddrCond); ok && !a.Neg && len(a.Items) > 0 {
					lo, _ := ir.Bounds(a.Items[r.IntN(len(a.Items))])
					if lo = lo.Unmap(); lo.Is4() == src.Is4() && slices.Contains(addrs, lo) {
						if a.Dir == policy.Src {
							src = lo
						} else {
							dst = lo
						}
					}
				}
			}
		}
		if like != nil {
			// A rule on the output interface: a destination routed
			// out of it.
			for _, m := range like.Matches {
				if c, ok := m.(*policy.IfaceCond); ok && !c.Neg && c.Dir == policy.Dst && len(c.Ifaces) > 0 {
					var out []netip.Addr
					for _, a := range fam {
						if !h.local[a] && a.Is4() == src.Is4() && h.route(a) == c.Ifaces[0].Name {
							out = append(out, a)
						}
					}
					if len(out) > 0 {
						dst = out[r.IntN(len(out))]
					}
				}
			}
		}
		if h.local[src] || src == dst {
			continue
		}
		pr := probe{path: sem.Forwarded}
		if h.local[dst] {
			pr.path = sem.ToSelf
		}
		p := sem.Packet{Src: src, Dst: dst, InIface: h.ifaces[r.IntN(len(h.ifaces))], CtState: policy.CtNew}
		if z := zoneOf(zones, src); z != "" && slices.Contains(h.ifaces, z) && r.IntN(4) != 0 {
			p.InIface = z
		}
		if pr.path == sem.Forwarded && i%6 == 5 {
			// The host sends it, from one of its own addresses.
			pr.path = sem.FromSelf
			p.InIface = ""
			own := h.ifAddr4[h.ifaces[r.IntN(len(h.ifaces))]]
			if dst.Is6() {
				own = h.ifAddr6[h.ifaces[r.IntN(len(h.ifaces))]]
			}
			for a := range h.local {
				if a.Is4() == dst.Is4() && r.IntN(2) == 0 {
					own = a
				}
			}
			p.Src = own
		}
		if pr.path != sem.ToSelf {
			p.Unknown = p.Unknown.With(sem.OIf) // the routing decision's
		}
		switch r.IntN(5) {
		case 0:
			p.Proto = policy.ProtoUDP
		case 1:
			p.Proto, p.ICMPType = 1, 8
			if dst.Is6() {
				p.Proto, p.ICMPType = 58, 128
			}
		default:
			p.Proto, p.TCPFlags = policy.ProtoTCP, policy.SYN
		}
		if like != nil {
			for _, m := range like.Matches {
				switch c := m.(type) {
				case *policy.ProtoCond:
					if !c.Neg && len(c.Protos) > 0 {
						switch pr := c.Protos[0]; {
						case pr == policy.ProtoTCP:
							p.Proto, p.TCPFlags, p.ICMPType = pr, policy.SYN, 0
						case pr == policy.ProtoUDP:
							p.Proto, p.TCPFlags, p.ICMPType = pr, 0, 0
						}
					}
				case *policy.IfaceCond:
					if !c.Neg && c.Dir == policy.Src && len(c.Ifaces) > 0 && slices.Contains(h.ifaces, c.Ifaces[0].Name) {
						p.InIface = c.Ifaces[0].Name
					}
				}
			}
		}
		if p.Proto.HasPorts() {
			p.SrcPort, p.DstPort = uint16(20000+i), ports[r.IntN(len(ports))]
			if like != nil {
				for _, m := range like.Matches {
					if c, ok := m.(*policy.PortCond); ok && !c.Neg && c.Dir == policy.Dst && len(c.Ranges) > 0 {
						p.DstPort = c.Ranges[r.IntN(len(c.Ranges))].Lo
					}
				}
			}
		}
		if pr.path == sem.FromSelf {
			p.InIface = ""
		}
		pr.p = p
		probes = append(probes, pr)
	}
	return h, probes
}

// zoneOf is the one interface of the zone whose networks hold a.
func zoneOf(zones []*policy.Zone, a netip.Addr) string {
	for _, z := range zones {
		if len(z.Ifaces) != 1 || z.Ifaces[0].Wildcard {
			continue
		}
		for _, n := range z.Nets {
			if lo, hi := ir.Bounds(n); lo.Is4() == a.Is4() && !a.Less(lo) && !hi.Less(a) {
				return z.Ifaces[0].Name
			}
		}
	}
	return ""
}

// setupHost makes the firewall's interfaces (veths whose other ends are in
// inj), its addresses and routes, and the policy's ip rules and routes.
func setupHost(t *testing.T, fw, inj string, h *host, rs *ir.Ruleset) {
	t.Helper()
	var b strings.Builder
	b.WriteString("link set lo up\n")
	for i, n := range h.ifaces {
		fmt.Fprintf(&b, "link add %s type veth peer name p%d netns %s\n", n, i, inj)
		fmt.Fprintf(&b, "link set %s up\n", n)
		fmt.Fprintf(&b, "addr add %s/24 dev %s\n", h.ifAddr4[n], n)
		fmt.Fprintf(&b, "addr add %s/64 dev %s nodad\n", h.ifAddr6[n], n)
	}
	for a := range h.local {
		bits := 32
		if a.Is6() {
			bits = 128
		}
		nodad := ""
		if a.Is6() {
			nodad = " nodad"
		}
		fmt.Fprintf(&b, "addr add %s/%d dev lo%s\n", a, bits, nodad)
	}
	for a, dev := range h.routes {
		fmt.Fprintf(&b, "route replace %s dev %s\n", a, dev)
	}
	fmt.Fprintf(&b, "route replace default dev %s\n", h.def)
	fmt.Fprintf(&b, "route replace ::/0 dev %s\n", h.def)
	batch(t, fw, b.String())
	for fam, emit := range map[string]func(*ir.Ruleset) ([]byte, diag.Diagnostics){"-4": iproute2.IPv4, "-6": iproute2.IPv6} {
		text, _ := emit(rs)
		if len(strings.TrimSpace(string(text))) > 0 {
			if out, err := testnetns.Feed(fw, text, "ip", fam, "-batch", "-"); err != nil {
				t.Fatalf("the policy's routing: %v\n%s\n%s", err, out, text)
			}
		}
	}
	b.Reset()
	b.WriteString("link set lo up\n")
	for i := range h.ifaces {
		fmt.Fprintf(&b, "link set p%d up\n", i)
	}
	batch(t, inj, b.String())
	testnetns.Run(t, fw, "sh", "-c", `set -e
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/ipv6/conf/all/forwarding
for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 > $f; done`)
}

func batch(t *testing.T, ns, cmds string) {
	t.Helper()
	cmd := exec.Command("ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(cmds)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s -batch: %v\n%s\n%s", ns, err, out, cmds)
	}
}

// kernel sends probes into the firewall and reads its trace events.
type kernel struct {
	conn *netlink.Conn
	sock int
	// raw4 and raw6 send the host's own packets (IPPROTO_RAW: the
	// header is the test's), in the firewall namespace.
	raw4, raw6 int
	peer       map[string]int              // firewall interface -> ifindex of its peer in inj
	mac        map[string]net.HardwareAddr // firewall interface -> its address
	byIdx      map[uint32]string           // firewall ifindex -> name
	events     chan traceEvent
}

type traceEvent struct {
	id            uint32
	typ           uint32
	table, chain  string
	verdict       int32
	hasVerdict    bool
	policy        uint32
	oif           uint32
	network       []byte
	transport     []byte
	err           error
	nfproto       uint8
	hasNetworkHdr bool
}

func newKernel(t *testing.T, fw, inj string, h *host) *kernel {
	t.Helper()
	k := &kernel{peer: map[string]int{}, mac: map[string]net.HardwareAddr{}, byIdx: map[uint32]string{}, events: make(chan traceEvent, 1024)}
	nsh, err := netns.GetFromName(fw)
	if err != nil {
		t.Fatal(err)
	}
	defer nsh.Close()
	k.conn, err = netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: int(nsh)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.conn.Close() })
	// Subscribed from here on: no event of a probe sent later is missed.
	if err := k.conn.JoinGroup(unix.NFNLGRP_NFTRACE); err != nil {
		t.Fatal(err)
	}
	hfw, err := vnl.NewHandleAt(nsh)
	if err != nil {
		t.Fatal(err)
	}
	defer hfw.Close()
	for _, n := range h.ifaces {
		l, err := hfw.LinkByName(n)
		if err != nil {
			t.Fatal(err)
		}
		k.mac[n] = l.Attrs().HardwareAddr
		k.byIdx[uint32(l.Attrs().Index)] = n
	}
	ih, err := netns.GetFromName(inj)
	if err != nil {
		t.Fatal(err)
	}
	defer ih.Close()
	hinj, err := vnl.NewHandleAt(ih)
	if err != nil {
		t.Fatal(err)
	}
	defer hinj.Close()
	for i, n := range h.ifaces {
		l, err := hinj.LinkByName(fmt.Sprintf("p%d", i))
		if err != nil {
			t.Fatal(err)
		}
		k.peer[n] = l.Attrs().Index
	}
	testnetns.Do(t, inj, func() {
		// Protocol 0: this socket sends only, it receives nothing.
		k.sock, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(k.sock) })
	testnetns.Do(t, fw, func() {
		k.raw4, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
		if err == nil {
			k.raw6, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_RAW)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(k.raw4); unix.Close(k.raw6) })
	go k.read()
	return k
}

// read decodes trace events until the socket closes.
func (k *kernel) read() {
	for {
		msgs, err := k.conn.Receive()
		if err != nil {
			k.events <- traceEvent{err: err}
			return
		}
		for _, m := range msgs {
			if m.Header.Type != netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_TRACE) || len(m.Data) < 4 {
				continue
			}
			ev := traceEvent{nfproto: m.Data[0]}
			ad, err := netlink.NewAttributeDecoder(m.Data[4:])
			if err != nil {
				continue
			}
			ad.ByteOrder = binary.BigEndian
			for ad.Next() {
				switch ad.Type() {
				case unix.NFTA_TRACE_ID:
					ev.id = ad.Uint32()
				case unix.NFTA_TRACE_TYPE:
					ev.typ = ad.Uint32()
				case unix.NFTA_TRACE_TABLE:
					ev.table = ad.String()
				case unix.NFTA_TRACE_CHAIN:
					ev.chain = ad.String()
				case unix.NFTA_TRACE_POLICY:
					ev.policy = ad.Uint32()
				case unix.NFTA_TRACE_OIF:
					ev.oif = ad.Uint32()
				case unix.NFTA_TRACE_NETWORK_HEADER:
					ev.network = ad.Bytes()
					ev.hasNetworkHdr = true
				case unix.NFTA_TRACE_TRANSPORT_HEADER:
					ev.transport = ad.Bytes()
				case unix.NFTA_TRACE_VERDICT:
					ad.Nested(func(nad *netlink.AttributeDecoder) error {
						nad.ByteOrder = binary.BigEndian
						for nad.Next() {
							if nad.Type() == unix.NFTA_VERDICT_CODE {
								ev.verdict = int32(nad.Uint32())
								ev.hasVerdict = true
							}
						}
						return nil
					})
				}
			}
			k.events <- ev
		}
	}
}

// guard bounds the wait for a probe's last event. It is not a margin the
// result depends on: every probe ends in an event (the routes make every
// packet either local or routed out), and a missing one fails the test.
const guard = 20 * time.Second

// send injects pr on its input interface with source port sport and
// returns what the kernel did with it.
func (k *kernel) send(t *testing.T, pr probe, sport uint16) kernelAnswer {
	t.Helper()
	pkt, proto := build(pr.p, sport)
	first := "pre"
	var err error
	switch {
	case pr.path == sem.FromSelf && proto == 0x0800:
		first = "out"
		err = unix.Sendto(k.raw4, pkt, 0, &unix.SockaddrInet4{Addr: pr.p.Dst.As4()})
	case pr.path == sem.FromSelf:
		first = "out"
		err = unix.Sendto(k.raw6, pkt, 0, &unix.SockaddrInet6{Addr: pr.p.Dst.As16()})
	default:
		ll := &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: k.peer[pr.p.InIface], Halen: 6}
		copy(ll.Addr[:], k.mac[pr.p.InIface])
		err = unix.Sendto(k.sock, pkt, 0, ll)
	}
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	timer := time.NewTimer(guard)
	defer timer.Stop()
	var id uint32
	seen := false
	// The first event of each chain carries the packet's headers and
	// interfaces as they are there (after NAT, in the end chains).
	var hdr traceEvent
	for {
		select {
		case ev := <-k.events:
			if ev.err != nil {
				t.Fatalf("trace events: %v", ev.err)
			}
			if !seen {
				// The probe's first event is in the chain that traces
				// it, with its headers as sent. Anything else is
				// another packet: an icmp error or reset the host
				// sends about an earlier probe carries its trace.
				if ev.table != "fwc_test_trace" || ev.chain != first || !ev.hasNetworkHdr {
					continue
				}
				// The kernel fills in a raw packet's id and checksum:
				// compare what the probe says.
				if src, dst, proto, _, _ := parseHeaders(ev.network, nil); src != pr.p.Src.Unmap() || dst != pr.p.Dst.Unmap() || proto != uint8(pr.p.Proto) {
					continue
				}
				id, seen = ev.id, true
			} else if ev.id != id {
				continue
			}
			if ev.hasNetworkHdr {
				hdr = ev
			}
			switch {
			case ev.typ == unix.NFT_TRACETYPE_RULE && ev.hasVerdict && ev.verdict == nfDrop,
				ev.typ == unix.NFT_TRACETYPE_POLICY && ev.policy == nfDrop:
				return kernelAnswer{drop: true, dropChain: ev.table + " " + ev.chain}
			case ev.typ == unix.NFT_TRACETYPE_POLICY && ev.table == "fwc_test_trace" && (ev.chain == "in_end" || ev.chain == "post_end"):
				a := kernelAnswer{where: "local"}
				if hdr.chain != ev.chain {
					t.Fatalf("no headers in the events of chain %s", ev.chain)
				}
				if ev.chain == "post_end" {
					a.where = k.byIdx[hdr.oif]
				}
				a.src, a.dst, a.proto, a.sp, a.dp = parseHeaders(hdr.network, hdr.transport)
				return a
			}
		case <-timer.C:
			t.Fatalf("no verdict from the kernel for %s %s within %v", pr.path, words(pr.p), guard)
		}
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// parseHeaders reads the addresses and ports of an IP header and the
// transport header after it.
func parseHeaders(nh, th []byte) (src, dst netip.Addr, proto uint8, sp, dp uint16) {
	switch {
	case len(nh) >= 20 && nh[0]>>4 == 4:
		src = netip.AddrFrom4([4]byte(nh[12:16]))
		dst = netip.AddrFrom4([4]byte(nh[16:20]))
		proto = nh[9]
	case len(nh) >= 40 && nh[0]>>4 == 6:
		src = netip.AddrFrom16([16]byte(nh[8:24]))
		dst = netip.AddrFrom16([16]byte(nh[24:40]))
		proto = nh[6]
	}
	if len(th) >= 4 {
		sp, dp = binary.BigEndian.Uint16(th[0:2]), binary.BigEndian.Uint16(th[2:4])
	}
	return
}

// build makes the IP packet of p (with sport), checksums included, and
// returns it with its ethertype.
func build(p sem.Packet, sport uint16) ([]byte, uint16) {
	var l4 []byte
	switch p.Proto {
	case policy.ProtoTCP:
		l4 = make([]byte, 20)
		binary.BigEndian.PutUint16(l4[0:], sport)
		binary.BigEndian.PutUint16(l4[2:], p.DstPort)
		binary.BigEndian.PutUint32(l4[4:], 1)
		l4[12] = 5 << 4
		l4[13] = p.TCPFlags
		binary.BigEndian.PutUint16(l4[14:], 65535)
	case policy.ProtoUDP:
		l4 = make([]byte, 12)
		binary.BigEndian.PutUint16(l4[0:], sport)
		binary.BigEndian.PutUint16(l4[2:], p.DstPort)
		binary.BigEndian.PutUint16(l4[4:], 12)
		copy(l4[8:], "fwc!")
	default: // icmp or icmpv6 echo request
		l4 = make([]byte, 12)
		l4[0] = p.ICMPType
		binary.BigEndian.PutUint16(l4[4:], sport) // the echo id
		binary.BigEndian.PutUint16(l4[6:], 1)
		copy(l4[8:], "fwc!")
	}
	csumAt := map[policy.Proto]int{policy.ProtoTCP: 16, policy.ProtoUDP: 6, 1: 2, 58: 2}[p.Proto]
	src, dst := p.Src.Unmap(), p.Dst.Unmap()
	if src.Is4() {
		ip := make([]byte, 20)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
		ip[8] = probeTTL
		ip[9] = uint8(p.Proto)
		s4, d4 := src.As4(), dst.As4()
		copy(ip[12:], s4[:])
		copy(ip[16:], d4[:])
		binary.BigEndian.PutUint16(ip[10:], csum(0, ip))
		var sum uint32
		if p.Proto != 1 { // icmp has no pseudo header
			sum = pseudo(s4[:], d4[:], uint8(p.Proto), len(l4))
		}
		binary.BigEndian.PutUint16(l4[csumAt:], csum(sum, l4))
		return append(ip, l4...), 0x0800
	}
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
	ip[6] = uint8(p.Proto)
	ip[7] = probeTTL
	s6, d6 := src.As16(), dst.As16()
	copy(ip[8:], s6[:])
	copy(ip[24:], d6[:])
	binary.BigEndian.PutUint16(l4[csumAt:], csum(pseudo(s6[:], d6[:], uint8(p.Proto), len(l4)), l4))
	return append(ip, l4...), 0x86dd
}

func pseudo(src, dst []byte, proto uint8, n int) uint32 {
	var sum uint32
	for _, b := range [][]byte{src, dst} {
		for i := 0; i < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
	}
	return sum + uint32(proto) + uint32(n)
}

func csum(sum uint32, b []byte) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// nfDrop is the kernel's NF_DROP verdict.
const nfDrop = 0
