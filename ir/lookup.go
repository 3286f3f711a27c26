package ir

import (
	"slices"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/policy"
)

// Lookups along several fields.
//
// A run of rules that differ in more than one field (address and port, the
// input interface and an address, both addresses and a port) becomes one
// rule whose differing fields are looked up together in a set of tuples:
// `ip saddr . tcp dport @fwc_lookup_1`. The set is named and declared in
// the Ruleset like a policy's own concatenated set (an ir.Set and a
// policy.Set of the same name), so both nft emitters and the ipset writer
// handle it as they handle `set s { type ipv4_addr . port }`. When the
// rules' verdicts differ (one verdict each), the tuples key an anonymous
// verdict map instead (VerdictMap with a *policy.ConcatCond key).
//
// Order: only a run of adjacent rules merges, so no rule lies between two
// merged rules and none can change the outcome for a packet of the run
// (the check is syntactic: adjacency, the same other matches and, for a
// set, the same actions). A packet that matches the merged rule matches
// one of the run's tuples. With one action list for all, which tuple does
// not matter. For a verdict map it does: the tuples of a map never overlap
// (a run ends before a rule whose tuples would overlap an earlier one), so
// the packet's tuple belongs to exactly one rule of the run and its
// verdict is that rule's, as before the merge.

// lookupMaxProduct bounds the tuples one rule may add (the product of its
// key fields' value counts): a rule with 100 addresses and 100 ports would
// otherwise put 10,000 elements in place of one rule.
const lookupMaxProduct = 64

// lookupMaxOverlapWork bounds the pairs of interval tuples compared for
// overlaps per bucket of equal exact parts; a run stops before exceeding it.
const lookupMaxOverlapWork = 1 << 16

// maxKeyBytes is the longest concatenated key: the kernel loads it into
// its 16 four-byte registers (NFT_REG32_COUNT), and a set's key is at most
// NFT_DATA_VALUE_MAXLEN (64) bytes. Two IPv6 addresses, a port and both
// interface names would take 68; nft itself aborts on such a rule.
const maxKeyBytes = 64

// keyBytes is the length of a key of these parts, each padded to four
// bytes as in the registers.
func keyBytes(types []policy.SetType) int {
	n := 0
	for _, t := range types {
		switch t {
		case policy.IPv6Addr, policy.IPv6Net, policy.IfaceT:
			n += 16
		default:
			n += 4
		}
	}
	return n
}

// keyField is one field a lookup may take: its key, the set type of its
// values, and its values in the rule.
type keyField struct {
	key   policy.Key
	types []policy.SetType // one per value when it varies (a prefix is a net)
	vals  []policy.SetValue
}

// keyOf reports whether m can be a field of a lookup, and its key and
// values. A field is a positive literal match without wildcards: an
// address list of the rule's family, a list of single ports of the rule's
// port protocol, a list of interface names.
func keyOf(r *Rule, m policy.Cond) (keyField, bool) {
	switch m := m.(type) {
	case *policy.AddrCond:
		if m.Set != nil || m.Neg || len(m.Items) == 0 || (r.Family != IPv4 && r.Family != IPv6) {
			return keyField{}, false
		}
		k := keyField{key: policy.KeySaddr}
		if m.Dir == policy.Dst {
			k.key = policy.KeyDaddr
		}
		for _, it := range m.Items {
			// A /0 is no restriction worth a tuple, and ipset's
			// hash:net refuses it.
			if it.Is4() != (r.Family == IPv4) || (!it.IsRange() && it.Prefix.Bits() == 0) {
				return keyField{}, false
			}
			t := addrType(r.Family)
			if it.IsRange() || !it.Prefix.IsSingleIP() {
				t = netType(r.Family)
			}
			k.types = append(k.types, t)
			k.vals = append(k.vals, policy.SetValue{Addr: it})
		}
		return k, true
	case *policy.PortCond:
		if m.Set != nil || m.Neg || len(m.Ranges) == 0 || r.PortProto() == 0 {
			return keyField{}, false
		}
		k := keyField{key: policy.KeySport}
		if m.Dir == policy.Dst {
			k.key = policy.KeyDport
		}
		for _, pr := range m.Ranges {
			if pr.Lo != pr.Hi {
				// A set element holds one port (policy.SetValue).
				return keyField{}, false
			}
			k.types = append(k.types, policy.PortType)
			k.vals = append(k.vals, policy.SetValue{Port: pr.Lo})
		}
		return k, true
	case *policy.IfaceCond:
		if m.Set != nil || m.Neg || len(m.Ifaces) == 0 || hasWildcard(m.Ifaces) {
			return keyField{}, false
		}
		k := keyField{key: policy.KeyIif}
		if m.Dir == policy.Dst {
			k.key = policy.KeyOif
		}
		for _, i := range m.Ifaces {
			k.types = append(k.types, policy.IfaceT)
			k.vals = append(k.vals, policy.SetValue{Iface: i.Name})
		}
		return k, true
	}
	return keyField{}, false
}

