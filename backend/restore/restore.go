// Package restore writes an ir.Ruleset as iptables-save text (the
// netfilter-persistent rules.v4 and rules.v6 files, loaded by
// iptables-restore and ip6tables-restore) and as `ipset restore` text for
// the sets those rules reference, since iptables-restore cannot create sets.
//
// It is one of fwc's two backends (see also backend/nft) and reads only the
// ir. Every rule carries `-m comment --comment "file:line"`. Where one ir
// rule needs several iptables rules (a log then a verdict, an interface
// list, more than 15 ports) the rules are repeated when that keeps the
// meaning, and otherwise routed through a generated user chain; a negated
// address list becomes a generated ipset, and so does a run of rules that
// differ in an address and a port or interface (ir.MergeWith: one rule
// with -m set over a hash:ip,port set and the like). What iptables cannot
// express at all (package limits, the table the checker reports from too)
// is an error diagnostic FW1902, FW1903 or FW1905, never a different rule;
// FW2003 is the writer's last guard for what limits lets through and it
// cannot write, a bug.
package restore

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/limits"
	"github.com/fwcproject/fwc/policy"
)

func init() {
	diag.Register(diag.Doc{
		Code:     "FW2003",
		Title:    "iptables cannot express this",
		Severity: diag.Error,
		Doc: `The iptables backend (fwc translate --to iptables, ip6tables, ipset)
found a construct it cannot write with the same meaning, which the checker
did not refuse. What iptables cannot express is reported by fwc check as
FW1902, FW1903 or FW1905 (with --backend iptables, as errors), and the
backend refuses the rule with that same diagnostic; this code means the two
disagree, a bug in fwc: please report it with the policy. fwc does not emit
a rule that would behave differently. Rewrite the rule, or use the nft
backend.`,
	})
}

// IPv4 returns iptables-save text for the IPv4 rules (rules.v4).
func IPv4(rs *ir.Ruleset) ([]byte, diag.Diagnostics) { return Options{}.IPv4(rs) }

// IPv6 returns ip6tables-save text for the IPv6 rules (rules.v6).
func IPv6(rs *ir.Ruleset) ([]byte, diag.Diagnostics) { return Options{}.IPv6(rs) }

// Options changes how the outputs are made; the zero value is what
// `fwc translate` writes.
type Options struct {
	// RuleByRule leaves out the lookups (see merged): each rule of the
	// policy stays one iptables rule, as in a file written by hand. The
	// importer's tests compare such a translation line by line with the
	// file it was imported from.
	RuleByRule bool
}

// IPv4 is the package's IPv4 with these options.
func (o Options) IPv4(rs *ir.Ruleset) ([]byte, diag.Diagnostics) {
	return newWriter(o.merged(rs)).save(ir.IPv4)
}

// IPv6 is the package's IPv6 with these options.
func (o Options) IPv6(rs *ir.Ruleset) ([]byte, diag.Diagnostics) {
	return newWriter(o.merged(rs)).save(ir.IPv6)
}

// merged is rs with the runs of rules an ipset can hold merged into
// lookups (ir.MergeWith): rules that differ in an address and a port, two
// addresses, or an address and an interface, with one action list, become
// one rule matching `-m set --match-set fwc_lookup_N src,dst` over a
// hash:ip,port (hash:net,port, hash:net,iface, ...) set. iptables has no
// verdict maps and no anonymous sets, so nothing else merges. Every output
// (IPv4, IPv6, IPSet) merges the same way, so the set names agree.
func (o Options) merged(rs *ir.Ruleset) *ir.Ruleset {
	if o.RuleByRule {
		return rs
	}
	return ir.MergeWith(rs, ir.MergeOptions{Lookups: true, Accept: ipsetLookup})
}

