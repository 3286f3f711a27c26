// Package capability reports constructs that a requested backend cannot
// express, naming the backend, instead of letting it emit something wrong.
// It runs only for the backends in Pass.Backends ("nft", "iptables",
// "ip6tables"); with none requested it reports nothing. iptables is judged
// only on rules that apply to IPv4, ip6tables only on those that apply to
// IPv6.
//
//   - FW1901 (nft): a payload string match. nftables has no string match
//     (the xt string extension exists only for iptables).
//   - FW1902 (iptables, ip6tables): a named set lookup whose element type
//     no ipset type holds. ipset types are fixed combinations: an address or
//     network, optionally followed by a port, and then optionally an address
//     or network (hash:ip,port,ip / hash:net,port,net); an address or network
//     with a mark (hash:ip,mark) or an interface (hash:net,iface); two
//     networks (hash:net,net); ports alone (bitmap:port). A set of interfaces
//     or marks alone, or a concatenation in another order (port first, say),
//     has no ipset type.
//   - FW1903 (iptables, ip6tables): ct status dying, which the conntrack
//     match cannot test (it knows expected, seen-reply, assured, confirmed;
//     snat and dnat are its ct states).
package capability

import (
	"fmt"
	"strings"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/policy"
	"github.com/fwcproject/fwc/diag"
)

const (
	CodeNftString = "FW1901"
	CodeIpset     = "FW1902"
	CodeCtStatus  = "FW1903"
)

var Analyzer = &analysis.Analyzer{
	Name:  "capability",
	Title: "constructs a requested backend cannot express",
	Doc:   "Reports, per requested backend, the constructs it cannot express.",
	Codes: []diag.Doc{
		{Code: CodeNftString, Title: "nft cannot match payload strings", Severity: diag.Error, Doc: `
nftables has no string match: the "string" condition exists only in iptables
(the xt_string extension). Translate this policy with --to iptables, or
replace the string match (for instance by a match on addresses or ports).`},
		{Code: CodeIpset, Title: "no ipset type holds this set", Severity: diag.Error, Doc: `
iptables looks named sets up through ipset, whose set types are fixed
combinations: hash:ip / hash:net, hash:ip,port, hash:net,port, hash:ip,port,ip,
hash:ip,port,net, hash:net,port,net, hash:net,net, hash:ip,mark,
hash:net,iface and bitmap:port. A set of interfaces or marks alone, or a
concatenation in another order, has no ipset type, so iptables cannot use it.
Reorder the concatenation (address first), split the lookup into separate
matches, or translate with --to nft.`},
		{Code: CodeCtStatus, Title: "iptables cannot match ct status dying", Severity: diag.Error, Doc: `
The iptables conntrack match tests the statuses expected, seen-reply, assured
and confirmed (snat and dnat are ct states there), but not dying. Translate
with --to nft, or drop that status from the match.`},
	},
	Run: run,
}

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	if pass.Program == nil || len(pass.Backends) == 0 {
		return nil, nil
	}
	nft := pass.HasBackend("nft")
	var ipt []string
	if pass.HasBackend("iptables") {
		ipt = append(ipt, "iptables")
	}
	if pass.HasBackend("ip6tables") {
		ipt = append(ipt, "ip6tables")
	}
	for _, t := range pass.Program.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				var ipts []string
				for _, b := range ipt {
					if b == "iptables" && r.Family&policy.IPv4 != 0 || b == "ip6tables" && r.Family&policy.IPv6 != 0 {
						ipts = append(ipts, b)
					}
				}
				for _, x := range r.Conds {
					cond(pass, r, x, nft, ipts)
				}
			}
		}
	}
	return nil, nil
}

func cond(pass *analysis.Pass, r *policy.Rule, x policy.Cond, nft bool, ipts []string) {
	switch x := x.(type) {
	case *policy.StringCond:
		if nft {
			d := pass.Reportf(CodeNftString, analysis.At(x, r), "nft cannot express a string match")
			d.Detail = "nftables has no payload string match; only the iptables backend can translate this rule."
		}
	case *policy.CtStatusCond:
		if len(ipts) > 0 && x.Bits&policy.StatusDying != 0 {
			pass.Reportf(CodeCtStatus, analysis.At(x, r), "%s cannot match ct status dying", strings.Join(ipts, " and "))
		}
	case *policy.IfaceCond:
		if len(ipts) > 0 && x.Set != nil {
			ipset(pass, r, x, x.Set, []policy.SetType{policy.IfaceT}, ipts)
		}
	case *policy.ConcatCond:
		if len(ipts) > 0 && x.Set != nil {
			ipset(pass, r, x, x.Set, x.Set.Type, ipts)
		}
	}
}

func ipset(pass *analysis.Pass, r *policy.Rule, x policy.Cond, s *policy.Set, types []policy.SetType, ipts []string) {
	if ipsetType(types) {
		return
	}
	var names []string
	for _, t := range types {
		names = append(names, string(t))
	}
	d := pass.Reportf(CodeIpset, analysis.At(x, r), "%s cannot look up set %s: no ipset type holds %s elements",
		strings.Join(ipts, " and "), s.Name, strings.Join(names, " . "))
	d.Detail = fmt.Sprintf("ipset has no set type for %s; iptables matches named sets only through ipset.", strings.Join(names, " . "))
	if s.Decl != nil {
		d.Related = []diag.Related{{Message: "set " + s.Name + " declared here", Range: analysis.Span(&s.Decl.Name)}}
	}
}

// ipsetType reports whether some ipset type holds elements of types, in
// order.
func ipsetType(types []policy.SetType) bool {
	var sig []string
	for _, t := range types {
		switch t {
		case policy.IPv4Addr, policy.IPv4Net, policy.IPv6Addr, policy.IPv6Net:
			sig = append(sig, "addr")
		case policy.PortType:
			sig = append(sig, "port")
		case policy.IfaceT:
			sig = append(sig, "iface")
		case policy.MarkT:
			sig = append(sig, "mark")
		default:
			return false
		}
	}
	switch strings.Join(sig, ",") {
	case "addr", "port", "addr,port", "addr,port,addr", "addr,addr", "addr,mark", "addr,iface":
		return true
	}
	return false
}
