package ir

import (
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/fwcproject/fwc/policy"
)

// VerdictMap is the action of a merged rule whose source rules differed in
// one key field and in their verdicts only: the packet's Key field is looked
// up in Entries and the entry's verdict applies; with no entry the rule does
// not match and evaluation goes on (as it did past the source rules).
// Only Merge makes it, for the nft backend.
type VerdictMap struct {
	// Key is a *policy.AddrCond, *policy.PortCond, *policy.IfaceCond or
	// *policy.ProtoCond giving the field (its items are those of the first
	// entry and are not otherwise meaningful).
	Key     policy.Cond
	Entries []MapEntry
}

// MapEntry is one key and its verdict. Match is a one-item match of the
// same kind as the map's Key; Verdict a *policy.Verdict (accept, drop,
// return) or a *Jump.
type MapEntry struct {
	Match   policy.Cond
	Verdict policy.Action
	// Tuple is the entry's key when the map's Key is a *policy.ConcatCond
	// (a lookup along several fields, see lookup.go): one value per key.
	Tuple []policy.SetValue
}

// Terminal is false: a packet whose key has no entry goes on.
func (*VerdictMap) Terminal() bool { return false }

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
//
// Runs that differ in several fields become lookups in a set of tuples
// (see lookup.go), declared as named sets after rs's own.
func Merge(rs *Ruleset) *Ruleset {
	return MergeWith(rs, MergeOptions{Anon: true, Maps: true, Lookups: true})
}

// MergeOptions says which merges a backend can express.
type MergeOptions struct {
	// Anon: runs that differ in one field become one rule with an
	// anonymous set or (with Maps) a verdict map.
	Anon bool
	// Maps: runs whose verdicts differ become verdict maps.
	Maps bool
	// Lookups: runs that differ in several fields become lookups in a
	// named set of tuples, or (with Maps) in an anonymous verdict map.
	Lookups bool
	// Accept, when not nil, says whether the backend can hold a lookup
	// of these keys whose parts have these types (as a map when isMap).
	Accept func(keys []policy.Key, types []policy.SetType, isMap bool) bool
}

// MergeWith is Merge limited to the merges opt allows.
func MergeWith(rs *Ruleset, opt MergeOptions) *Ruleset {
	out := rs.Clone()
	mg := &merger{opt: opt, taken: map[string]bool{}}
	for _, s := range out.Sets {
		mg.taken[s.Name] = true
	}
	for _, t := range out.Tables {
		for _, c := range t.Chains {
			c.Rules = mg.rules(c.Rules)
		}
	}
	if len(mg.sets) > 0 {
		out.Sets = append(slices.Clip(out.Sets), mg.sets...)
	}
	return out
}

// merger holds a merge's options and the sets its lookups made.
type merger struct {
	opt   MergeOptions
	sets  []*Set
	taken map[string]bool
	n     int
}