// ipsetLookup reports whether an ipset type holds a lookup of these keys
// and part types: an address first (ir orders the keys as ipset's types
// do), then a port and maybe a second address, or an interface. Only the
// types of lookupTypes are made.
func ipsetLookup(keys []policy.Key, types []policy.SetType, isMap bool) bool {
	if isMap || len(keys) < 2 {
		return false
	}
	t, ok := ipsetType(&ir.Set{Type: types})
	return ok && lookupTypes[t]
}

// lookupTypes are the ipset types a merge may make. hash:net,net and
// hash:net,port,net are left out: kernels built without them exist (the
// kernel refuses "set type not supported", and the whole ipset file fails
// to load), and a run of rules should not fail where the rules loaded.
// A policy's own set of such a type is the operator's choice.
var lookupTypes = map[string]bool{
	"hash:ip,port": true, "hash:net,port": true, "hash:net,iface": true,
	"hash:ip,port,ip": true, "hash:ip,port,net": true,
}

// builtin lists each table's built-in chains in iptables-save order.
var builtin = map[string][]policy.Hook{
	"raw":      {policy.Prerouting, policy.Output},
	"mangle":   {policy.Prerouting, policy.Input, policy.Forward, policy.Output, policy.Postrouting},
	"nat":      {policy.Prerouting, policy.Input, policy.Output, policy.Postrouting},
	"filter":   {policy.Input, policy.Forward, policy.Output},
	"security": {policy.Input, policy.Forward, policy.Output},
}

type writer struct {
	rs    *ir.Ruleset
	fam   ir.Family
	sets  *setPlan
	diags diag.Diagnostics
	// prefix starts every chain name (Shared); "" for rules.v4 and rules.v6.
	prefix string
	// dropBase holds fwc's chains standing for base chains whose policy
	// is drop (Shared).
	dropBase map[string]bool
	// per table
	names  map[string]bool // chain names in use
	extra  []*chainText    // generated chains
	nlimit int
	// scratch for rule, which does not nest
	conds  []condText
	common []string
}

type chainText struct {
	name  string
	lines []string
}

func newWriter(rs *ir.Ruleset) *writer {
	return &writer{rs: rs, sets: planSets(rs)}
}

// chainName is the iptables name of c: its hook's built-in chain for a
// base chain, its own name for a user chain, both after w.prefix when the
// ruleset is written to share the tables (Shared).
func (w *writer) chainName(c *ir.Chain) string {
	if c.IsBase() {
		return w.prefix + strings.ToUpper(string(c.Hook))
	}
	if w.prefix != "" {
		return sharedName(c.Name)
	}
	return c.Name
}

// tableBody writes the rules of table t: its chains (in t's order), then
// the chains generated for them.
func (w *writer) tableBody(t *ir.Table) (body, extra []*chainText) {
	w.names = map[string]bool{}
	w.extra = nil
	for _, c := range t.Chains {
		w.names[w.chainName(c)] = true
	}
	for _, c := range t.Chains {
		ct := &chainText{name: w.chainName(c)}
		for _, r := range c.Rules {
			if r.In(w.fam) {
				ct.lines = append(ct.lines, w.rule(t, ct.name, r)...)
			}
		}
		body = append(body, ct)
	}
	return body, w.extra
}

func (w *writer) save(f ir.Family) ([]byte, diag.Diagnostics) {
	w.fam = f
	var b bytes.Buffer
	// Grow once, at about 130 bytes a rule, rather than copy the text over
	// and over while it grows.
	n := 0
	for _, t := range w.rs.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				if r.In(f) {
					n++
				}
			}
		}
	}
	b.Grow(4096 + 136*n)
	b.WriteString("# Generated by fwc\n")
	for _, t := range w.rs.Tables {
		body, _ := w.tableBody(t)
		fmt.Fprintf(&b, "*%s\n", t.Name)
		for _, h := range builtin[t.Name] {
			pol := "ACCEPT"
			for _, c := range t.Chains {
				if c.Hook == h && c.Policy == policy.Drop {
					pol = "DROP"
				}
			}
			fmt.Fprintf(&b, ":%s %s [0:0]\n", strings.ToUpper(string(h)), pol)
		}
		for _, c := range t.Chains {
			if !c.IsBase() {
				fmt.Fprintf(&b, ":%s - [0:0]\n", c.Name)
			}
		}
		for _, c := range w.extra {
			fmt.Fprintf(&b, ":%s - [0:0]\n", c.name)
		}
		for _, ct := range append(body, w.extra...) {
			for _, l := range ct.lines {
				b.WriteString("-A ")
				b.WriteString(ct.name)
				b.WriteByte(' ')
				b.WriteString(l)
				b.WriteByte('\n')
			}
		}
		b.WriteString("COMMIT\n")
	}
	return b.Bytes(), w.diags
}