// keyKind is keyOf's key without the values: whether m can be a field of
// a lookup. It allocates nothing; the run's scan calls it for every
// differing field of every rule it looks at.
func keyKind(r *Rule, m policy.Cond) (policy.Key, bool) {
	switch m := m.(type) {
	case *policy.AddrCond:
		if m.Set != nil || m.Neg || len(m.Items) == 0 || (r.Family != IPv4 && r.Family != IPv6) {
			return "", false
		}
		for _, it := range m.Items {
			if it.Is4() != (r.Family == IPv4) || (!it.IsRange() && it.Prefix.Bits() == 0) {
				return "", false
			}
		}
		if m.Dir == policy.Dst {
			return policy.KeyDaddr, true
		}
		return policy.KeySaddr, true
	case *policy.PortCond:
		if m.Set != nil || m.Neg || len(m.Ranges) == 0 || r.PortProto() == 0 {
			return "", false
		}
		for _, pr := range m.Ranges {
			if pr.Lo != pr.Hi {
				return "", false
			}
		}
		if m.Dir == policy.Dst {
			return policy.KeyDport, true
		}
		return policy.KeySport, true
	case *policy.IfaceCond:
		if m.Set != nil || m.Neg || len(m.Ifaces) == 0 || hasWildcard(m.Ifaces) {
			return "", false
		}
		if m.Dir == policy.Dst {
			return policy.KeyOif, true
		}
		return policy.KeyIif, true
	}
	return "", false
}

func netType(f Family) policy.SetType {
	if f == IPv4 {
		return policy.IPv4Net
	}
	return policy.IPv6Net
}

// keyRank orders the fields of a lookup: the first address, the ports, a
// second address, then interfaces. Every order is the same lookup to nft;
// this one is the order of ipset's types (hash:net,port, hash:net,port,net,
// hash:net,iface), so the iptables backend can use the same sets.
func keyRank(k policy.Key, firstAddr policy.Key) int {
	switch k {
	case firstAddr:
		return 0
	case policy.KeySport:
		return 1
	case policy.KeyDport:
		return 2
	case policy.KeySaddr, policy.KeyDaddr:
		return 3
	case policy.KeyIif:
		return 4
	}
	return 5
}

// lookupMaxSkip is how many rules a lookup's run may pass over: rules
// between its members that share no packet with any member that follows
// them (see disjoint), and so stay after the merged rule with the same
// outcome for every packet.
const lookupMaxSkip = 16