// name returns a new lookup set's name, one no set of the ruleset has.
func (mg *merger) name() string {
	for {
		mg.n++
		name := "fwc_lookup_" + strconv.Itoa(mg.n)
		if !mg.taken[name] {
			mg.taken[name] = true
			return name
		}
	}
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

func (mg *merger) rules(rules []*Rule) []*Rule {
	var out []*Rule
	for len(rules) > 0 {
		n, r := 1, rules[0]
		if mg.opt.Anon {
			n, r = mergeRun(rules, mg.opt.Maps)
		}
		if mg.opt.Lookups {
			if taken, rl := mg.tryLookup(rules); len(taken) > n {
				out = append(out, rl)
				rules = without(rules, taken)
				continue
			}
		}
		out = append(out, r)
		rules = rules[n:]
	}
	return out
}

// without returns rules after the merged rule made of rules[taken...]:
// the rules between the taken ones, in their order, then the rest. It
// reuses rules' array (the rules between move back over the taken ones,
// so the rest is not copied).
func without(rules []*Rule, taken []int) []*Rule {
	last := taken[len(taken)-1]
	dst := last
	t := len(taken) - 1
	for i := last; i > 0; i-- {
		if t >= 0 && taken[t] == i {
			t--
			continue
		}
		rules[dst] = rules[i]
		dst--
	}
	return rules[dst+1:]
}

// mergeRun merges a run of rules that differ in one field at the start of
// rules and returns how many rules it consumed and the resulting rule.
func mergeRun(rules []*Rule, maps bool) (int, *Rule) {
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
	if !maps {
		return 1, first
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
		case *policy.LimitCond, *Meter, *Connlimit, *policy.ProbCond:
			return false
		}
	}
	for _, a := range r.Actions {
		switch a.(type) {
		case *policy.Counter, *policy.Balance, *VerdictMap:
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
	return idx, idx >= 0 && samePortProto(a, b)
}

// samePortProto reports whether a and b give their port and lookup matches
// the same protocol (Rule.PortProto): those matches read the rule's
// protocol match, so two rules that differ there differ in them too.
func samePortProto(a, b *Rule) bool {
	pa, pb := a.PortProto(), b.PortProto()
	if pa == pb {
		return true
	}
	return !slices.ContainsFunc(a.Matches, func(m policy.Cond) bool {
		switch m.(type) {
		case *policy.PortCond, *policy.ConcatCond:
			return true
		}
		return false
	})
}

// matchEqual reports whether a and b are the same match (see same), with
// the commonest kinds compared field by field: Merge compares every pair
// of adjacent rules, and reflection was a fifth of encoding a 50,000-rule
// batch.
func matchEqual(a, b policy.Cond) bool {
	if a == b {
		return true
	}
	switch a := a.(type) {
	case *policy.AddrCond:
		b, ok := b.(*policy.AddrCond)
		return ok && a.Dir == b.Dir && a.Neg == b.Neg && a.Set == b.Set && slices.Equal(a.Items, b.Items)
	case *policy.PortCond:
		b, ok := b.(*policy.PortCond)
		return ok && a.Dir == b.Dir && a.Neg == b.Neg && a.Set == b.Set && slices.Equal(a.Ranges, b.Ranges)
	case *policy.IfaceCond:
		b, ok := b.(*policy.IfaceCond)
		return ok && a.Dir == b.Dir && a.Neg == b.Neg && a.Set == b.Set && slices.Equal(a.Ifaces, b.Ifaces)
	case *policy.ProtoCond:
		b, ok := b.(*policy.ProtoCond)
		return ok && a.Neg == b.Neg && slices.Equal(a.Protos, b.Protos)
	}
	return same(a, b)
}

var (
	atType    = reflect.TypeFor[policy.At]()
	routeType = reflect.TypeFor[*policy.Route]()
)

// same reports whether two conditions or actions ask the kernel for the
// same thing: equal in every field but those that record how the source
// wrote them (policy.At, the node; a *policy.Route, the route a mark was
// named by), which differ between rules written apart. Sets, chains and
// routes compare by identity: a ruleset has one of each name.
func same(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	return sameValue(va, vb)
}

func sameValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Pointer:
		if a.Pointer() == b.Pointer() {
			return true
		}
		if a.IsNil() || b.IsNil() || a.Elem().Kind() != reflect.Struct || isDecl(a.Elem().Type()) {
			return false
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Struct:
		if a.Type() == timeType {
			return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
		}
		for i := 0; i < a.NumField(); i++ {
			if t := a.Type().Field(i).Type; t == atType || t == routeType {
				continue
			}
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return same(a.Elem().Interface(), b.Elem().Interface())
	}
	return a.Equal(b)
}

var timeType = reflect.TypeFor[time.Time]()

// isDecl reports whether t is a declaration compared by identity.
func isDecl(t reflect.Type) bool {
	switch t {
	case reflect.TypeFor[policy.Set](), reflect.TypeFor[Set](), reflect.TypeFor[Chain](), reflect.TypeFor[policy.Route]():
		return true
	}
	return false
}

func sameExcept(a, b *Rule, i int) bool {
	if a.Family != b.Family || len(a.Matches) != len(b.Matches) || !mergeable(b) || !samePortProto(a, b) {
		return false
	}
	for j := range a.Matches {
		if j != i && !matchEqual(a.Matches[j], b.Matches[j]) {
			return false
		}
	}
	return true
}

func actionsEqual(a, b []policy.Action) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] == b[i] {
			continue
		}
		switch x := a[i].(type) {
		case *Jump:
			y, ok := b[i].(*Jump)
			if !ok || x.Goto != y.Goto || x.Target != y.Target {
				return false
			}
		case *policy.Verdict:
			y, ok := b[i].(*policy.Verdict)
			if !ok || x.Kind != y.Kind || RejectOf(x) != RejectOf(y) {
				return false
			}
		default:
			if !same(a[i], b[i]) {
				return false
			}
		}
	}
	return true
}

