package space

import (
	"slices"

	"github.com/fwcproject/fwc/check/policy"
)

// Facts is what the analysis found about one rule, over every context in
// which it runs: each address family the rule exists in, times each path of
// jumps by which packets reach its chain from a base chain.
type Facts struct {
	Rule *policy.Rule
	// Verdict is the rule's terminal action as compared by the analysis
	// ("accept", "reject with tcp-reset", "goto web", "dnat to 10.0.0.1:80"),
	// "" for a rule with only non-terminal actions.
	Verdict string
	// Contexts counts the contexts in which some packet reached the rule's
	// chain; DeadIn those in which no packet reaching the rule matched it.
	Contexts, DeadIn int
	// ByEntry counts the dead contexts in which the packets entering the
	// chain (through the jump that reached it) already exclude the rule.
	ByEntry int
	// Covers lists, for the first context in which the rule was dead, the
	// earlier rules that decided its packets, each once, in rule order; a
	// jump rule appears when the chain's entry conditions alone exclude it.
	Covers []Cover
	// SameVerdict reports that in every dead context every packet of the
	// rule was decided with the rule's own verdict.
	SameVerdict bool
	// PolicyIn counts the contexts in which the rule is live, has the
	// chain's policy as its verdict, and no later rule treats any of its
	// packets differently: removing it changes nothing there.
	PolicyIn int
	// Correlated is the first earlier rule found that overlaps this one
	// crosswise with another verdict, or nil.
	Correlated *Correlation
	// Unmodeled says why the rule "may not match" ("" when exact); such a
	// rule never covers another.
	Unmodeled string
	// Incomplete is set when some context of the rule could not be walked
	// (a jump loop, or the limits on depth and contexts); no finding about
	// it is then reliable.
	Incomplete bool
}

// Dead reports that no packet can ever match the rule.
func (f *Facts) Dead() bool { return f.Contexts > 0 && f.DeadIn == f.Contexts && !f.Incomplete }

// PolicyRedundant reports that the rule is live but removing it changes no
// verdict, because the chain's policy (or the return at the end of a user
// chain) treats its packets the same way.
func (f *Facts) PolicyRedundant() bool {
	return f.Contexts > 0 && f.PolicyIn == f.Contexts && !f.Incomplete
}

// Cover is an earlier rule that decided some packets of a dead rule.
type Cover struct {
	Rule    *policy.Rule
	Verdict string
}

// Correlation is an order-sensitive overlap with an earlier rule.
type Correlation struct {
	With        *policy.Rule
	WithVerdict string
	// Example is a packet of the overlap that the earlier rule decides,
	// written like "tcp 10.1.0.0 port 1024 -> 0.0.0.0 port 22".
	Example string
}

// Result holds the Facts of every rule that some packet can reach.
type Result struct {
	facts map[*policy.Rule]*Facts
	order []*Facts
}

// Facts returns the facts of r, or nil when no context reaches it.
func (r *Result) Facts(rule *policy.Rule) *Facts { return r.facts[rule] }

// All returns the facts in program order (tables, chains, rules).
func (r *Result) All() []*Facts { return r.order }

// Limits on the walk; beyond them rules are marked Incomplete.
const (
	maxDepth         = 32
	maxChainContexts = 1024
	subtractBudget   = 1 << 15
)

// Analyze walks every base chain of p, in both address families, from all
// packets of its hook, following jumps and gotos.
func Analyze(p *policy.Program) *Result {
	res := &Result{facts: map[*policy.Rule]*Facts{}}
	for _, v6 := range []bool{false, true} {
		w := &walker{s: NewSpace(v6), res: res, chains: map[*policy.Chain]*chainInfo{},
			onStack: map[*policy.Chain]bool{}, walks: map[*policy.Chain]int{}}
		for _, t := range p.Tables {
			for _, c := range t.Chains {
				if c.IsBase() {
					w.walk(w.info(c), Region{w.s.Full()}, false, nil, 0)
				}
			}
		}
	}
	for _, t := range p.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				if f := res.facts[r]; f != nil {
					res.order = append(res.order, f)
				}
			}
		}
	}
	return res
}

type walker struct {
	s       *Space
	res     *Result
	chains  map[*policy.Chain]*chainInfo
	onStack map[*policy.Chain]bool
	walks   map[*policy.Chain]int
}

type chainInfo struct {
	ch     *policy.Chain
	rules  []*ruleInfo // nil where the rule does not exist in this family
	idx    *index
	policy string
}

