package portfwd

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/accepts"
	"github.com/fwcproject/fwc/check/passes/internal/match"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const (
	CodeForwardDrops = "FW1720"
	CodeToBehindNAT  = "FW1721"
)

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name: "portfwd",
	Codes: []diag.Doc{
		{Code: CodeForwardDrops, Severity: diag.Warning},
		{Code: CodeToBehindNAT, Severity: diag.Warning},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	p := pass.Program
	if p == nil {
		return nil, nil
	}
	var pre, post, fwd *policy.Chain
	for _, t := range p.Tables {
		for _, c := range t.Chains {
			switch {
			case t.Name == "nat" && c.Hook == policy.Prerouting:
				pre = c
			case t.Name == "nat" && c.Hook == policy.Postrouting:
				post = c
			case t.Name == "filter" && c.Hook == policy.Forward:
				fwd = c
			}
		}
	}
	if pre == nil {
		return nil, nil
	}
	never := behindNAT(pass, pre, post)
	if fwd == nil || fwd.Table.Incomplete() {
		return nil, nil
	}
	w := accepts.Walk(fwd)
	end := w.End
	if w.All {
		return nil, nil
	}
	dropAt := diag.Range{}
	switch {
	case end != nil && dropsAll(end):
		dropAt = analysis.RuleRange(end)
	case end == nil && fwd.Policy != nil && fwd.Policy.Kind == policy.Drop:
		dropAt = analysis.At(fwd.Policy, nil)
		if dropAt.IsZero() {
			dropAt = analysis.ChainRange(fwd)
		}
	default:
		return nil, nil
	}
	for _, r := range pre.Rules {
		if never[r.Src] {
			continue // FW1721: it never matches, so it forwards nothing
		}
		for _, pk := range forwarded(r) {
			for _, z := range p.Zones {
				if slices.ContainsFunc(z.Nets, func(a policy.AddrItem) bool { return match.AddrContains(a, pk.daddr) }) {
					pk.oifs = append(pk.oifs, z.Ifaces...)
				}
			}
			if slices.ContainsFunc(w.Paths, pk.possible) {
				continue
			}
			d := pass.Reportf(CodeForwardDrops, analysis.At(pk.at, r), "port forward to %s: the forward chain drops the translated packets", pk.target())
			d.Detail = "After the dnat the packets are routed on through the filter forward chain, which drops by default, and no rule there accepts them. Accept them there, for example: from ZONE to ZONE ct status dnat accept."
			if !dropAt.IsZero() {
				d.Related = []diag.Related{{Message: "the forward chain drops them here", Range: dropAt}}
			}
			break // one report per rule
		}
	}
	return nil, nil
}

// packet is a translated packet as the forward chain sees it. Zero fields
// are unknown (any value).
type packet struct {
	at    any // the dnat or balance action
	fam   policy.Family
	proto policy.Proto
	daddr netip.Addr
	dport uint16
	iifs  []policy.Iface // one of these, when known
	// oifs: the interfaces of the zones whose networks hold daddr, where
	// routing sends it; nil when no zone's networks hold it.
	oifs []policy.Iface
}

func (pk packet) target() string {
	if pk.dport == 0 {
		return pk.daddr.String()
	}
	return netip.AddrPortFrom(pk.daddr, pk.dport).String()
}

// forwarded returns the packets a dnat or balance rule sends on: one per
// balance endpoint. A dnat without an address (ports only) or any other
// rule yields none.
func forwarded(r *policy.Rule) []packet {
	base := packet{fam: r.Family}
	var dport uint16
	for _, c := range r.Conds {
		switch c := c.(type) {
		case *policy.ProtoCond:
			if !c.Neg && len(c.Protos) == 1 {
				base.proto = c.Protos[0]
			}
		case *policy.PortCond:
			if !c.Neg && c.Dir == policy.Dst && c.Set == nil && len(c.Ranges) == 1 && c.Ranges[0].Lo == c.Ranges[0].Hi {
				dport = c.Ranges[0].Lo
			}
		case *policy.IfaceCond:
			if !c.Neg && c.Dir == policy.Src && c.Set == nil {
				base.iifs = c.Ifaces
			}
		}
	}
	var out []packet
	for _, a := range r.Actions {
		switch a := a.(type) {
		case *policy.NAT:
			if a.Kind != policy.DNAT || !a.AddrLo.IsValid() {
				return nil
			}
			pk := base
			pk.at, pk.daddr, pk.dport = a, a.AddrLo, dport
			if a.PortLo != 0 {
				pk.dport = a.PortLo
			}
			return append(out, pk)
		case *policy.Balance:
			for _, ep := range a.Endpoints {
				pk := base
				pk.at, pk.daddr, pk.dport = a, ep.Addr(), ep.Port()
				out = append(out, pk)
			}
			return out
		}
		if policy.IsTerminal(a) {
			return nil
		}
	}
	return nil
}

// possible reports whether the accepting path pa could take pk.
func (pk packet) possible(pa accepts.Path) bool {
	fam := policy.IPv6
	if pk.daddr.Is4() {
		fam = policy.IPv4
	}
	if pa.Fam&pk.fam&fam == 0 {
		return false
	}
	for _, c := range pa.Conds {
		if !pk.cond(c) {
			return false
		}
	}
	return true
}