// union reports whether a and b are of a kind whose values can be joined
// into one anonymous set, and returns a new match with the values of both.
func union(a, b policy.Cond) (policy.Cond, bool) {
	switch a := a.(type) {
	case *policy.AddrCond:
		b, ok := b.(*policy.AddrCond)
		if !ok || a.Set != nil || b.Set != nil || a.Neg || b.Neg || a.Dir != b.Dir {
			return nil, false
		}
		return &policy.AddrCond{Dir: a.Dir, Items: append(slices.Clip(a.Items), b.Items...)}, true
	case *policy.PortCond:
		b, ok := b.(*policy.PortCond)
		if !ok || a.Set != nil || b.Set != nil || a.Neg || b.Neg || a.Dir != b.Dir {
			return nil, false
		}
		return &policy.PortCond{Dir: a.Dir, Ranges: append(slices.Clip(a.Ranges), b.Ranges...)}, true
	case *policy.IfaceCond:
		b, ok := b.(*policy.IfaceCond)
		if !ok || a.Set != nil || b.Set != nil || a.Neg || b.Neg || a.Dir != b.Dir ||
			hasWildcard(a.Ifaces) || hasWildcard(b.Ifaces) {
			return nil, false
		}
		return &policy.IfaceCond{Dir: a.Dir, Ifaces: append(slices.Clip(a.Ifaces), b.Ifaces...)}, true
	case *policy.ProtoCond:
		b, ok := b.(*policy.ProtoCond)
		if !ok || a.Neg || b.Neg {
			return nil, false
		}
		return &policy.ProtoCond{Protos: append(slices.Clip(a.Protos), b.Protos...)}, true
	case *policy.ICMPCond:
		b, ok := b.(*policy.ICMPCond)
		if !ok || a.Neg || b.Neg || a.V6 != b.V6 || hasCode(a.Types) || hasCode(b.Types) {
			return nil, false
		}
		return &policy.ICMPCond{V6: a.V6, Types: append(slices.Clip(a.Types), b.Types...)}, true
	case *policy.CtStateCond:
		b, ok := b.(*policy.CtStateCond)
		if !ok || a.Neg || b.Neg {
			return nil, false
		}
		return &policy.CtStateCond{Bits: a.Bits | b.Bits}, true
	}
	return nil, false
}

// values returns the number of values m holds, for the kinds union joins:
// more than one makes an anonymous set. A ct state match is a bit mask,
// never a set (0).
func values(m policy.Cond) int {
	switch m := m.(type) {
	case *policy.AddrCond:
		return len(m.Items)
	case *policy.PortCond:
		return len(m.Ranges)
	case *policy.IfaceCond:
		return len(m.Ifaces)
	case *policy.ProtoCond:
		return len(m.Protos)
	case *policy.ICMPCond:
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
func mapKey(m policy.Cond) (kind, val string, ok bool) {
	switch m := m.(type) {
	case *policy.AddrCond:
		if m.Set == nil && !m.Neg && len(m.Items) == 1 && !m.Items[0].IsRange() && m.Items[0].Prefix.IsSingleIP() {
			return "addr" + strconv.Itoa(int(m.Dir)), m.Items[0].Prefix.Addr().String(), true
		}
	case *policy.PortCond:
		if m.Set == nil && !m.Neg && len(m.Ranges) == 1 && m.Ranges[0].Lo == m.Ranges[0].Hi {
			// The protocol is the rule's, the same in every rule of a
			// run (sameExcept).
			return "port" + strconv.Itoa(int(m.Dir)), strconv.Itoa(int(m.Ranges[0].Lo)), true
		}
	case *policy.IfaceCond:
		if m.Set == nil && !m.Neg && len(m.Ifaces) == 1 && !m.Ifaces[0].Wildcard {
			return "iface" + strconv.Itoa(int(m.Dir)), m.Ifaces[0].Name, true
		}
	case *policy.ProtoCond:
		if !m.Neg && len(m.Protos) == 1 {
			return "proto", strconv.Itoa(int(m.Protos[0])), true
		}
	}
	return "", "", false
}

// mapVerdict returns the rule's only action if it can be a verdict map value.
func mapVerdict(r *Rule) (policy.Action, bool) {
	if len(r.Actions) != 1 {
		return nil, false
	}
	switch a := r.Actions[0].(type) {
	case *policy.Verdict:
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
	vm := &VerdictMap{Key: first.Matches[i], Entries: []MapEntry{{Match: first.Matches[i], Verdict: v0}}}
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
		vm.Entries = append(vm.Entries, MapEntry{Match: r.Matches[i], Verdict: v})
		pos = append(pos, r.Pos...)
	}
	if n < minSetRun {
		return 1, first
	}
	ms := slices.Delete(slices.Clone(first.Matches), i, i+1)
	return n, &Rule{Family: first.Family, Matches: ms, Actions: []policy.Action{vm}, Pos: pos}
}
