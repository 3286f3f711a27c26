package ir

import (
	"reflect"
	"slices"
	"strconv"

	"github.com/fwcproject/fwc/policy"
)

// VerdictMap is the action of a merged rule whose source rules differed in
// one key field and in their verdicts only: the packet's Key field is looked
// up in Entries and the entry's verdict applies; with no entry the rule does
// not match and evaluation goes on (as it did past the source rules).
// Only Merge makes it, for the nft backend.
type VerdictMap struct {
	// Key is an *Addr, *Port, *Iface or *Proto giving the field (its items
	// are those of the first entry and are not otherwise meaningful).
	Key     Match
	Entries []MapEntry
}

// MapEntry is one key and its verdict. Match is a one-item match of the
// same kind as the map's Key; Verdict a *Verdict (accept, drop, return) or
// a *Jump.
type MapEntry struct {
	Match   Match
	Verdict Action
}

func (*VerdictMap) action() {}

// Merge returns a copy of rs in which runs of adjacent rules of a chain
// that differ in one match only become one rule: with the same actions,
// the differing match takes the union of the values (an nft anonymous
// set); with one different verdict each and single-valued keys, a verdict
// map. A run that would make a new anonymous set or map is merged only
// from minSetRun rules on (see there). Only adjacent rules merge, so order
// semantics hold: a packet matching the merged rule would have matched one
// of the run's rules, and the first of them, because the keys of a verdict
// map are distinct values and a set merge keeps one action list. Rules
// with stateful matches (limit, meter, connlimit, random) or counters
// never merge, since the merged rule would share one state.
func Merge(rs *Ruleset) *Ruleset {
	out := rs.Clone()
	for _, t := range out.Tables {
		for _, c := range t.Chains {
			c.Rules = mergeRules(c.Rules)
		}
	}
	return out
}

// minSetRun is the fewest rules merged into a new anonymous set or verdict
// map. The kernel pays for each anonymous set when a rule binds it, with a
// walk of the whole pending transaction (__nft_set_trans_bind), so in a
// large batch one set costs as much as dozens of rules; and in a batch
// that replaces a table the walks also cross the old table's deletion.
// polgen's 50,000 rules held 724 anonymous sets, 674 of them merged pairs:
// replacing that table took nft -f 4.4-4.9 s, and 2.4 s with the pairs
// left as two rules. A pair costs the packet path no more than a lookup.
// Runs that only join values already in a set (or the bits of a ct state
// match) make no new set and merge from two.
const minSetRun = 3

func mergeRules(rules []*Rule) []*Rule {
	var out []*Rule
	for s := 0; s < len(rules); {
		n, r := mergeRun(rules[s:])
		out = append(out, r)
		s += n
	}
	return out
}

// mergeRun merges a run at the start of rules and returns how many rules
// it consumed and the resulting rule.
func mergeRun(rules []*Rule) (int, *Rule) {
	first := rules[0]
	if len(rules) < 2 || !mergeable(first) {
		return 1, first
	}
	i, ok := differingMatch(first, rules[1])
	if !ok {
		return 1, first
	}
	if actionsEqual(first.Actions, rules[1].Actions) {
		if n, r := setRun(rules, i); n > 1 {
			return n, r
		}
	}
	if n, r := vmapRun(rules, i); n > 1 {
		return n, r
	}
	return 1, first
}

// mergeable reports whether r may take part in a merge at all.
func mergeable(r *Rule) bool {
	for _, m := range r.Matches {
		switch m.(type) {
		case *Limit, *Meter, *Connlimit, *Random:
			return false
		}
	}
	for _, a := range r.Actions {
		switch a.(type) {
		case *Counter, *Balance, *VerdictMap:
			return false
		}
	}
	return true
}

// differingMatch returns the one index where a and b differ.
func differingMatch(a, b *Rule) (int, bool) {
	if a.Family != b.Family || len(a.Matches) != len(b.Matches) || !mergeable(b) {
		return 0, false
	}
	idx := -1
	for i := range a.Matches {
		if !matchEqual(a.Matches[i], b.Matches[i]) {
			if idx >= 0 {
				return 0, false
			}
			idx = i
		}
	}
	return idx, idx >= 0
}

