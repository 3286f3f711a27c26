// Package hygiene finds the input-policy mistakes an operator only notices
// in production: a host that drops by default must still accept replies to
// its own connections, IPv6 neighbour discovery, ssh and loopback traffic.
//
// For every base chain on the input hook (of any table) that drops by
// default (policy drop, or a rule without conditions that drops or rejects),
// the pass walks the rules in order, including zone-generated ones and,
// through jumps and gotos, the rules of the user chains they call (with the
// calling rules' conditions added), up to the first rule without conditions
// that ends evaluation. It collects the accepting rules and asks, for each
// kind of traffic below, whether some accepting rule could accept some of
// it. The judgement is deliberately lenient, to raise no false alarm: a
// condition on a field the question does not fix (addresses, rate limits,
// marks, time, ...) counts as satisfiable, and any accept that could take
// part of the traffic is enough. Whether an earlier rule drops that traffic
// first is left to the shadow pass. The names of chains, zones and services
// play no part.
//
//   - FW1301: no accept for ct state established (or related): replies to
//     the host's own connections (DNS answers, package downloads) and the
//     ICMP errors they need (path MTU discovery) are dropped.
//   - FW1302: no accept for ICMPv6 neighbour solicitations and
//     advertisements (types 135/136), when the policy can carry IPv6 (no
//     backend was named, or nft or ip6tables was). Without them IPv6 stops
//     working on the link. Conntrack does not track these messages (their ct
//     state is untracked, not established), so the established rule does not
//     let them in.
//   - FW1303: no accept for new ssh connections (tcp/22): whoever applies
//     the policy over ssh locks themselves out. Suppress it with a reason
//     when ssh listens elsewhere or is not wanted. Also reported when ssh
//     is accepted over IPv6 only: the IPv4 session is cut. (Accepted over
//     IPv4 only is not reported: admitting ssh from IPv4 admin networks
//     alone is a common, deliberate choice.)
//
// Each family the backends can carry (both when no backend was named) is
// judged on its own: an accept that only IPv6 packets can take does not let
// IPv4 replies, ssh or loopback traffic in. FW1301 and FW1304 name the
// family that is left out when the other one is accepted ("... over IPv6").
//   - FW1304: loopback not accepted: no accepting rule matches iif lo (or
//     the loopback addresses), so local services talking over 127.0.0.1 or
//     ::1 are cut off.
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

var Analyzer = &analysis.Analyzer{
	Name:  "hygiene",
	Title: "input drop policies that break the host",
	Doc:   "Reports drop-by-default input chains that do not accept established traffic, ICMPv6 neighbour discovery, ssh or loopback.",
	Codes: []diag.Doc{
		{Code: CodeEstablished, Title: "input drops replies to the host's own connections", Severity: diag.Warning, Doc: `
The input chain drops by default and no rule accepts "ct state established"
(or "related"). Replies to connections the host opens itself (DNS answers,
package downloads, NTP) are dropped, and so are the related ICMP errors that
path MTU discovery needs. Add near the top:
    ct state established,related accept`},
		{Code: CodeND, Title: "input drops IPv6 neighbour discovery", Severity: diag.Warning, Doc: `
The input chain drops by default, can see IPv6 traffic, and no rule accepts
ICMPv6 neighbour solicitations and advertisements (nd-neighbor-solicit,
nd-neighbor-advert). Without them the host cannot resolve its neighbours'
link-layer addresses and IPv6 stops working on the link. Conntrack does not
track these messages (ct state untracked), so an established rule does not
cover them. Add:
    icmpv6 type nd-neighbor-solicit, nd-neighbor-advert accept`},
		{Code: CodeSSH, Title: "input drops ssh (lock-out)", Severity: diag.Warning, Doc: `
The input chain drops by default and no rule accepts new tcp connections to
port 22. Applying this policy over ssh locks you out. It is also reported
when only IPv6 ssh is accepted ("... over IPv4"): the IPv4 session is cut.
Accept ssh (from your admin networks), or suppress this with the reason when
ssh listens on another port or is deliberately closed:
# fwc:ignore FW1303 reason`},
		{Code: CodeLoopback, Title: "input drops loopback traffic", Severity: diag.Warning, Doc: `
The input chain drops by default and no rule accepts traffic on the loopback
interface. Local programs talking to each other over 127.0.0.1 or ::1
(databases, resolvers, agents) are cut off. Add near the top:
    iif lo accept`},
	},
	Run: run,
}

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