// tryLookup finds the longest run from the start of rules that merges into
// one lookup of two fields or more, and returns the indices of the rules
// it takes (the first is 0) and the merged rule; nil when there is none of
// at least minSetRun rules.
//
// The run may pass over other rules (at most lookupMaxSkip): a rule that
// does not fit the run, or fits but meets a rule passed over, is passed
// over; a rule joins only if it is disjoint from every rule passed over
// before it, since the merged rule takes the place of the first and so
// comes before them. The check is syntactic (disjoint: a field both rules
// match on with values no packet has at once; passable for rules with a
// stateful match), never a guess.
func (mg *merger) tryLookup(rules []*Rule) ([]int, *Rule) {
	first := rules[0]
	if len(rules) < minSetRun || !mergeable(first) {
		return nil, nil
	}
	isMap, decided := false, false
	diff := make([]bool, len(first.Matches))
	taken := []int{0}
	var skipped []int
	for j := 1; j < len(rules) && len(skipped) <= lookupMaxSkip; j++ {
		r := rules[j]
		fits, asMap, nd := mg.fits(first, r, decided, isMap)
		if fits && !slices.ContainsFunc(skipped, func(k int) bool { return !passable(rules[k], r) }) {
			if !decided {
				isMap, decided = asMap, true
			}
			taken = append(taken, j)
			for _, d := range nd {
				diff[d] = true
			}
			continue
		}
		skipped = append(skipped, j)
	}
	for len(taken) >= minSetRun {
		sel := make([]*Rule, len(taken))
		for i, k := range taken {
			sel[i] = rules[k]
		}
		m, nr := mg.buildLookup(sel, diff, isMap)
		if m == len(sel) {
			return taken, nr
		}
		// The tuples of rule m conflict with earlier ones: merge fewer
		// and recompute which fields differ among them.
		taken = taken[:m]
		if len(taken) < minSetRun {
			break
		}
		diff = make([]bool, len(first.Matches))
		for _, k := range taken[1:] {
			for j := range first.Matches {
				if !matchEqual(first.Matches[j], rules[k].Matches[j]) {
					diff[j] = true
				}
			}
		}
	}
	return nil, nil
}

// passable reports whether a rule r may move before x: no packet matches
// both (disjoint). When x has a stateful match (limit, meter, connlimit,
// random), a packet that fails x only after reaching it still counts
// there, so only matches before the first stateful one may show it, and
// only those both backends test before it: the family, the protocol, and
// an address or interface of one value (iptables checks -p, -s, -d, -i,
// -o before any -m match; a port is an -m match, or alternatives after
// the others).
func passable(x, r *Rule) bool {
	k := slices.IndexFunc(x.Matches, stateful)
	if k < 0 {
		return disjoint(x, r)
	}
	if x.Family&r.Family == 0 {
		return true
	}
	for _, mx := range x.Matches[:k] {
		switch m := mx.(type) {
		case *policy.AddrCond:
			if len(m.Items) != 1 {
				continue
			}
		case *policy.IfaceCond:
			if len(m.Ifaces) != 1 {
				continue
			}
		case *policy.ProtoCond:
		default:
			continue
		}
		for _, mr := range r.Matches {
			if condsDisjoint(x, r, mx, mr) {
				return true
			}
		}
	}
	return false
}

func stateful(m policy.Cond) bool {
	switch m.(type) {
	case *policy.LimitCond, *Meter, *Connlimit, *policy.ProbCond:
		return true
	}
	return false
}

// fits reports whether r can join a lookup run started by first: the same
// family, matches and protocol but in key fields, and the same actions
// (a set) or one verdict each (a map, when allowed). When the mode is not
// decided yet, asMap says which r would decide. nd lists the fields in
// which r differs from first.
func (mg *merger) fits(first, r *Rule, decided, isMap bool) (ok, asMap bool, nd []int) {
	if r.Family != first.Family || len(r.Matches) != len(first.Matches) || !mergeable(r) || !samePortProto(first, r) {
		return false, false, nil
	}
	switch {
	case (!decided || !isMap) && actionsEqual(first.Actions, r.Actions):
		asMap = false
	case (!decided || isMap) && mg.opt.Maps:
		_, ok1 := mapVerdict(first)
		_, ok2 := mapVerdict(r)
		if !ok1 || !ok2 {
			return false, false, nil
		}
		asMap = true
	default:
		return false, false, nil
	}
	for j := range first.Matches {
		if matchEqual(first.Matches[j], r.Matches[j]) {
			continue
		}
		ka, oka := keyKind(first, first.Matches[j])
		kb, okb := keyKind(r, r.Matches[j])
		if !oka || !okb || ka != kb {
			return false, false, nil
		}
		nd = append(nd, j)
	}
	return true, asMap, nd
}

