package capability

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const (
	CodeNftString = "FW1901"
	CodeIpset     = "FW1902"
	CodeCtStatus  = "FW1903"
	CodeNftOther  = "FW1904"
	CodeIptOther  = "FW1905"
)

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name: "capability",
	Codes: []diag.Doc{
		{Code: CodeNftString, Severity: diag.Error},
		{Code: CodeIpset, Severity: diag.Error},
		{Code: CodeCtStatus, Severity: diag.Error},
		{Code: CodeNftOther, Severity: diag.Error},
		{Code: CodeIptOther, Severity: diag.Error},
	},
	Run:     run,
	Binding: true,
})

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	if pass.Program == nil {
		return nil, nil
	}
	backends := pass.Backends
	if len(backends) == 0 {
		// No backend named: say what each would refuse, as warnings, so
		// that check does not call clean a policy translate will refuse.
		backends = []string{"nft", "iptables", "ip6tables"}
		p := *pass
		report := pass.Report
		p.Report = func(d *diag.Diagnostic) {
			d.Severity = diag.Warning
			report(d)
		}
		pass = &p
	}
	nft := slices.Contains(backends, "nft")
	var ipt []string
	if slices.Contains(backends, "iptables") {
		ipt = append(ipt, "iptables")
	}
	if slices.Contains(backends, "ip6tables") {
		ipt = append(ipt, "ip6tables")
	}
	// The backends that see a rule, by its family (index: policy.Family).
	var byFam [4][]string
	for f := range byFam {
		for _, b := range ipt {
			if b == "iptables" && f&int(policy.IPv4) != 0 || b == "ip6tables" && f&int(policy.IPv6) != 0 {
				byFam[f] = append(byFam[f], b)
			}
		}
	}
	for _, t := range pass.Program.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				ipts := byFam[r.Family&policy.Both]
				for _, x := range r.Conds {
					cond(pass, r, x, nft, ipts)
				}
				for _, a := range r.Actions {
					if nft {
						action(pass, r, a)
					}
					if len(ipts) > 0 {
						iptAction(pass, r, a, ipts)
					}
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
		nat := policy.StatusSNAT | policy.StatusDNAT
		if len(ipts) > 0 && x.Bits&nat != 0 && x.Bits&^(nat|policy.StatusDying) != 0 {
			pass.Reportf(CodeIptOther, analysis.At(x, r), "%s cannot match ct status snat or dnat together with other status bits", strings.Join(ipts, " and "))
		}
	case *policy.TCPFlagsCond:
		if len(ipts) > 0 && (x.Flags|x.Mask)&(policy.ECE|policy.CWR) != 0 {
			pass.Reportf(CodeIptOther, analysis.At(x, r), "%s cannot match the tcp flags ece and cwr", strings.Join(ipts, " and "))
		}
	case *policy.ICMPCond:
		with := 0
		for _, t := range x.Types {
			if t.Code >= 0 {
				with++
			}
		}
		if nft && with > 0 && with < len(x.Types) {
			pass.Reportf(CodeNftOther, analysis.At(x, r), "nft cannot express a list of icmp types some with and some without codes")
		}
	case *policy.TimeCond:
		parts := 0
		for _, b := range []bool{x.HasHour, x.Days != 0, x.HasDate} {
			if b {
				parts++
			}
		}
		if nft && x.Neg && parts > 1 {
			pass.Reportf(CodeNftOther, analysis.At(x, r), "nft cannot express a negated time condition with several parts")
		}
	case *policy.MarkCond:
		if len(ipts) > 0 && x.Set != nil {
			listed(pass, r, x, x.Set, ipts)
		}
	case *policy.IfaceCond:
		if len(ipts) > 0 && x.Set != nil {
			listed(pass, r, x, x.Set, ipts)
		}
	case *policy.ConcatCond:
		if len(ipts) > 0 && x.Set != nil {
			ipset(pass, r, x, x.Set, x.Set.Type, ipts)
		}
	}
}

func action(pass *analysis.Pass, r *policy.Rule, a policy.Action) {
	switch a := a.(type) {
	case *policy.Connmark:
		if a.Mask != 0xffffffff {
			pass.Reportf(CodeNftOther, analysis.At(a, r), "nft cannot express a connmark copy under a partial mask (0x%x)", a.Mask)
		}
	case *policy.SetTOS:
		if a.Value&3 != 0 {
			pass.Reportf(CodeNftOther, analysis.At(a, r), "nft cannot express a tos value with ECN bits (0x%02x)", a.Value)
		}
	}
}

// listed reports a lookup in a set of marks or interfaces whose elements
// time out: ipset has no such set types, so the iptables backend writes
// one rule per element, and those rules never expire.
func listed(pass *analysis.Pass, r *policy.Rule, x policy.Cond, s *policy.Set, ipts []string) {
	expires := s.Timeout > 0
	for _, e := range s.Elements {
		expires = expires || e.Timeout > 0
	}
	if !expires {
		return
	}
	d := pass.Reportf(CodeIpset, analysis.At(x, r), "%s cannot look up set %s: its elements time out, and iptables lists them as rules",
		strings.Join(ipts, " and "), s.Name)
	d.Detail = "ipset has no set of " + string(s.Type[0]) + "s alone, so the iptables backend writes one rule per element, which would never expire. Drop the timeouts or translate with --to nft."
}

// iptAction reports the actions iptables cannot express: a port in a NAT
// target (or a balance endpoint) of a udplite rule. The kernel translates
// udplite ports, but the iptables NAT targets take ports only with -p tcp,
// udp, sctp or dccp, and iptables-restore refuses the whole file.
func iptAction(pass *analysis.Pass, r *policy.Rule, a policy.Action, ipts []string) {
	ports := false
	switch a := a.(type) {
	case *policy.NAT:
		ports = a.PortLo != 0
	case *policy.Balance:
		ports = true
	}
	if !ports || !udplite(r) {
		return
	}
	d := pass.Reportf(CodeIptOther, analysis.At(a, r), "%s cannot translate ports of udplite packets", strings.Join(ipts, " and "))
	d.Detail = "The iptables NAT targets take a port only in a tcp, udp, sctp or dccp rule. Translate with --to nft, or NAT the address alone."
}

// udplite reports whether r matches udplite packets only.
func udplite(r *policy.Rule) bool {
	for _, c := range r.Conds {
		if p, ok := c.(*policy.ProtoCond); ok && !p.Neg && len(p.Protos) == 1 && p.Protos[0] == policy.ProtoUDPLite {
			return true
		}
	}
	return false
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
	case "addr", "port", "addr,port", "addr,port,addr", "addr,addr", "addr,mark", "addr,iface",
		"iface", "mark": // listed as rules by the backend
		return true
	}
	return false
}
