package capability

import (
	"slices"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/limits"
	"github.com/fwcproject/fwc/policy"
)

// The codes are package limits' (the backends report the same ones).
const (
	CodeNftString = limits.CodeNftString
	CodeIpset     = limits.CodeIpset
	CodeCtStatus  = limits.CodeCtStatus
	CodeNftOther  = limits.CodeNftOther
	CodeIptOther  = limits.CodeIptOther
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
	sev := diag.Error
	if len(backends) == 0 {
		// No backend named: say what each would refuse, as warnings, so
		// that check does not call clean a policy translate will refuse.
		backends = []string{limits.Nft, limits.IPTables, limits.IP6Tables}
		sev = diag.Warning
	}
	nft := slices.Contains(backends, limits.Nft)
	ipt4 := slices.Contains(backends, limits.IPTables)
	ipt6 := slices.Contains(backends, limits.IP6Tables)
	for _, t := range pass.Program.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				lr := limits.PolicyRule(r)
				at := analysis.RuleRange(r)
				if nft {
					for _, f := range limits.NftRefuses(lr) {
						pass.Report(f.Diagnostic(sev, at, limits.Nft))
					}
				}
				var v4, v6 []limits.Refusal
				if ipt4 && r.Family&policy.IPv4 != 0 {
					v4 = limits.IPTablesRefuses(lr, policy.IPv4)
				}
				if ipt6 && r.Family&policy.IPv6 != 0 {
					v6 = limits.IPTablesRefuses(lr, policy.IPv6)
				}
				// One diagnostic for a refusal both iptables backends make.
				for _, f := range v4 {
					if slices.Contains(v6, f) {
						pass.Report(f.Diagnostic(sev, at, limits.IPTables, limits.IP6Tables))
					} else {
						pass.Report(f.Diagnostic(sev, at, limits.IPTables))
					}
				}
				for _, f := range v6 {
					if !slices.Contains(v4, f) {
						pass.Report(f.Diagnostic(sev, at, limits.IP6Tables))
					}
				}
			}
		}
	}
	return nil, nil
}
