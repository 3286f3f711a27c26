package shadow

import (
	"fmt"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// CodeContradiction is the code of the Contradictions pass.
const CodeContradiction = "FW1103"

// Contradictions is the contradiction pass (its doc is in doc.go).
var Contradictions = analysis.WithDoc(doc, &analysis.Analyzer{
	Name: "contradiction",
	Codes: []diag.Doc{
		{Code: CodeContradiction, Severity: diag.Error},
	},
	Run: runContradictions,
})

func init() { analysis.Register(Contradictions) }

func runContradictions(pass *analysis.Pass) (any, error) {
	// A source rule expanded into several rules (a zone rule in several
	// chains, a service with several protocols) is reported only when
	// every expansion contradicts itself, once.
	type group struct {
		first *policy.Rule
		conf  *space.Conflict
		all   bool
	}
	idx := map[any]*group{}
	var order []*group
	for _, t := range pass.Program.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				if r.Src == nil {
					continue
				}
				g := idx[r.Src]
				if g == nil {
					g = &group{first: r, all: true}
					idx[r.Src] = g
					order = append(order, g)
				}
				if !g.all {
					continue
				}
				conf := space.Contradiction(r)
				if conf == nil {
					g.all = false
					continue
				}
				if g.conf == nil {
					g.conf = conf
				}
			}
		}
	}
	for _, g := range order {
		if !g.all || g.conf == nil {
			continue
		}
		conf := g.conf
		d := pass.Reportf(CodeContradiction, analysis.At(conf.Cond, g.first),
			"rule can never match: no %s satisfies both this condition and an earlier one", fieldNames[conf.Field])
		d.Detail = fmt.Sprintf("All conditions of a rule must hold at once, and no %s satisfies them all, so the rule never fires. "+
			"To match any of several values, list them in one condition, or write one rule per value.", fieldNames[conf.Field])
		d.Related = []diag.Related{{Message: "the condition it contradicts", Range: analysis.At(conf.Other, g.first)}}
	}
	return nil, nil
}

// fieldNames says what the values of a field are, for the summary.
var fieldNames = map[string]string{
	"saddr": "source address", "daddr": "destination address", "proto": "protocol",
	"sport": "source port", "dport": "destination port", "iif": "input interface",
	"oif": "output interface", "ct state": "ct state", "ct status": "ct status",
	"icmp": "icmp type and code", "tcp flags": "set of tcp flags", "mark": "packet mark",
	"ct mark": "connection mark",
}
