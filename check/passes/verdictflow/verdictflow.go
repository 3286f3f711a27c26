package verdictflow

import (
	"fmt"
	"regexp"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/match"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const (
	CodeDead          = "FW1601"
	CodeLogNoVerdict  = "FW1602"
	CodeLogNotBlocked = "FW1603"
	CodeAfterTerminal = "FW1604"
)

var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name: "verdictflow",
	Codes: []diag.Doc{
		{Code: CodeDead, Severity: diag.Warning},
		{Code: CodeLogNoVerdict, Severity: diag.Warning},
		{Code: CodeLogNotBlocked, Severity: diag.Warning},
		{Code: CodeAfterTerminal, Severity: diag.Warning},
	},
	Run: run,
})

func init() { analysis.Register(Analyzer) }

// Result is what the pass hands to analyzers that require it.
type Result struct {
	// Dead maps every rule after an unconditional terminal rule of its
	// chain (for all of the rule's families) to that terminal rule. Only
	// the first of them is reported.
	Dead map[*policy.Rule]*policy.Rule

	// dead are the ranges of the source rules all of whose checked rules
	// are dead.
	dead []diag.Range
}

// Mutes reports whether d is a warning or info (other than FW1601) about a
// source rule that is never reached.
func (r *Result) Mutes(d *diag.Diagnostic) bool {
	if d.Severity == diag.Error || d.Code == CodeDead {
		return false
	}
	for _, rr := range r.dead {
		if within(d.Subject, rr) {
			return true
		}
	}
	return false
}

func within(in, out diag.Range) bool {
	return !in.IsZero() && in.Filename == out.Filename &&
		in.Start.Byte >= out.Start.Byte && in.End.Byte <= out.End.Byte
}

func run(pass *analysis.Pass) (any, error) {
	res := &Result{Dead: map[*policy.Rule]*policy.Rule{}}
	if pass.Program == nil {
		return res, nil
	}
	for _, t := range pass.Program.Tables {
		for _, c := range t.Chains {
			dead(pass, c, res)
			if !c.Incomplete { // the drop after a log may be the rule that failed
				logs(pass, c)
			}
			for _, r := range c.Rules {
				afterTerminal(pass, r)
			}
		}
	}
	// A source rule may be placed in several chains (a balance in
	// prerouting and output) or split per protocol: it is dead only when
	// every one of its rules is.
	live := map[ast.Node]bool{}
	for _, t := range pass.Program.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				if _, dead := res.Dead[r]; !dead && r.Src != nil {
					live[r.Src] = true
				}
			}
		}
	}
	seen := map[ast.Node]bool{}
	for r := range res.Dead {
		if r.Src != nil && !live[r.Src] && !seen[r.Src] {
			seen[r.Src] = true
			res.dead = append(res.dead, analysis.RuleRange(r))
		}
	}
	return res, nil
}

func terminal(r *policy.Rule) policy.Action {
	for _, a := range r.Actions {
		if policy.IsTerminal(a) {
			return a
		}
	}
	return nil
}

func actionName(a policy.Action) string {
	switch a := a.(type) {
	case *policy.Verdict:
		return a.Kind.String()
	case *policy.Jump:
		if a.Goto {
			return "goto " + a.Target.Name
		}
		return "jump " + a.Target.Name
	case *policy.NAT:
		return a.Kind.String()
	case *policy.Balance:
		return "balance " + a.Name
	case *policy.Log:
		return "log"
	case *policy.Counter:
		return "counter"
	case *policy.SetMark:
		if a.Route != nil {
			return "route " + a.Route.Name
		}
		if a.Ct {
			return "connmark set"
		}
		return "mark set"
	case *policy.Connmark:
		return "connmark"
	case *policy.Notrack:
		return "notrack"
	case *policy.Trace:
		return "trace"
	case *policy.SetTOS:
		return "tos set"
	case *policy.SetTTL:
		return "ttl set"
	}
	return fmt.Sprintf("%T", a)
}

