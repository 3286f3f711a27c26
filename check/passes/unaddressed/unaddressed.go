package unaddressed

import (
	"net/netip"
	"slices"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/accepts"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

const CodeUnaddressed = "FW1310"

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name:  "unaddressed",
	Codes: []diag.Doc{{Code: CodeUnaddressed, Severity: diag.Warning}},
	Run:   run,
})

func init() { analysis.Register(Analyzer) }

// request is a request of a client without an address: its protocol's
// name, and the packet as it reaches the input chain.
type request struct {
	name string
	pkt  sem.Packet
	fam  policy.Family
}

// requests returns the requests z's clients send before they have an
// address, one per family z has networks of, arriving on z's first
// interface (an unknown one when it has none, or only wildcards).
func requests(z *policy.Zone) []request {
	var out []request
	in, unknown := "", sem.Dims(0).With(sem.IIf)
	for _, i := range z.Ifaces {
		if !i.Wildcard {
			in, unknown = i.Name, 0
			break
		}
	}
	// A request is a new connection to conntrack: the server's answer goes
	// to another address (the broadcast, or the address offered), so no
	// reply ever makes it established. Its marks are not its to decide.
	unknown = unknown.With(sem.CtStatus).With(sem.Mark).With(sem.CtMark)
	has := func(v6 bool) bool {
		return slices.ContainsFunc(z.Nets, func(a policy.AddrItem) bool { return a.Is4() != v6 })
	}
	if has(false) {
		out = append(out, request{"DHCP", sem.Packet{Src: netip.IPv4Unspecified(), Dst: netip.AddrFrom4([4]byte{255, 255, 255, 255}),
			Proto: policy.ProtoUDP, SrcPort: 68, DstPort: 67, InIface: in, CtState: policy.CtNew, Unknown: unknown}, policy.IPv4})
	}
	if has(true) {
		out = append(out, request{"DHCPv6", sem.Packet{Src: netip.MustParseAddr("fe80::1"), Dst: netip.MustParseAddr("ff02::1:2"),
			Proto: policy.ProtoUDP, SrcPort: 546, DstPort: 547, InIface: in, CtState: policy.CtNew, Unknown: unknown}, policy.IPv6})
	}
	return out
}

func run(pass *analysis.Pass) (any, error) {
	if pass.Program == nil {
		return nil, nil
	}
	var inputs []*policy.Chain
	for _, t := range pass.Program.Tables {
		for _, c := range t.Chains {
			if t.Name == "filter" && c.Hook == policy.Input {
				inputs = append(inputs, c)
			}
		}
	}
	for _, z := range pass.Program.Zones {
		if len(z.Nets) == 0 {
			continue
		}
		for _, rq := range requests(z) {
			pt := rq.pkt.Point()
			if holds(z.Nets, pt) {
				continue // the zone's net takes the request's source in
			}
			// The zone names of the rules that would accept the request
			// but for the zone's net; none when some rule accepts it.
			var culprits []ast.Node
			accepted := false
			for _, c := range inputs {
				res := accepts.Walk(c)
				if res.End == nil && (c.Policy == nil || c.Policy.Kind == policy.Accept) {
					accepted = true
				}
				for _, p := range res.Paths {
					if p.Fam&rq.fam == 0 {
						continue
					}
					at, ok := blocked(p.Conds, z, pt)
					switch {
					case ok && at != nil:
						culprits = append(culprits, at)
					case ok:
						accepted = true
					}
				}
			}
			if accepted {
				continue
			}
			seen := map[ast.Node]bool{}
			for _, at := range culprits {
				if seen[at] {
					continue
				}
				seen[at] = true
				d := pass.Reportf(CodeUnaddressed, analysis.Span(at), "%s requests from zone %s come from %s, outside its net: this rule never accepts them",
					rq.name, z.Name, rq.pkt.Src)
				d.Detail = detail(rq, z)
				if r := netRange(z); !r.IsZero() {
					d.Related = []diag.Related{{Message: "zone " + z.Name + "'s networks", Range: r}}
				}
			}
		}
	}
	return nil, nil
}

// blocked judges one accepting path for the request at pt. ok: every
// condition but the zone's net may hold for the request; at is then the
// zone reference whose net refuses it (nil when no condition refuses it:
// the path accepts the request), when the path names the server port.
func blocked(conds []policy.Cond, z *policy.Zone, pt sem.Point) (at ast.Node, ok bool) {
	port := false
	for _, c := range conds {
		if a, isAddr := c.(*policy.AddrCond); isAddr && zoneNet(a, z) && sem.Holds(c, pt) == sem.No {
			at = a.Node
			continue
		}
		t := sem.Holds(c, pt)
		if t == sem.No {
			return nil, false
		}
		if p, isPort := c.(*policy.PortCond); isPort && p.Dir == policy.Dst && !p.Neg && t == sem.Yes {
			port = true
		}
	}
	if at != nil && !port {
		return nil, false // accepts everything from the zone: no service named
	}
	return at, true
}

// zoneNet reports whether a is the condition the checker made for z's
// networks: it holds z's own list of networks (check/lower.go's zoneConds
// hands the zone's slice to the condition).
func zoneNet(a *policy.AddrCond, z *policy.Zone) bool {
	return a.Dir == policy.Src && !a.Neg && a.Set == nil && len(a.Items) > 0 && len(a.Items) == len(z.Nets) && &a.Items[0] == &z.Nets[0]
}

// holds reports whether one of nets holds the request's source.
func holds(nets []policy.AddrItem, pt sem.Point) bool {
	return sem.Holds(&policy.AddrCond{Dir: policy.Src, Items: nets}, pt) == sem.Yes
}

func detail(rq request, z *policy.Zone) string {
	iif := "iif IFACE "
	if rq.pkt.InIface != "" {
		iif = "iif " + rq.pkt.InIface + " "
	}
	if rq.fam == policy.IPv6 {
		return "A DHCPv6 client sends its requests from its link-local address (fe80::/10) to ff02::1:2 before it has another address, and zone " + z.Name +
			" matches only sources in its networks, so they fall through to the input policy. Accept them by interface in the input chain: " + iif + "saddr fe80::/10 udp dport 547 accept"
	}
	return "A DHCP client without an address sends its requests from 0.0.0.0 to 255.255.255.255, and zone " + z.Name +
		" matches only sources in its networks, so they fall through to the input policy. Accept them by interface in the input chain: " + iif + "udp sport 68 udp dport 67 accept"
}

// netRange is the range of z's first net line, or the zone's name.
func netRange(z *policy.Zone) diag.Range {
	if z.Decl == nil {
		return diag.Range{}
	}
	for _, it := range z.Decl.Items {
		if it.Key.Name == "net" {
			return it.Range
		}
	}
	return analysis.Span(&z.Decl.Name)
}