func (pk packet) cond(c policy.Cond) bool {
	switch c := c.(type) {
	case *policy.ProtoCond:
		return pk.proto == 0 || slices.Contains(c.Protos, pk.proto) != c.Neg
	case *policy.PortCond:
		if c.Dir != policy.Dst || c.Set != nil || pk.dport == 0 {
			return true
		}
		if pk.proto != 0 && !pk.proto.HasPorts() {
			return c.Neg
		}
		in := slices.ContainsFunc(c.Ranges, func(r policy.PortRange) bool { return r.Lo <= pk.dport && pk.dport <= r.Hi })
		return in != c.Neg
	case *policy.ICMPCond:
		if pk.proto == 0 || pk.proto == policy.ProtoICMP || pk.proto == policy.ProtoICMPv6 {
			return true
		}
		return c.Neg
	case *policy.AddrCond:
		if c.Dir != policy.Dst || c.Set != nil {
			return true
		}
		in := slices.ContainsFunc(c.Items, func(a policy.AddrItem) bool { return match.AddrContains(a, pk.daddr) })
		return in != c.Neg
	case *policy.IfaceCond:
		known := pk.iifs
		if c.Dir == policy.Dst {
			known = pk.oifs
		}
		if c.Set != nil || c.Neg || known == nil {
			return true
		}
		return slices.ContainsFunc(known, func(in policy.Iface) bool {
			return slices.ContainsFunc(c.Ifaces, func(i policy.Iface) bool {
				return match.IfaceMatches(i, in.Name) || in.Wildcard || i.Wildcard && strings.HasPrefix(in.Name, i.Name)
			})
		})
	case *policy.CtStateCond:
		return c.Bits&policy.CtNew != 0 != c.Neg
	case *policy.CtStatusCond:
		// The first packet's connection has the dnat status and none of
		// seen-reply, assured, confirmed, snat or dying; expected is unknown.
		if c.Bits&policy.StatusExpected != 0 {
			return true
		}
		return c.Bits&policy.StatusDNAT != 0 != c.Neg
	}
	return true
}

func dropsAll(r *policy.Rule) bool {
	for _, a := range r.Actions {
		if v, ok := a.(*policy.Verdict); ok {
			return v.Kind == policy.Drop || v.Kind == policy.Reject
		}
		if policy.IsTerminal(a) {
			return false
		}
	}
	return false
}

// behindNAT reports FW1721 for the zone-level dnat and redirect rules of
// prerouting written `from A to B` with B behind NAT as seen from A, and
// returns the source rules it reported.
func behindNAT(pass *analysis.Pass, pre, post *policy.Chain) map[ast.Node]bool {
	zones := map[string]*policy.Zone{}
	for _, z := range pass.Program.Zones {
		zones[z.Name] = z
	}
	seen, never := map[ast.Node]bool{}, map[ast.Node]bool{}
	for _, r := range pre.Rules {
		src, ok := r.Src.(*ast.Rule)
		if !ok || r.Origin != policy.FromZone || src.From == nil || src.To == nil || seen[src] {
			continue
		}
		seen[src] = true
		from, to := zones[src.From.Name], zones[src.To.Name]
		if from == nil || to == nil || from == to || len(to.Nets) == 0 || translates(r) == "" {
			continue
		}
		nat := natToward(post, from, to)
		if nat == nil {
			continue
		}
		d := pass.Reportf(CodeToBehindNAT, analysis.Span(src.To), "%s from %s to %s never matches: %s is behind NAT as seen from %s; write \"to self\"", translates(r), from.Name, to.Name, to.Name, from.Name)
		d.Detail = fmt.Sprintf("A NAT rule sees the packet before translation: this one matches only packets addressed to %s's networks, but this policy translates %s's addresses toward %s, so packets from %s are addressed to this host. Write the port forward \"from %s to self ...\".",
			to.Name, to.Name, from.Name, from.Name, from.Name)
		d.Related = []diag.Related{{Message: fmt.Sprintf("%s's source addresses are translated toward %s here", to.Name, from.Name), Range: analysis.RuleRange(nat)}}
		never[src] = true
	}
	return never
}

// translates returns "dnat" or "redirect" for a rule that rewrites the
// destination, or "".
func translates(r *policy.Rule) string {
	for _, a := range r.Actions {
		if n, ok := a.(*policy.NAT); ok && (n.Kind == policy.DNAT || n.Kind == policy.Redirect) {
			return n.Kind.String()
		}
	}
	return ""
}

// natToward returns a postrouting snat or masquerade rule that translates
// the source of packets from zone inner going out toward zone outer: its
// output interface condition (if any) names one of outer's interfaces, and
// its source address condition (if any) overlaps inner's networks.
func natToward(post *policy.Chain, outer, inner *policy.Zone) *policy.Rule {
	if post == nil || len(outer.Ifaces) == 0 {
		return nil
	}
	for _, r := range post.Rules {
		isNAT := slices.ContainsFunc(r.Actions, func(a policy.Action) bool {
			n, ok := a.(*policy.NAT)
			return ok && (n.Kind == policy.SNAT || n.Kind == policy.Masquerade)
		})
		if !isNAT {
			continue
		}
		fits := true
		for _, c := range r.Conds {
			switch c := c.(type) {
			case *policy.IfaceCond:
				if c.Dir == policy.Dst && !c.Neg && c.Set == nil {
					fits = fits && slices.ContainsFunc(c.Ifaces, func(i policy.Iface) bool {
						return slices.ContainsFunc(outer.Ifaces, func(o policy.Iface) bool { return match.IfaceMatches(i, o.Name) })
					})
				}
			case *policy.AddrCond:
				if c.Dir == policy.Src && !c.Neg && c.Set == nil {
					fits = fits && slices.ContainsFunc(c.Items, func(a policy.AddrItem) bool {
						return slices.ContainsFunc(inner.Nets, func(n policy.AddrItem) bool {
							return match.AddrWithin(a, n) || match.AddrWithin(n, a)
						})
					})
				}
			case *policy.CtStatusCond:
				fits = false // hairpin and other special cases
			}
		}
		if fits {
			return r
		}
	}
	return nil
}