func dead(pass *analysis.Pass, c *policy.Chain, res *Result) {
	var stop *policy.Rule
	var stopped policy.Family // families already stopped unconditionally
	var first *policy.Rule
	n := 0
	for _, r := range c.Rules {
		if stopped != 0 && r.Family&^stopped == 0 {
			res.Dead[r] = stop
			if first == nil {
				first = r
			}
			n++
			continue
		}
		if len(r.Conds) == 0 && terminal(r) != nil {
			stopped |= r.Family
			if stop == nil {
				stop = r
			}
		}
	}
	if first == nil {
		return
	}
	d := pass.Reportf(CodeDead, analysis.RuleRange(first), "rule is never reached: an earlier rule %ss every packet", actionName(terminal(stop)))
	if n == 1 {
		d.Detail = fmt.Sprintf("The rule before it in chain %s has no conditions and ends evaluation.", c.Name)
	} else {
		d.Detail = fmt.Sprintf("An earlier rule in chain %s has no conditions and ends evaluation; this and %d more rules after it never run.", c.Name, n-1)
	}
	d.Related = []diag.Related{{Message: "every packet stops here", Range: analysis.RuleRange(stop)}}
}

// onlyLogs returns the rule's log action when it logs and decides nothing
// (no terminal action and no jump).
func onlyLogs(r *policy.Rule) *policy.Log {
	var l *policy.Log
	for _, a := range r.Actions {
		switch a := a.(type) {
		case *policy.Log:
			l = a
		case *policy.Jump, *policy.Verdict, *policy.NAT, *policy.Balance:
			return nil
		}
	}
	return l
}

var blocky = regexp.MustCompile(`(?i)(drop|deny|denied|block|reject|refuse|\bban)`)

func drops(r *policy.Rule) bool {
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

// mayDrop reports whether r may end evaluation in a way other than accept
// (a drop, reject, jump or goto, which may drop in the called chain).
func mayDrop(r *policy.Rule) bool {
	for _, a := range r.Actions {
		switch a := a.(type) {
		case *policy.Verdict:
			return a.Kind == policy.Drop || a.Kind == policy.Reject
		case *policy.Jump:
			return true
		}
		if policy.IsTerminal(a) {
			return false
		}
	}
	return false
}

func mayAccept(r *policy.Rule) bool {
	for _, a := range r.Actions {
		switch a := a.(type) {
		case *policy.Verdict:
			return a.Kind == policy.Accept || a.Kind == policy.Return
		case *policy.Jump:
			return true
		}
		if policy.IsTerminal(a) {
			return true
		}
	}
	return false
}

func logs(pass *analysis.Pass, c *policy.Chain) {
	// dropLater[i] / acceptLater[i]: some rule after i may drop / accept.
	// One backward pass keeps the pass linear in the chain's length.
	n := len(c.Rules)
	dropLater, acceptLater := make([]bool, n+1), make([]bool, n+1)
	for i := n - 1; i >= 0; i-- {
		dropLater[i] = dropLater[i+1] || mayDrop(c.Rules[i])
		acceptLater[i] = acceptLater[i+1] || mayAccept(c.Rules[i])
	}
	for i, r := range c.Rules {
		l := onlyLogs(r)
		if l == nil {
			continue
		}
		if c.IsBase() && c.Policy != nil && c.Policy.Kind == policy.Accept && !dropLater[i+1] {
			d := pass.Reportf(CodeLogNoVerdict, analysis.At(l, r), "log without a verdict: the packets it logs are accepted")
			d.Detail = fmt.Sprintf("Log is not a verdict; no later rule of chain %s drops, and its policy is accept. To block, write: log ... drop.", c.Name)
			continue
		}
		if !blocky.MatchString(l.Prefix) {
			continue
		}
		if i+1 < n && drops(c.Rules[i+1]) && (len(c.Rules[i+1].Conds) == 0 || match.EqualConds(c.Rules[i+1].Conds, r.Conds)) {
			continue
		}
		if c.IsBase() && c.Policy != nil && c.Policy.Kind == policy.Drop && !acceptLater[i+1] {
			continue
		}
		d := pass.Reportf(CodeLogNotBlocked, analysis.At(l, r), "log prefix %q says blocked, but nothing drops the packets it logs", l.Prefix)
		d.Detail = "Log is not a verdict: evaluation goes on with the next rule. Write the verdict in the same rule: log prefix \"...\" drop."
	}
}

func afterTerminal(pass *analysis.Pass, r *policy.Rule) {
	for i, a := range r.Actions {
		if !policy.IsTerminal(a) || i == len(r.Actions)-1 {
			continue
		}
		next := r.Actions[i+1]
		d := pass.Reportf(CodeAfterTerminal, analysis.At(next, r), "%s after %s never runs", actionName(next), actionName(a))
		d.Detail = fmt.Sprintf("%s ends evaluation of the packet, so the actions written after it in this rule are never run. Write them before it.", actionName(a))
		d.Related = []diag.Related{{Message: "evaluation ends here", Range: analysis.At(a, r)}}
		return
	}
}