// disjoint reports whether no packet can match both a and b, judged on
// fields rule actions never change: the family, and a field both match
// on with positive literal values (addresses, ports of one protocol,
// interface names, protocols) that share no value. false means "not
// shown", not "they overlap".
func disjoint(a, b *Rule) bool {
	if a.Family&b.Family == 0 {
		return true
	}
	for _, ma := range a.Matches {
		for _, mb := range b.Matches {
			if condsDisjoint(a, b, ma, mb) {
				return true
			}
		}
	}
	return false
}

// maxDisjointPairs bounds the value pairs one disjointness test compares.
const maxDisjointPairs = 1024

func condsDisjoint(ra, rb *Rule, a, b policy.Cond) bool {
	switch a := a.(type) {
	case *policy.AddrCond:
		b, ok := b.(*policy.AddrCond)
		if !ok || a.Dir != b.Dir || a.Neg || b.Neg || a.Set != nil || b.Set != nil ||
			len(a.Items)*len(b.Items) > maxDisjointPairs {
			return false
		}
		for _, x := range a.Items {
			xlo, xhi := Bounds(x)
			for _, y := range b.Items {
				ylo, yhi := Bounds(y)
				if xlo.Is4() == ylo.Is4() && !xhi.Less(ylo) && !yhi.Less(xlo) {
					return false
				}
			}
		}
		return true
	case *policy.PortCond:
		b, ok := b.(*policy.PortCond)
		if !ok || a.Dir != b.Dir || a.Neg || b.Neg || a.Set != nil || b.Set != nil ||
			ra.PortProto() == 0 || ra.PortProto() != rb.PortProto() || len(a.Ranges)*len(b.Ranges) > maxDisjointPairs {
			return false
		}
		for _, x := range a.Ranges {
			for _, y := range b.Ranges {
				if x.Lo <= y.Hi && y.Lo <= x.Hi {
					return false
				}
			}
		}
		return true
	case *policy.IfaceCond:
		b, ok := b.(*policy.IfaceCond)
		if !ok || a.Dir != b.Dir || a.Neg || b.Neg || a.Set != nil || b.Set != nil ||
			len(a.Ifaces)*len(b.Ifaces) > maxDisjointPairs {
			return false
		}
		for _, x := range a.Ifaces {
			for _, y := range b.Ifaces {
				if ifacesMeet(x, y) {
					return false
				}
			}
		}
		return true
	case *policy.ProtoCond:
		b, ok := b.(*policy.ProtoCond)
		if !ok || a.Neg || b.Neg {
			return false
		}
		for _, x := range a.Protos {
			if slices.Contains(b.Protos, x) {
				return false
			}
		}
		return true
	}
	return false
}

// ifacesMeet reports whether one interface name can match both x and y
// (a wildcard is a prefix).
func ifacesMeet(x, y policy.Iface) bool {
	switch {
	case x.Wildcard && y.Wildcard:
		return strings.HasPrefix(x.Name, y.Name) || strings.HasPrefix(y.Name, x.Name)
	case x.Wildcard:
		return strings.HasPrefix(y.Name, x.Name)
	case y.Wildcard:
		return strings.HasPrefix(x.Name, y.Name)
	}
	return x.Name == y.Name
}