func (w *walker) info(c *policy.Chain) *chainInfo {
	if ci := w.chains[c]; ci != nil {
		return ci
	}
	ci := &chainInfo{ch: c, rules: make([]*ruleInfo, len(c.Rules)), policy: "return"}
	if c.Policy != nil {
		ci.policy = c.Policy.Kind.String()
	}
	for i, r := range c.Rules {
		if ri, ok := w.s.lowerRule(r); ok {
			ri.pos, ri.chain = i, c
			ci.rules[i] = ri
		}
	}
	ci.idx = newIndex(w.s, ci.rules)
	w.chains[c] = ci
	return ci
}

func (w *walker) facts(ri *ruleInfo) *Facts {
	f := w.res.facts[ri.r]
	if f == nil {
		f = &Facts{Rule: ri.r, Verdict: ri.verdict, SameVerdict: true, Unmodeled: ri.unmodeled}
		w.res.facts[ri.r] = f
	}
	if f.Unmodeled == "" {
		f.Unmodeled = ri.unmodeled
	}
	return f
}

// piece is a set of packets decided by a rule.
type piece struct {
	c       *Cube
	by      *ruleInfo
	verdict string
}

// markIncomplete flags every rule reachable from c.
func (w *walker) markIncomplete(c *policy.Chain, seen map[*policy.Chain]bool) {
	if seen[c] {
		return
	}
	seen[c] = true
	for _, ri := range w.info(c).rules {
		if ri == nil {
			continue
		}
		w.facts(ri).Incomplete = true
		if ri.target != nil {
			w.markIncomplete(ri.target, seen)
		}
	}
}

// walk evaluates the chain for the packets of entry (which are expressed
// in the coordinates of the packet as it entered the base chain; dirty says
// an earlier action may have rewritten its marks). It returns the packets
// the chain decides for good (not by return) and whether it may rewrite
// marks.
func (w *walker) walk(ci *chainInfo, entry Region, dirty bool, via *ruleInfo, depth int) ([]piece, bool) {
	w.walks[ci.ch]++
	w.onStack[ci.ch] = true
	defer delete(w.onStack, ci.ch)
	n := len(ci.rules)
	cov := make([][]piece, n)
	hits := make([]Region, n)
	regions := make([]Region, n)
	exactAt := make([]bool, n)
	var decided []piece
	var cands []int
	for i, ri := range ci.rules {
		if ri == nil {
			continue
		}
		f := w.facts(ri)
		f.Contexts++
		region, exact := ri.region, ri.exact
		if dirty && ri.usesMark {
			region, exact = ri.loose, false
		}
		regions[i], exactAt[i] = region, exact
		q := entry.Intersect(region)
		if q.Empty() {
			f.DeadIn++
			f.ByEntry++
			if f.DeadIn == 1 && via != nil {
				f.Covers = []Cover{{via.r, via.verdict}}
			}
			f.SameVerdict = false
			continue
		}
		cands = w.candidates(ci, q, cands[:0], func(j int) bool { return j < i && cov[j] != nil })
		var hit Region
		budget := subtractBudget
		var ps []*Cube
		for _, j := range cands {
			for _, p := range cov[j] {
				ps = append(ps, p.c)
			}
		}
		for k := range q {
			hit = append(hit, w.s.subtractAll(q[k], ps, &budget)...)
		}
		hits[i] = hit
		if hit.Empty() {
			f.DeadIn++
			w.deadTags(f, ri, q, cands, cov)
			continue
		}
		if exact && (ri.kind == actVerdict || ri.kind == actGoto) && f.Correlated == nil {
			w.correlate(f, ri, ci, cands, hits, exactAt)
		}
		switch ri.kind {
		case actVerdict:
			if exact {
				cov[i] = tag(region, ri)
				if ri.verdict != "return" {
					for k := range hit {
						decided = append(decided, piece{&hit[k], ri, ri.verdict})
					}
				}
			}
		case actJump, actGoto:
			if ri.setsMark {
				dirty = true
			}
			sub, subDirty, ok := w.call(ri, hit, dirty, depth)
			dirty = dirty || subDirty
			if !ok || !exact {
				break
			}
			if ri.kind == actGoto {
				cov[i] = tag(region, ri)
			} else {
				cov[i] = sub
			}
			decided = append(decided, sub...)
		case actNone:
			if ri.setsMark {
				dirty = true
			}
		}
	}
	w.policyRedundant(ci, hits, regions, exactAt)
	return decided, dirty
}

func tag(r Region, ri *ruleInfo) []piece {
	out := make([]piece, len(r))
	for k := range r {
		out[k] = piece{&r[k], ri, ri.verdict}
	}
	return out
}

