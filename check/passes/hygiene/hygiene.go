package hygiene

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/accepts"
	"github.com/fwcproject/fwc/check/passes/internal/match"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const (
	CodeEstablished = "FW1301"
	CodeND          = "FW1302"
	CodeSSH         = "FW1303"
	CodeLoopback    = "FW1304"
)

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name: "hygiene",
	Codes: []diag.Doc{
		{Code: CodeEstablished, Severity: diag.Warning},
		{Code: CodeND, Severity: diag.Warning},
		{Code: CodeSSH, Severity: diag.Warning},
		{Code: CodeLoopback, Severity: diag.Warning},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	if pass.Program == nil {
		return nil, nil
	}
	v4 := len(pass.Backends) == 0 || pass.HasBackend("nft") || pass.HasBackend("iptables")
	v6 := len(pass.Backends) == 0 || pass.HasBackend("nft") || pass.HasBackend("ip6tables")
	var fams []policy.Family
	if v4 {
		fams = append(fams, policy.IPv4)
	}
	if v6 {
		fams = append(fams, policy.IPv6)
	}
	for _, t := range pass.Program.Tables {
		if t.Incomplete() {
			continue // a rule that failed to check may be the missing accept
		}
		for _, c := range t.Chains {
			if c.Hook != policy.Input {
				continue
			}
			w := accepts.Walk(c)
			end := w.End
			if w.All {
				continue
			}
			drops := c.Policy != nil && c.Policy.Kind == policy.Drop
			subject := diag.Range{}
			if drops {
				subject = analysis.At(c.Policy, nil)
			}
			if end != nil && dropsAll(end) {
				drops = true
				if subject.IsZero() {
					subject = analysis.RuleRange(end)
				}
			}
			if !drops {
				continue
			}
			if subject.IsZero() {
				subject = analysis.ChainRange(c)
			}
			check(pass, c, subject, w.Paths, fams)
		}
	}
	return nil, nil
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

// probe describes a kind of traffic; zero fields are unconstrained.
type probe struct {
	fam   policy.Family
	proto policy.Proto
	dport uint16
	icmp6 int    // icmpv6 type, or 0
	ct    uint32 // the packet's ct state bits
	// needCt: only an explicit ct state condition allowing ct counts.
	needCt bool
	// notLo: the traffic does not arrive on lo.
	notLo bool
}

func (p probe) possible(pa accepts.Path) bool {
	if p.fam != 0 && pa.Fam&p.fam == 0 {
		return false
	}
	sawCt := false
	for _, c := range pa.Conds {
		if !p.cond(c, pa.Fam) {
			return false
		}
		if s, ok := c.(*policy.CtStateCond); ok && s.Bits&p.ct != 0 != s.Neg {
			sawCt = true
		}
	}
	return !p.needCt || sawCt
}

func (p probe) cond(c policy.Cond, fam policy.Family) bool {
	switch c := c.(type) {
	case *policy.ProtoCond:
		if p.proto == 0 {
			return true
		}
		return slices.Contains(c.Protos, p.proto) != c.Neg
	case *policy.PortCond:
		if p.proto == 0 {
			return true
		}
		if !p.proto.HasPorts() {
			return c.Neg
		}
		if c.Dir != policy.Dst || p.dport == 0 || c.Set != nil {
			return true
		}
		in := slices.ContainsFunc(c.Ranges, func(r policy.PortRange) bool { return r.Lo <= p.dport && p.dport <= r.Hi })
		return in != c.Neg
	case *policy.ICMPCond:
		if p.proto == 0 {
			return true
		}
		if p.icmp6 == 0 || !c.V6 {
			return c.Neg
		}
		in := slices.ContainsFunc(c.Types, func(t policy.ICMPType) bool { return int(t.Type) == p.icmp6 })
		return in != c.Neg
	case *policy.CtStateCond:
		if p.ct == 0 {
			return true
		}
		return c.Bits&p.ct != 0 != c.Neg
	case *policy.IfaceCond:
		if c.Dir != policy.Src || c.Neg || c.Set != nil || !p.notLo {
			return true
		}
		return slices.ContainsFunc(c.Ifaces, func(i policy.Iface) bool { return i.Wildcard || i.Name != "lo" })
	case *policy.AddrCond:
		if c.Neg || c.Set != nil {
			return true
		}
		return slices.ContainsFunc(c.Items, func(a policy.AddrItem) bool {
			if p.notLo && c.Dir == policy.Src && (match.AddrWithin(a, loopNet4) || match.AddrWithin(a, loopNet6)) {
				return false
			}
			return p.fam == 0 || a.Is4() == (p.fam == policy.IPv4)
		})
	}
	return true
}

var (
	established = probe{ct: policy.CtEstablished, needCt: true}
	related     = probe{ct: policy.CtRelated, needCt: true}
	ssh         = probe{proto: policy.ProtoTCP, dport: 22, ct: policy.CtNew, notLo: true}
	// Neighbour discovery is untracked in current kernels; accept a ct
	// condition naming new or invalid too, so as not to second-guess older
	// kernels.
	ndSolicit = probe{fam: policy.IPv6, proto: policy.ProtoICMPv6, icmp6: 135, ct: policy.CtUntracked | policy.CtNew | policy.CtInvalid, notLo: true}
	ndAdvert  = probe{fam: policy.IPv6, proto: policy.ProtoICMPv6, icmp6: 136, ct: policy.CtUntracked | policy.CtNew | policy.CtInvalid, notLo: true}
)

func anyPossible(p probe, paths []accepts.Path) bool {
	return slices.ContainsFunc(paths, p.possible)
}

var (
	loopback4, loopback6 = netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	loopNet4             = policy.AddrItem{Prefix: netip.MustParsePrefix("127.0.0.0/8")}
	loopNet6             = policy.AddrItem{Prefix: netip.MustParsePrefix("::1/128")}
)

// loopback reports whether a path accepts traffic on lo as such: it names
// iif lo (or a wildcard matching it) or a loopback source address.
func loopback(pa accepts.Path) bool {
	for _, c := range pa.Conds {
		switch c := c.(type) {
		case *policy.IfaceCond:
			if c.Dir == policy.Src && !c.Neg && slices.ContainsFunc(c.Ifaces, func(i policy.Iface) bool { return match.IfaceMatches(i, "lo") }) {
				return true
			}
		case *policy.AddrCond:
			if c.Dir == policy.Src && !c.Neg && slices.ContainsFunc(c.Items, func(a policy.AddrItem) bool {
				return match.AddrContains(a, loopback4) || match.AddrContains(a, loopback6)
			}) {
				return true
			}
		}
	}
	return false
}

// lacking judges the traffic ok tests in each family: missing when a family
// the backends carry (fams) is not accepted; where is "" when neither
// family is accepted, else " over IPv4" or " over IPv6" for the one left
// out.
func lacking(fams []policy.Family, ok func(policy.Family) bool) (where string, missing bool) {
	var no []policy.Family
	for _, f := range []policy.Family{policy.IPv4, policy.IPv6} {
		if !ok(f) {
			no = append(no, f)
		}
	}
	if !slices.ContainsFunc(no, func(f policy.Family) bool { return slices.Contains(fams, f) }) {
		return "", false
	}
	if len(no) == 2 {
		return "", true
	}
	return " over " + map[policy.Family]string{policy.IPv4: "IPv4", policy.IPv6: "IPv6"}[no[0]], true
}

// inFam is p restricted to family f.
func inFam(p probe, f policy.Family) probe {
	p.fam = f
	return p
}

func check(pass *analysis.Pass, c *policy.Chain, at diag.Range, paths []accepts.Path, fams []policy.Family) {
	name := "the " + c.Table.Name + " input chain"
	v6 := slices.Contains(fams, policy.IPv6)
	// Each family is judged on its own: an accept for IPv6 alone does not
	// let IPv4 ssh in, and the IPv4 session is the one cut.
	var missing []string
	var where string
	for _, p := range []struct {
		name string
		pr   probe
	}{{"established", established}, {"related", related}} {
		if w, miss := lacking(fams, func(f policy.Family) bool { return anyPossible(inFam(p.pr, f), paths) }); miss {
			missing = append(missing, p.name)
			if where == "" || w == "" {
				where = w
			}
		}
	}
	if len(missing) > 0 {
		d := pass.Reportf(CodeEstablished, at, "%s drops by default but does not accept ct state %s%s", name, strings.Join(missing, ","), where)
		d.Detail = "Replies to the host's own connections are dropped. Add: ct state established,related accept"
	}
	if v6 {
		var nd []string
		if !anyPossible(ndSolicit, paths) {
			nd = append(nd, "nd-neighbor-solicit")
		}
		if !anyPossible(ndAdvert, paths) {
			nd = append(nd, "nd-neighbor-advert")
		}
		if len(nd) > 0 {
			d := pass.Reportf(CodeND, at, "%s drops by default but does not accept icmpv6 %s", name, strings.Join(nd, ", "))
			d.Detail = "IPv6 stops working on the link without neighbour discovery. Add: icmpv6 type nd-neighbor-solicit, nd-neighbor-advert accept"
		}
	}
	// ssh admitted over IPv4 alone (from an IPv4 admin network) is a
	// common, deliberate choice; ssh admitted over IPv6 alone cuts the IPv4
	// session nearly every admin still uses. So a missing IPv6 half alone
	// is not a lock-out, a missing IPv4 half is.
	if where, miss := lacking(fams, func(f policy.Family) bool { return anyPossible(inFam(ssh, f), paths) }); miss && where != " over IPv6" {
		d := pass.Reportf(CodeSSH, at, "%s drops by default and accepts no new ssh (tcp/22) connection%s: lock-out", name, where)
		d.Detail = fmt.Sprintf("Applying this policy over ssh cuts the session. Accept tcp dport 22, or suppress with the reason: # fwc:ignore %s reason", CodeSSH)
	}
	if where, miss := lacking(fams, func(f policy.Family) bool {
		return slices.ContainsFunc(paths, func(pa accepts.Path) bool { return pa.Fam&f != 0 && loopback(pa) })
	}); miss {
		d := pass.Reportf(CodeLoopback, at, "%s drops by default and does not accept loopback traffic%s", name, where)
		d.Detail = "Local services talking over 127.0.0.1 or ::1 are cut off. Add: iif lo accept"
	}
}