// buildLookup merges rules (whose differing fields diff marks) into one
// rule. It returns len(rules) and the rule, or the index of the first rule
// whose tuples cannot join (too many, or overlapping where they must not)
// and nil.
func (mg *merger) buildLookup(rules []*Rule, diff []bool, isMap bool) (int, *Rule) {
	first := rules[0]
	var idx []int
	var keys []policy.Key
	for j, d := range diff {
		if d {
			k, _ := keyOf(first, first.Matches[j])
			idx = append(idx, j)
			keys = append(keys, k.key)
		}
	}
	if len(idx) == 1 {
		return mg.oneField(rules, idx[0], isMap)
	}
	if len(idx) < 2 {
		return 0, nil
	}
	firstAddr := policy.Key("")
	for _, k := range keys {
		if k == policy.KeySaddr || k == policy.KeyDaddr {
			if firstAddr == "" || k == policy.KeySaddr {
				firstAddr = k
			}
		}
	}
	order := make([]int, len(idx))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return keyRank(keys[a], firstAddr) - keyRank(keys[b], firstAddr)
	})
	sidx := make([]int, len(idx))
	skeys := make([]policy.Key, len(idx))
	for i, o := range order {
		sidx[i], skeys[i] = idx[o], keys[o]
	}
	idx, keys = sidx, skeys

	// Types: a part is a net type as soon as one value is a prefix or range.
	types := make([]policy.SetType, len(idx))
	tb := newTupleBook()
	var elems []policy.SetElem
	var verdicts []policy.Action
	pos := []Pos{}
	for ri, r := range rules {
		fields := make([]keyField, len(idx))
		product := 1
		for i, j := range idx {
			k, ok := keyOf(r, r.Matches[j])
			if !ok {
				return ri, nil
			}
			fields[i] = k
			product *= len(k.vals)
		}
		if product > lookupMaxProduct {
			return ri, nil
		}
		var v policy.Action
		if isMap {
			v, _ = mapVerdict(r)
		}
		conflict := false
		var each func(i int, parts []policy.SetValue)
		each = func(i int, parts []policy.SetValue) {
			if conflict {
				return
			}
			if i == len(fields) {
				isNew, bad := tb.add(parts, isMap)
				conflict = bad
				if isNew && !bad {
					elems = append(elems, policy.SetElem{Parts: slices.Clone(parts)})
					verdicts = append(verdicts, v)
				}
				return
			}
			for _, val := range fields[i].vals {
				each(i+1, append(parts, val))
			}
		}
		each(0, make([]policy.SetValue, 0, len(fields)))
		if conflict {
			return ri, nil
		}
		for i := range fields {
			for _, t := range fields[i].types {
				if types[i] == "" || t == policy.IPv4Net || t == policy.IPv6Net {
					types[i] = t
				}
			}
		}
		pos = append(pos, r.Pos...)
	}
	if keyBytes(types) > maxKeyBytes {
		return 0, nil
	}
	if mg.opt.Accept != nil && !mg.opt.Accept(keys, types, isMap) {
		return 0, nil
	}
	fam := Both
	for _, k := range keys {
		if k == policy.KeySaddr || k == policy.KeyDaddr {
			fam = first.Family
		}
	}
	ps := &policy.Set{Type: types, Family: policy.Family(fam), Elements: elems}
	cc := &policy.ConcatCond{Keys: keys, Set: ps}
	ms := make([]policy.Cond, 0, len(first.Matches)-len(idx)+1)
	at := slices.Min(idx)
	for j, m := range first.Matches {
		switch {
		case j == at && !isMap:
			ms = append(ms, cc)
		case slices.Contains(idx, j):
		default:
			ms = append(ms, m)
		}
	}
	nr := &Rule{Family: first.Family, Matches: ms, Pos: pos}
	if isMap {
		vm := &VerdictMap{Key: cc}
		for i, e := range elems {
			vm.Entries = append(vm.Entries, MapEntry{Match: &policy.ConcatCond{Keys: keys, Set: ps}, Verdict: verdicts[i], Tuple: e.Parts})
		}
		nr.Actions = []policy.Action{vm}
		return len(rules), nr
	}
	ps.Name = mg.name()
	s := &Set{Name: ps.Name, Type: types, Family: fam, Interval: ps.IsInterval(), Elements: elems}
	mg.sets = append(mg.sets, s)
	nr.Actions = first.Actions
	return len(rules), nr
}