// newChain makes a generated chain named after base with a free suffix.
func (w *writer) newChain(base string) *chainText {
	if !strings.HasPrefix(base, w.prefix) {
		base = w.prefix + base
	}
	base = strings.ToLower(base)
	if len(base) > 22 {
		base = base[:22]
	}
	for i := 1; ; i++ {
		n := base + "-" + strconv.Itoa(i)
		if !w.names[n] {
			w.names[n] = true
			c := &chainText{name: n}
			w.extra = append(w.extra, c)
			return c
		}
	}
}

// Quote quotes s for iptables-restore: double quotes, with \ and " escaped.
func Quote(s string) string {
	return `"` + quoter.Replace(s) + `"`
}

var quoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// subject is the range a diagnostic about r points at when the construct
// it is about has no source of its own.
func subject(r *ir.Rule) diag.Range {
	if len(r.Pos) > 0 {
		return r.Pos[0].Subject()
	}
	return diag.Range{}
}

// tool is the name of the backend being written, as diagnostics say it.
func (w *writer) tool() string {
	if w.fam == ir.IPv6 {
		return limits.IP6Tables
	}
	return limits.IPTables
}

// refused adds to w's diagnostics what the tool cannot express in r, as
// the checker reports it (package limits is the one table of it), and
// reports whether there was any: then r is left out.
func (w *writer) refused(r *ir.Rule) bool {
	lr := limits.Rule{Family: policy.Family(r.Family), Conds: r.Matches, Actions: r.Actions}
	if n := len(r.Actions); n > 0 {
		switch a := r.Actions[n-1].(type) {
		case *ir.Jump:
			lr.Leaves = a.Goto
		case *policy.Verdict:
			lr.Leaves = a.Kind == policy.Return
		}
	}
	fs := limits.IPTablesRefuses(lr, policy.Family(w.fam))
	for _, f := range fs {
		w.diags = append(w.diags, f.Diagnostic(diag.Error, subject(r), w.tool()))
	}
	return len(fs) > 0
}

// errorf is the writer's last guard, FW2003, for a construct that limits
// does not refuse and the writer still cannot write: a bug in fwc.
func (w *writer) errorf(r *ir.Rule, format string, args ...any) {
	w.diags.Add(diag.Error, "FW2003", subject(r), fmt.Sprintf("%s cannot express %s", w.tool(), fmt.Sprintf(format, args...)), "")
}

// condText is one match rendered for iptables: a single argument string,
// several alternatives of which one must hold (OR), or an exclusion that
// must not hold (emitted as a RETURN in a sub-chain).
type condText struct {
	args     string
	alts     []string
	excl     []string
	stateful bool // consumes state when evaluated (limit, statistic...)
}

