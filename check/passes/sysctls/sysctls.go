package sysctls

import (
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const (
	CodeNoForward   = "FW1860"
	CodeStrictRPF   = "FW1861"
	forwardKey      = "net.ipv4.ip_forward"
	strictRPFilter  = 1
	forwardEnabled  = 1
	forwardDisabled = 0
)

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name: "sysctls",
	Codes: []diag.Doc{
		{Code: CodeNoForward, Severity: diag.Warning},
		{Code: CodeStrictRPF, Severity: diag.Warning},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

func run(pass *analysis.Pass) (any, error) {
	p := pass.Program
	if p == nil || len(p.Sysctls) == 0 {
		return nil, nil
	}
	var fwd *policy.Sysctl
	for _, s := range p.Sysctls {
		if s.Key == forwardKey {
			fwd = s
		}
		if _, ok := policy.RPFilterIface(s.Key); ok && s.Value == strictRPFilter && len(p.Routes) > 0 {
			pass.Reportf(CodeStrictRPF, analysis.Span(&s.Decl.Key),
				"%s = 1 (strict) drops the replies of policy routing: route %s routes by mark, which the reverse-path check ignores; use 2 (loose)",
				s.Key, p.Routes[0].Name)
		}
	}
	if fwd != nil && fwd.Value == forwardEnabled {
		return nil, nil
	}
	why := forwarding(p)
	if why == "" {
		return nil, nil
	}
	if fwd != nil && fwd.Value == forwardDisabled {
		pass.Reportf(CodeNoForward, analysis.Span(&fwd.Decl.Key),
			"%s = 0, but the policy %s: the host forwards nothing", forwardKey, why)
		return nil, nil
	}
	first := p.Sysctls[0]
	pass.Reportf(CodeNoForward, analysis.Span(&first.Decl.Key),
		"the policy %s but its sysctls leave %s as the host has it: declare sysctl %s = 1", why, forwardKey, forwardKey)
	return nil, nil
}

// forwarding says why the policy needs the host to forward packets, or ""
// when it does not: the first NAT rule or forward accept found.
func forwarding(p *policy.Program) string {
	for _, t := range p.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				for _, a := range r.Actions {
					switch a := a.(type) {
					case *policy.NAT:
						if t.Name == "nat" && a.Kind != policy.Redirect {
							return "translates addresses (" + a.Kind.String() + ")"
						}
					case *policy.Balance:
						return "balances connections to other hosts"
					case *policy.Verdict:
						if t.Name == "filter" && c.Hook == policy.Forward && a.Kind == policy.Accept {
							return "accepts forwarded packets"
						}
					}
				}
			}
		}
	}
	return ""
}