// tupleBook collects a lookup's tuples: exact duplicates are dropped in a
// set (it holds an element once); tuples that overlap an earlier one
// without being equal are refused, and in a map any overlap is (the
// kernel's concatenated interval sets refuse overlapping elements, and in
// a map the verdict of the overlap would depend on rule order).
type tupleBook struct {
	all map[string]bool
	// Tuples by the text of their parts that are not addresses: only
	// tuples in one bucket can overlap. ivs holds those with an address
	// prefix or range, exact the others.
	ivs, exact map[string][][]policy.SetValue
	work       int
}

func newTupleBook() *tupleBook {
	return &tupleBook{all: map[string]bool{}, ivs: map[string][][]policy.SetValue{}, exact: map[string][][]policy.SetValue{}}
}

func tupleText(parts []policy.SetValue) string {
	var b strings.Builder
	for _, p := range parts {
		if isAddr(p) {
			b.WriteString(AddrString(p.Addr))
		}
		b.WriteByte('|')
		b.WriteString(strconv.Itoa(int(p.Port)))
		b.WriteByte('|')
		b.WriteString(p.Iface)
		b.WriteByte(';')
	}
	return b.String()
}

func isAddr(p policy.SetValue) bool { return p.Addr.Prefix.IsValid() || p.Addr.Lo.IsValid() }

func isInterval(p policy.SetValue) bool {
	return isAddr(p) && (p.Addr.IsRange() || !p.Addr.Prefix.IsSingleIP())
}

// add takes one tuple: (true, false) when it is new, (false, false) when a
// set already holds it, (_, true) when it conflicts.
func (tb *tupleBook) add(parts []policy.SetValue, isMap bool) (isNew, conflict bool) {
	t := tupleText(parts)
	if tb.all[t] {
		return false, isMap
	}
	iv := slices.ContainsFunc(parts, isInterval)
	key := exactKey(parts)
	against := tb.ivs[key]
	if iv {
		against = slices.Concat(against, tb.exact[key])
	}
	for _, o := range against {
		tb.work++
		if tb.work > lookupMaxOverlapWork || overlaps(o, parts) {
			return false, true
		}
	}
	tb.all[t] = true
	if iv {
		tb.ivs[key] = append(tb.ivs[key], parts)
	} else {
		tb.exact[key] = append(tb.exact[key], parts)
	}
	return true, false
}

// exactKey is the text of a tuple's parts that are not addresses: tuples
// that differ there cannot overlap.
func exactKey(parts []policy.SetValue) string {
	var b strings.Builder
	for _, p := range parts {
		if isAddr(p) {
			b.WriteString("a;")
			continue
		}
		b.WriteString(strconv.Itoa(int(p.Port)))
		b.WriteByte('|')
		b.WriteString(p.Iface)
		b.WriteByte(';')
	}
	return b.String()
}

// overlaps reports whether two tuples with equal non-address parts share a
// packet: every address part overlaps.
func overlaps(a, b []policy.SetValue) bool {
	for i := range a {
		if !isAddr(a[i]) {
			continue
		}
		alo, ahi := Bounds(a[i].Addr)
		blo, bhi := Bounds(b[i].Addr)
		if ahi.Less(blo) || bhi.Less(alo) {
			return false
		}
	}
	return true
}

// oneField merges a run that differs in one field only but passed over
// rules between its members (an adjacent one is mergeRun's): the field
// takes the union of the values, an anonymous set, when the backend has
// them (Anon) and the actions are one list. A map of one field with gaps
// is not made.
func (mg *merger) oneField(rules []*Rule, j int, isMap bool) (int, *Rule) {
	if !mg.opt.Anon || isMap {
		return 0, nil
	}
	first := rules[0]
	m := first.Matches[j]
	pos := slices.Clone(first.Pos)
	for _, r := range rules[1:] {
		u, ok := union(m, r.Matches[j])
		if !ok {
			return 0, nil
		}
		m = u
		pos = append(pos, r.Pos...)
	}
	nr := &Rule{Family: first.Family, Matches: slices.Clone(first.Matches), Actions: first.Actions, Pos: pos}
	nr.Matches[j] = m
	return len(rules), nr
}
