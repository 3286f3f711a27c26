package limits

import (
	"reflect"
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// The codes of the refusals (their docs are the capability pass's).
const (
	CodeNftString = "FW1901" // nft has no payload string match
	CodeIpset     = "FW1902" // no ipset type holds the set
	CodeCtStatus  = "FW1903" // iptables cannot match ct status dying
	CodeNftOther  = "FW1904" // another construct nft cannot express
	CodeIptOther  = "FW1905" // another construct iptables cannot express
)

// The backends' names, as diagnostics and --backend spell them.
const (
	Nft       = "nft"
	IPTables  = "iptables"
	IP6Tables = "ip6tables"
)

// Rule is what the tables judge: one rule's family, conditions and actions.
// The checker makes it from a *policy.Rule (PolicyRule), the backends from
// an ir.Rule, whose matches and actions are policy's values (plus the IR's
// own, which no table refuses).
type Rule struct {
	// Family is the families the rule applies to (Both, IPv4, IPv6).
	Family  policy.Family
	Conds   []policy.Cond
	Actions []policy.Action
	// Leaves: the rule's last action leaves its chain as a whole (return,
	// or goto another chain), rather than ending evaluation or coming back.
	Leaves bool
}

// PolicyRule is the Rule of a checked rule.
func PolicyRule(r *policy.Rule) Rule {
	lr := Rule{Family: r.Family, Conds: r.Conds, Actions: r.Actions}
	if n := len(r.Actions); n > 0 {
		switch a := r.Actions[n-1].(type) {
		case *policy.Jump:
			lr.Leaves = a.Goto
		case *policy.Verdict:
			lr.Leaves = a.Kind == policy.Return
		}
	}
	return lr
}

// A Refusal is one construct of a rule that a backend cannot express.
type Refusal struct {
	Code string
	// At is the condition or action refused.
	At any
	// Says is the summary after the backend's name ("cannot match ct
	// status dying").
	Says string
	// Detail is the diagnostic's detail, whole sentences, or "".
	Detail string
	// Set, if not nil, is the set whose declaration the diagnostic shows
	// as related.
	Set *policy.Set
}

// Summary is the diagnostic summary for the backends named, which all
// refuse the construct: "iptables and ip6tables cannot …".
func (f Refusal) Summary(backends ...string) string {
	return strings.Join(backends, " and ") + " " + f.Says
}

// Diagnostic is f as a diagnostic of severity sev for the backends named:
// at the source range of the condition or action refused, or, for one made
// without a source, at rule (the range of the rule that holds it).
func (f Refusal) Diagnostic(sev diag.Severity, rule diag.Range, backends ...string) *diag.Diagnostic {
	d := &diag.Diagnostic{Severity: sev, Code: f.Code, Subject: At(f.At, rule), Summary: f.Summary(backends...), Detail: f.Detail}
	if f.Set != nil && f.Set.Decl != nil {
		d.Related = []diag.Related{{Message: "set " + f.Set.Name + " declared here", Range: f.Set.Decl.Name.Span()}}
	}
	return d
}

// At is the source range of condition or action x, or rule when x has
// none (it was made by the checker, not written).
func At(x any, rule diag.Range) diag.Range {
	s, ok := x.(interface{ Source() ast.Node })
	if !ok {
		return rule
	}
	n := s.Source()
	if n == nil {
		return rule
	}
	if v := reflect.ValueOf(n); v.Kind() == reflect.Pointer && v.IsNil() {
		return rule
	}
	return n.Span()
}