// matchEqual is reflect.DeepEqual(a, b) with the commonest kinds compared
// field by field: Merge compares every pair of adjacent rules, and
// DeepEqual was a fifth of encoding a 50,000-rule batch.
func matchEqual(a, b Match) bool {
	switch a := a.(type) {
	case *Addr:
		b, ok := b.(*Addr)
		return ok && a.Dir == b.Dir && a.Neg == b.Neg && sameSet(a.Set, b.Set) && slices.Equal(a.Items, b.Items)
	case *Port:
		b, ok := b.(*Port)
		return ok && a.Proto == b.Proto && a.Dir == b.Dir && a.Neg == b.Neg && sameSet(a.Set, b.Set) && slices.Equal(a.Ranges, b.Ranges)
	case *Iface:
		b, ok := b.(*Iface)
		return ok && a.Dir == b.Dir && a.Neg == b.Neg && sameSet(a.Set, b.Set) && slices.Equal(a.Ifaces, b.Ifaces)
	case *Proto:
		b, ok := b.(*Proto)
		return ok && a.Neg == b.Neg && slices.Equal(a.Protos, b.Protos)
	}
	return reflect.DeepEqual(a, b)
}

func sameSet(a, b *Set) bool { return a == b || reflect.DeepEqual(a, b) }

func sameExcept(a, b *Rule, i int) bool {
	if a.Family != b.Family || len(a.Matches) != len(b.Matches) || !mergeable(b) {
		return false
	}
	for j := range a.Matches {
		if j != i && !matchEqual(a.Matches[j], b.Matches[j]) {
			return false
		}
	}
	return true
}