func (w *writer) rule(t *ir.Table, chain string, r *ir.Rule) []string {
	if w.refused(r) {
		return nil
	}
	conds := w.conds[:0]
	for _, m := range r.Matches {
		conds = append(conds, w.match(r, m))
	}
	w.conds = conds
	targets, last := w.targets(t, chain, r)
	comment := "-m comment --comment " + Quote(r.Comment(250))

	common := w.common[:0]
	var alts [][]string
	var excl []string
	stateful := false
	for _, c := range conds {
		switch {
		case c.alts != nil:
			alts = append(alts, c.alts)
		case c.excl != nil:
			excl = append(excl, c.excl...)
		case c.args != "":
			common = append(common, c.args)
		}
		stateful = stateful || c.stateful
	}
	w.common = common
	combos := []string{""}
	for _, a := range alts {
		var next []string
		for _, pre := range combos {
			for _, x := range a {
				next = append(next, join(pre, x))
			}
		}
		combos = next
	}
	if len(targets) == 0 {
		targets = []string{""}
	}
	mutates := w.mutates(r)
	needSub := excl != nil || ((stateful || mutates) && len(targets) > 1) || (stateful && len(combos) > 1)
	if !needSub {
		var out []string
		for _, cb := range combos {
			for _, tg := range targets {
				out = append(out, spaced(common, cb, comment, tg))
			}
		}
		return out
	}
	// One entry per alternative into a sub-chain holding the exclusions
	// (RETURN) and the targets. The alternatives are disjoint values of
	// one field, so at most one enters.
	sub := w.newChain(chain)
	enter := "-j " + sub.name
	if last == "goto" {
		if excl != nil {
			w.errorf(r, "this negated list in a rule that leaves its chain (limits.IPTablesRefuses lets it through)")
			return nil
		}
		enter = "-g " + sub.name
	}
	var out []string
	for _, cb := range combos {
		out = append(out, spaced(common, cb, comment, enter))
	}
	// The protocol matched on the way in is not known inside the
	// sub-chain, but iptables checks each rule on its own: a port in a
	// DNAT, REDIRECT or SNAT target, REJECT with tcp-reset, or an icmp
	// match without -p is refused (by iptables-restore, or by the kernel
	// on the real load). So every sub-chain rule repeats the rule's
	// protocol; with a list of protocols, once per protocol: they are
	// disjoint, so a packet still runs each exclusion and target once.
	for _, p := range subProtos(r) {
		for _, e := range excl {
			ep := p
			if strings.HasPrefix(e, "-p ") {
				ep = "" // an icmp match that carries its own
			}
			sub.lines = append(sub.lines, spaced(nil, ep, e, comment, "-j RETURN"))
		}
		for _, tg := range targets {
			sub.lines = append(sub.lines, spaced(nil, p, comment, tg))
		}
	}
	return out
}

// subProtos returns the -p argument each group of r's sub-chain rules
// carries: one per protocol of r's positive protocol match, or one empty
// string when r has none.
func subProtos(r *ir.Rule) []string {
	for _, m := range r.Matches {
		if p, ok := m.(*policy.ProtoCond); ok && !p.Neg {
			out := make([]string, len(p.Protos))
			for i, pr := range p.Protos {
				out[i] = "-p " + pr.Name()
			}
			return out
		}
	}
	return []string{""}
}

// spaced joins the non-empty strings of common and rest with single
// spaces, in one allocation.
func spaced(common []string, rest ...string) string {
	n := 0
	for _, s := range common {
		n += len(s) + 1
	}
	for _, s := range rest {
		n += len(s) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range common {
		if s != "" {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s)
		}
	}
	for _, s := range rest {
		if s != "" {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// mutates reports whether an action of r changes something a match of r
// reads, so that repeating the matches before each action would differ.
func (w *writer) mutates(r *ir.Rule) bool {
	var marks, ct bool
	for _, m := range r.Matches {
		switch m.(type) {
		case *policy.MarkCond:
			marks = true
		case *policy.CtStateCond, *policy.CtStatusCond:
			ct = true
		}
	}
	for _, a := range r.Actions {
		switch a.(type) {
		case *policy.SetMark, *policy.Connmark:
			if marks {
				return true
			}
		case *policy.Notrack:
			if ct {
				return true
			}
		}
	}
	return false
}

func singleProto(r *ir.Rule) policy.Proto {
	for _, m := range r.Matches {
		if p, ok := m.(*policy.ProtoCond); ok && !p.Neg && len(p.Protos) == 1 {
			return p.Protos[0]
		}
	}
	return 0
}