// call walks the target of a jump or goto rule for the packets that reach
// it; ok is false when it could not be walked.
func (w *walker) call(ri *ruleInfo, hit Region, dirty bool, depth int) ([]piece, bool, bool) {
	t := ri.target
	if t == nil {
		return nil, true, false
	}
	if w.onStack[t] || depth >= maxDepth || w.walks[t] >= maxChainContexts {
		w.markIncomplete(t, map[*policy.Chain]bool{})
		return nil, true, false
	}
	sub, subDirty := w.walk(w.info(t), hit, dirty, ri, depth+1)
	return sub, subDirty, true
}

// candidates returns, sorted and without duplicates, the positions of the
// rules of ci whose region meets q and that keep passes.
func (w *walker) candidates(ci *chainInfo, q Region, out []int, keep func(int) bool) []int {
	for k := range q {
		ci.idx.query(w.s, &q[k], func(e entry) {
			if keep(e.rule) {
				out = append(out, e.rule)
			}
		})
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// deadTags records which earlier rules decided the packets of a dead rule,
// taking them in rule order so that each packet is credited to the rule
// that decides it first.
func (w *walker) deadTags(f *Facts, ri *ruleInfo, q Region, cands []int, cov [][]piece) {
	rem := slices.Clone(q)
	var covers []Cover
	same := true
	for _, j := range cands {
		for _, p := range cov[j] {
			if len(rem) == 0 {
				break
			}
			var next Region
			took := false
			for k := range rem {
				if !rem[k].intersects(p.c) {
					next = append(next, rem[k])
					continue
				}
				took = true
				next = append(next, rem[k].minus(p.c)...)
			}
			rem = next
			if took {
				if p.verdict != ri.verdict || ri.kind == actNone {
					same = false
				}
				if !slices.ContainsFunc(covers, func(c Cover) bool { return c.Rule == p.by.r }) {
					covers = append(covers, Cover{p.by.r, p.verdict})
				}
			}
		}
	}
	if !same {
		f.SameVerdict = false
	}
	if f.Covers == nil {
		f.Covers = covers
	}
}

// correlate looks for an earlier terminal rule with another verdict that
// crosses this one: compared on the fields both restrict, neither contains
// the other, and some packet of the overlap reaches the earlier rule (so
// swapping the two would change its verdict).
func (w *walker) correlate(f *Facts, ri *ruleInfo, ci *chainInfo, cands []int, hits []Region, exactAt []bool) {
	if len(ri.region) != 1 {
		return
	}
	b := &ri.region[0]
	for _, j := range cands {
		rj := ci.rules[j]
		if !exactAt[j] || rj.kind != actVerdict && rj.kind != actGoto || rj.verdict == ri.verdict ||
			rj.verdict == "return" || len(rj.region) != 1 {
			continue
		}
		a := &rj.region[0]
		aOut, bOut := false, false
		for d := range NDim {
			if w.s.IsFull(a, Dim(d)) || w.s.IsFull(b, Dim(d)) {
				continue
			}
			aOut = aOut || !a[d].subset(b[d])
			bOut = bOut || !b[d].subset(a[d])
		}
		if !aOut || !bOut {
			continue
		}
		for _, h := range hits[j].IntersectCube(b) {
			f.Correlated = &Correlation{With: rj.r, WithVerdict: rj.verdict, Example: w.s.Sample(&h).String()}
			return
		}
	}
}

// policyRedundant finds the live rules whose verdict is the chain's policy
// and whose packets, were the rule removed, would meet no later rule that
// treats them differently (another verdict, a jump, any side effect, or a
// rule that may not match). It follows the packets down the later rules
// that meet them, removing those taken by same-verdict rules.
func (w *walker) policyRedundant(ci *chainInfo, hits, regions []Region, exactAt []bool) {
	var cands []int
	for i, ri := range ci.rules {
		if ri == nil || ri.kind != actVerdict || ri.verdict != ci.policy || ri.effects || !exactAt[i] || hits[i].Empty() {
			continue
		}
		rem := hits[i]
		cands = w.candidates(ci, rem, cands[:0], func(j int) bool { return j > i })
		depends := false
		for _, j := range cands {
			rj := ci.rules[j]
			meet := rem.Intersect(regions[j])
			if meet.Empty() {
				continue
			}
			if rj.kind != actVerdict || rj.verdict != ci.policy || rj.effects || !exactAt[j] {
				depends = true
				break
			}
			var next Region
			for k := range rem {
				next = append(next, w.s.subtractAll(rem[k], cubePtrs(regions[j]), nil)...)
			}
			rem = next
			if rem.Empty() {
				break
			}
		}
		if !depends {
			w.facts(ri).PolicyIn++
		}
	}
}