func actionsEqual(a, b []Action) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		ja, oka := a[i].(*Jump)
		jb, okb := b[i].(*Jump)
		if oka || okb {
			if !oka || !okb || ja.Goto != jb.Goto || ja.Target != jb.Target {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// union reports whether a and b are of a kind whose values can be joined
// into one anonymous set, and returns a new match with the values of both.
func union(a, b Match) (Match, bool) {
	switch a := a.(type) {
	case *Addr:
		b, ok := b.(*Addr)
		if !ok || a.Set != nil || b.Set != nil || a.Neg || b.Neg || a.Dir != b.Dir {
			return nil, false
		}
		return &Addr{Dir: a.Dir, Items: append(slices.Clip(a.Items), b.Items...)}, true
	case *Port:
		b, ok := b.(*Port)
		if !ok || a.Set != nil || b.Set != nil || a.Neg || b.Neg || a.Dir != b.Dir || a.Proto != b.Proto {
			return nil, false
		}
		return &Port{Proto: a.Proto, Dir: a.Dir, Ranges: append(slices.Clip(a.Ranges), b.Ranges...)}, true
	case *Iface:
		b, ok := b.(*Iface)
		if !ok || a.Set != nil || b.Set != nil || a.Neg || b.Neg || a.Dir != b.Dir ||
			hasWildcard(a.Ifaces) || hasWildcard(b.Ifaces) {
			return nil, false
		}
		return &Iface{Dir: a.Dir, Ifaces: append(slices.Clip(a.Ifaces), b.Ifaces...)}, true
	case *Proto:
		b, ok := b.(*Proto)
		if !ok || a.Neg || b.Neg {
			return nil, false
		}
		return &Proto{Protos: append(slices.Clip(a.Protos), b.Protos...)}, true
	case *ICMP:
		b, ok := b.(*ICMP)
		if !ok || a.Neg || b.Neg || a.V6 != b.V6 || hasCode(a.Types) || hasCode(b.Types) {
			return nil, false
		}
		return &ICMP{V6: a.V6, Types: append(slices.Clip(a.Types), b.Types...)}, true
	case *CtState:
		b, ok := b.(*CtState)
		if !ok || a.Neg || b.Neg {
			return nil, false
		}
		return &CtState{Bits: a.Bits | b.Bits}, true
	}
	return nil, false
}

// values returns the number of values m holds, for the kinds union joins:
// more than one makes an anonymous set. A ct state match is a bit mask,
// never a set (0).
func values(m Match) int {
	switch m := m.(type) {
	case *Addr:
		return len(m.Items)
	case *Port:
		return len(m.Ranges)
	case *Iface:
		return len(m.Ifaces)
	case *Proto:
		return len(m.Protos)
	case *ICMP:
		return len(m.Types)
	}
	return 0
}

func hasWildcard(ifs []policy.Iface) bool {
	return slices.ContainsFunc(ifs, func(i policy.Iface) bool { return i.Wildcard })
}

func hasCode(ts []policy.ICMPType) bool {
	return slices.ContainsFunc(ts, func(t policy.ICMPType) bool { return t.Code >= 0 })
}

func setRun(rules []*Rule, i int) (int, *Rule) {
	first := rules[0]
	m := first.Matches[i]
	pos := slices.Clone(first.Pos)
	hadSet := values(m) > 1
	n := 1
	for ; n < len(rules); n++ {
		r := rules[n]
		if !sameExcept(first, r, i) || !actionsEqual(first.Actions, r.Actions) {
			break
		}
		u, ok := union(m, r.Matches[i])
		if !ok {
			break
		}
		hadSet = hadSet || values(r.Matches[i]) > 1
		m = u
		pos = append(pos, r.Pos...)
	}
	if n == 1 || (n < minSetRun && !hadSet && values(m) > 1) {
		return 1, first
	}
	nr := &Rule{Family: first.Family, Matches: slices.Clone(first.Matches), Actions: first.Actions, Pos: pos}
	nr.Matches[i] = m
	return n, nr
}

// mapKey returns the kind of m (field, direction, protocol) and its single
// value, if m is a positive match of one exact value usable as a verdict
// map key.
func mapKey(m Match) (kind, val string, ok bool) {
	switch m := m.(type) {
	case *Addr:
		if m.Set == nil && !m.Neg && len(m.Items) == 1 && !m.Items[0].IsRange() && m.Items[0].Prefix.IsSingleIP() {
			return "addr" + strconv.Itoa(int(m.Dir)), m.Items[0].Prefix.Addr().String(), true
		}
	case *Port:
		if m.Set == nil && !m.Neg && len(m.Ranges) == 1 && m.Ranges[0].Lo == m.Ranges[0].Hi {
			return "port" + strconv.Itoa(int(m.Dir)) + "/" + strconv.Itoa(int(m.Proto)), strconv.Itoa(int(m.Ranges[0].Lo)), true
		}
	case *Iface:
		if m.Set == nil && !m.Neg && len(m.Ifaces) == 1 && !m.Ifaces[0].Wildcard {
			return "iface" + strconv.Itoa(int(m.Dir)), m.Ifaces[0].Name, true
		}
	case *Proto:
		if !m.Neg && len(m.Protos) == 1 {
			return "proto", strconv.Itoa(int(m.Protos[0])), true
		}
	}
	return "", "", false
}

// mapVerdict returns the rule's only action if it can be a verdict map value.
func mapVerdict(r *Rule) (Action, bool) {
	if len(r.Actions) != 1 {
		return nil, false
	}
	switch a := r.Actions[0].(type) {
	case *Verdict:
		return a, a.Kind != policy.Reject
	case *Jump:
		return a, true
	}
	return nil, false
}

func vmapRun(rules []*Rule, i int) (int, *Rule) {
	first := rules[0]
	kind, k0, ok := mapKey(first.Matches[i])
	v0, okv := mapVerdict(first)
	if !ok || !okv {
		return 1, first
	}
	seen := map[string]bool{k0: true}
	vm := &VerdictMap{Key: first.Matches[i], Entries: []MapEntry{{first.Matches[i], v0}}}
	pos := slices.Clone(first.Pos)
	n := 1
	for ; n < len(rules); n++ {
		r := rules[n]
		if !sameExcept(first, r, i) {
			break
		}
		kd, k, ok := mapKey(r.Matches[i])
		v, okv := mapVerdict(r)
		if !ok || !okv || seen[k] || kd != kind {
			break
		}
		seen[k] = true
		vm.Entries = append(vm.Entries, MapEntry{r.Matches[i], v})
		pos = append(pos, r.Pos...)
	}
	if n < minSetRun {
		return 1, first
	}
	ms := slices.Delete(slices.Clone(first.Matches), i, i+1)
	return n, &Rule{Family: first.Family, Matches: ms, Actions: []Action{vm}, Pos: pos}
}
