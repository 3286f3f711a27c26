package apply

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/nft/batch"
)

// Incremental apply. A rule's identity is its chain, its text in fwc's nft
// script without the "file:line" comment (the lowered rule, anonymous
// sets written out: content, not place) and its occurrence among equal
// rules of the chain. A comment, a blank line or a moved file changes no
// identity. The comment stays in the kernel (nft list shows where a rule
// came from), as written when the rule was added: a rule that only moved
// in its file keeps its old comment, and the state directory keeps the
// script of the last apply, which holds every rule's current position.
//
// After an apply, the state directory records the kernel's handle of
// every rule of fwc's table (handlesRecord), in chain order. A full
// replace learns them without reading the table: the kernel numbers the
// objects of a new table from 1, in the order the batch creates them
// (chains, sets, anonymous sets, rules), so the batch says what they are,
// and the last rule of each chain is read back (one rule, not a dump) to
// make sure. An incremental batch asks the kernel to echo the rules it
// adds.
//
// When the record is believed because the generation has not moved since
// (see Host.lastApplied), a changed policy is applied as the difference:
// rules deleted by handle, rules added at their place (NFTA_RULE_POSITION,
// after or before a rule kept), set elements added and deleted by key (an
// interval set, whose start and end elements neighbours share, is flushed
// and filled again; a dynamic set only gains elements), in
// one batch guarded by that generation, so atomic and refused if anyone
// changed the ruleset. Untouched rules keep their counters; untouched
// sets their elements, those added at run time included. A change of the
// table, of a chain (added, removed, another hook or policy) or of a set's
// declaration is a full replace, and so is an incremental batch the
// kernel refuses.

// handlesRecord is the record of the handles of the rules of the table
// the apply of the script with sum Sum committed as Generation: per chain,
// in the order of the script's rules.
type handlesRecord struct {
	Sum        string
	Generation uint32
	Chains     map[string][]uint64
}

func (h *Host) handlesPath() string {
	return filepath.Join(h.Cache, "applied-"+nsKey(h.NetNS)+".handles.json")
}

// readHandles returns the rule handles recorded for the script with sum
// committed as gen, nil when there is no such record.
func (h *Host) readHandles(sum string, gen uint32) map[string][]uint64 {
	if h.Cache == "" {
		return nil
	}
	data, err := os.ReadFile(h.handlesPath())
	if err != nil {
		return nil
	}
	r, ok := decodeHandles(data)
	if !ok || r.Sum != sum || r.Generation != gen {
		return nil
	}
	return r.Chains
}

// encode writes the record as text: "fwc handles 1 SUM GENERATION", then a
// line per chain, its name and its rules' handles (JSON would take the
// decoding of 50,000 numbers a dozen milliseconds).
func (r *handlesRecord) encode() []byte {
	b := fmt.Appendf(nil, "fwc handles 1 %s %d\n", r.Sum, r.Generation)
	names := make([]string, 0, len(r.Chains))
	for n := range r.Chains {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b = append(b, n...)
		for _, h := range r.Chains[n] {
			b = append(b, ' ')
			b = strconv.AppendUint(b, h, 10)
		}
		b = append(b, '\n')
	}
	return b
}

func decodeHandles(data []byte) (*handlesRecord, bool) {
	text := bytesString(data)
	head, rest, _ := strings.Cut(text, "\n")
	r := &handlesRecord{Chains: map[string][]uint64{}}
	if _, err := fmt.Sscanf(head, "fwc handles 1 %s %d", &r.Sum, &r.Generation); err != nil {
		return nil, false
	}
	for l := range strings.SplitSeq(rest, "\n") {
		if l == "" {
			continue
		}
		name, nums, _ := strings.Cut(l, " ")
		hs := make([]uint64, 0, strings.Count(nums, " ")+1)
		var v uint64
		digits := 0
		for i := 0; i <= len(nums); i++ {
			if i == len(nums) || nums[i] == ' ' {
				if digits == 0 || v == 0 {
					if i == len(nums) && len(nums) == 0 {
						break // a chain without rules
					}
					return nil, false
				}
				hs = append(hs, v)
				v, digits = 0, 0
				continue
			}
			c := nums[i]
			if c < '0' || c > '9' || digits == 19 {
				return nil, false
			}
			v = v*10 + uint64(c-'0')
			digits++
		}
		r.Chains[name] = hs
	}
	return r, true
}

// bytesString returns b as a string without copying it: b must not
// change afterwards (scripts and files read whole, parsed as text).
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// predictHandles returns the handles the kernel gives the rules of a batch
// that makes fwc's table anew (batch.ResetTable, then its content), per
// chain in batch order. The table's handle counter starts at 0 and every
// chain, set (anonymous ones included), rule, object and flowtable takes
// the next number.
func predictHandles(msgs []netlink.Message) (map[string][]uint64, bool) {
	var n uint64
	fresh := false
	out := map[string][]uint64{}
	for _, m := range msgs {
		if uint16(m.Header.Type)>>8 != unix.NFNL_SUBSYS_NFTABLES {
			continue
		}
		switch uint16(m.Header.Type) & 0xff {
		case unix.NFT_MSG_DELTABLE:
			n, fresh = 0, true
		case unix.NFT_MSG_NEWCHAIN, unix.NFT_MSG_NEWSET, unix.NFT_MSG_NEWOBJ, unix.NFT_MSG_NEWFLOWTABLE:
			n++
		case unix.NFT_MSG_NEWRULE:
			n++
			if len(m.Data) < 4 {
				return nil, false
			}
			ch := batch.AttrString(m.Data[4:], unix.NFTA_RULE_CHAIN)
			out[ch] = append(out[ch], n)
		}
	}
	return out, fresh
}

// verifyHandles reads back the last rule of each chain (one rule each, by
// handle) and reports whether it is the rule the batch added last to that
// chain: the same comment and as many expressions.
func verifyHandles(c *batch.Conn, msgs []netlink.Message, hs map[string][]uint64) bool {
	last := map[string][]byte{}
	for _, m := range msgs {
		if m.Header.Type == netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_NEWRULE) && len(m.Data) >= 4 {
			last[batch.AttrString(m.Data[4:], unix.NFTA_RULE_CHAIN)] = m.Data[4:]
		}
	}
	for ch, h := range hs {
		if len(h) == 0 {
			continue
		}
		got, err := c.Rule(nft.Table, ch, h[len(h)-1])
		if err != nil || !sameRule(got, last[ch]) {
			return false
		}
	}
	return true
}

// sameRule compares a rule as dumped with a rule as sent: comment and
// number of expressions.
func sameRule(got, sent []byte) bool {
	ud := func(b []byte) (string, int) {
		u, n := "", 0
		for _, a := range attrs(b) {
			switch a.Type &^ unix.NLA_F_NESTED {
			case unix.NFTA_RULE_USERDATA:
				u = string(a.Data)
			case unix.NFTA_RULE_EXPRESSIONS:
				n = len(attrs(a.Data))
			}
		}
		return u, n
	}
	gu, gn := ud(got)
	su, sn := ud(sent)
	return gu == su && gn == sn && sn > 0
}

// incremental is the batch that turns the table the last apply made into
// the one a plan wants, and how to know the rules' handles after it.
type incremental struct {
	msgs []netlink.Message
	echo []int // indexes in msgs of the added rules
	// slots is, per chain, its rules in the wanted order: the handle of a
	// rule kept, or the index in msgs of the message adding it.
	slots map[string][]slot
}

type slot struct {
	handle uint64
	msg    int
}

// ruleKey is a rule's text without its "file:line" comment: what its
// identity is made of.
func ruleKey(s string) string {
	if i := strings.LastIndex(s, ` comment "`); i >= 0 && strings.HasSuffix(s, `"`) {
		return s[:i]
	}
	return s
}

// planIncremental works out the incremental batch from have (the last
// apply's script, parsed), want's script parsed (wt) and the handles of
// have's rules. It returns nil and why when the change needs a full
// replace.
func planIncremental(have, wt *Table, want *Want, handles map[string][]uint64) (*incremental, string, error) {
	if handles == nil {
		return nil, "no record of the rules' handles", nil
	}
	if !slices.Equal(have.Props, wt.Props) {
		return nil, "the table's properties change", nil
	}
	if len(have.Chains) != len(wt.Chains) {
		return nil, "chains are added or removed", nil
	}
	hc := map[string]*ChainListing{}
	for _, c := range have.Chains {
		hc[c.Name] = c
	}
	for _, w := range wt.Chains {
		h := hc[w.Name]
		if h == nil || h.Header != w.Header {
			return nil, "a chain is added, removed or changed", nil
		}
		if len(handles[w.Name]) != len(h.Rules) {
			return nil, "the record of handles does not match the last script", nil
		}
	}
	if len(have.Sets) != len(wt.Sets) {
		return nil, "sets are added or removed", nil
	}
	hs := map[string]*SetListing{}
	for _, s := range have.Sets {
		hs[s.Kind+" "+s.Name] = s
	}
	if want.nft == nil {
		want.nft = nft.Prepare(want.Ruleset)
	}
	// Partial indexes the ruleset's rules as the script lists them: a
	// script that does not list each rule once is not planned on.
	counts := want.nft.ChainRules()
	for _, w := range wt.Chains {
		if counts[w.Name] != len(w.Rules) {
			return nil, "the script does not list the ruleset's rules one by one", nil
		}
	}
	irSets := map[string]int{}
	for i, s := range want.nft.Sets() {
		irSets[s.Name] = i
	}
	dyn := want.dynamicSets()
	inc := &incremental{slots: map[string][]slot{}}
	sel := nft.Selection{Rules: map[string][]int{}, Elements: map[string][]int{}}
	var refill []string // sets flushed and filled again
	for _, w := range wt.Sets {
		h := hs[w.Kind+" "+w.Name]
		if h == nil || !slices.Equal(h.Props, w.Props) {
			return nil, "a set is added, removed or declared otherwise", nil
		}
		add, del := setDiff(h.Elements, w.Elements)
		if len(add) == 0 && len(del) == 0 {
			continue
		}
		i, ok := irSets[w.Name]
		if !ok || (w.Kind != "set") {
			return nil, "the elements of " + w.Kind + " " + w.Name + " change", nil
		}
		s := want.nft.Sets()[i]
		d := dyn[w.Name] != nil
		var gone [][]byte // the keys of the elements that go
		if !d && !s.Interval {
			for _, e := range del {
				k, ok := nft.ElementKey(s, e)
				if !ok {
					gone = nil
					break
				}
				gone = append(gone, nft.EncodeElement(nftables.SetElement{Key: k}))
			}
		}
		switch {
		case s.Interval && d && len(s.Elements) == 0:
			// Nothing declared: nothing to change.
		case s.Interval || (!d && len(del) > 0 && len(gone) != len(del)):
			// Interval elements come in start and end pairs shared
			// between neighbours: the set is filled again. So is a set
			// losing an element whose key cannot be read back from the
			// text the record keeps.
			refill = append(refill, w.Name)
		default:
			// Elements that go are deleted by key (a dynamic set keeps
			// them: its declared elements are a floor).
			inc.msgs = append(inc.msgs, batch.DeleteElementMessages(nft.Table, w.Name, gone)...)
			in := map[string]bool{}
			for _, e := range add {
				in[e] = true
			}
			for k := range s.Elements {
				if in[nft.ElementText(s, k)] {
					sel.Elements[w.Name] = append(sel.Elements[w.Name], k)
				}
			}
		}
	}

	type chainPlan struct {
		name  string
		keep  []int // per wanted rule: the index of the kept rule, or -1
		kept  []bool
		added []int
	}
	var plans []*chainPlan
	for _, w := range wt.Chains {
		h := hc[w.Name]
		cp := &chainPlan{name: w.Name, keep: matchRules(h.Rules, w.Rules), kept: make([]bool, len(h.Rules))}
		for j, i := range cp.keep {
			if i >= 0 {
				cp.kept[i] = true
			} else {
				cp.added = append(cp.added, j)
			}
		}
		if len(cp.added) > 0 {
			sel.Rules[w.Name] = cp.added
		}
		plans = append(plans, cp)
	}
	part, err := want.nft.Partial(sel)
	if err != nil {
		return nil, "", err
	}
	names := make([]string, 0, len(sel.Elements))
	for n := range sel.Elements {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range refill {
		elems, _, err := want.nft.SetElements(n)
		if err != nil {
			return nil, "", err
		}
		inc.msgs = append(inc.msgs, batch.FlushSetMessage(nft.Table, n))
		inc.msgs = append(inc.msgs, batch.ElementMessages(nft.Table, n, elems)...)
	}
	for _, n := range names {
		inc.msgs = append(inc.msgs, part.Elements[n]...)
	}
	for _, cp := range plans {
		hh := handles[cp.name]
		for i, k := range cp.kept {
			if !k {
				inc.msgs = append(inc.msgs, batch.DeleteRuleMessage(nft.Table, cp.name, hh[i]))
			}
		}
	}
	for _, cp := range plans {
		hh := handles[cp.name]
		groups := part.Rules[cp.name]
		group := map[int][]netlink.Message{}
		for k, j := range cp.added {
			group[j] = groups[k]
		}
		slots := make([]slot, len(cp.keep))
		emit := func(j int, handle uint64, after bool) {
			g := group[j]
			inc.msgs = append(inc.msgs, g[:len(g)-1]...)
			inc.msgs = append(inc.msgs, batch.PlaceRule(g[len(g)-1], handle, after))
			slots[j] = slot{msg: len(inc.msgs) - 1}
			inc.echo = append(inc.echo, len(inc.msgs)-1)
		}
		for j := 0; j < len(cp.keep); {
			if i := cp.keep[j]; i >= 0 {
				slots[j] = slot{handle: hh[i]}
				j++
				continue
			}
			end := j
			for end < len(cp.keep) && cp.keep[end] < 0 {
				end++
			}
			switch {
			case j > 0:
				// After the kept rule before the run: each is put right
				// after it, so the run goes in backwards.
				after := hh[cp.keep[j-1]]
				for k := end - 1; k >= j; k-- {
					emit(k, after, true)
				}
			case end < len(cp.keep):
				// Before the first kept rule, in order.
				before := hh[cp.keep[end]]
				for k := j; k < end; k++ {
					emit(k, before, false)
				}
			default:
				// No rule kept: appended in order (the old ones go).
				for k := j; k < end; k++ {
					emit(k, 0, true)
				}
			}
			j = end
		}
		inc.slots[cp.name] = slots
	}
	if len(inc.msgs) == 0 {
		// Nothing the kernel would see changes, yet the scripts differ:
		// the replace makes the record true again.
		return nil, "no difference the kernel can be sent", nil
	}
	return inc, "", nil
}

// matchRules matches the wanted rules of a chain with the rules it has, by
// identity (ruleKey and occurrence), keeping the longest run of matches in
// the same order: per wanted rule, the index of the rule kept for it, or
// -1 for a rule to add. Rules of have matched by none are deleted.
func matchRules(have, want []string) []int {
	m := make([]int, len(want))
	// The common prefix and suffix are kept as they are: most changes
	// touch a few rules, and comparing in place costs no map.
	p := 0
	for p < len(have) && p < len(want) && ruleKey(have[p]) == ruleKey(want[p]) {
		m[p] = p
		p++
	}
	s := 0
	for s < len(have)-p && s < len(want)-p && ruleKey(have[len(have)-1-s]) == ruleKey(want[len(want)-1-s]) {
		m[len(want)-1-s] = len(have) - 1 - s
		s++
	}
	mid := m[p : len(want)-s]
	type occ struct {
		key string
		n   int
	}
	// Occurrences count from the start of the chain, so that the same
	// rule twice is told apart the same way on both sides; the prefix,
	// the same on both, is counted only for the keys of the middle.
	seen := map[string]int{}
	for _, r := range have[p : len(have)-s] {
		seen[ruleKey(r)] = 0
	}
	for _, r := range want[p : len(want)-s] {
		seen[ruleKey(r)] = 0
	}
	for _, r := range have[:p] {
		if n, ok := seen[ruleKey(r)]; ok {
			seen[ruleKey(r)] = n + 1
		}
	}
	fromPrefix := maps.Clone(seen)
	at := make(map[occ]int, len(have)-p-s)
	for i, r := range have[p : len(have)-s] {
		k := ruleKey(r)
		at[occ{k, seen[k]}] = p + i
		seen[k]++
	}
	seen = fromPrefix
	for j, r := range want[p : len(want)-s] {
		k := ruleKey(r)
		i, ok := at[occ{k, seen[k]}]
		seen[k]++
		if !ok {
			i = -1
		}
		mid[j] = i
	}
	// Longest increasing subsequence of the matched indexes (patience
	// sorting), so that kept rules stay in their order; the prefix and
	// suffix are in order already and bound the middle.
	var tails []int // tails[l]: index j ending the best run of length l+1
	prev := make([]int, len(mid))
	for j, i := range mid {
		prev[j] = -1
		if i < 0 {
			continue
		}
		l := sort.Search(len(tails), func(x int) bool { return mid[tails[x]] >= i })
		if l > 0 {
			prev[j] = tails[l-1]
		}
		if l == len(tails) {
			tails = append(tails, j)
		} else {
			tails[l] = j
		}
	}
	keep := make([]bool, len(mid))
	if len(tails) > 0 {
		for j := tails[len(tails)-1]; j >= 0; j = prev[j] {
			keep[j] = true
		}
	}
	for j := range mid {
		if !keep[j] {
			mid[j] = -1
		}
	}
	return m
}

// commitIncremental commits the plan's incremental batch and returns the
// rules' handles after it.
func (h *Host) commitIncremental(gen uint32, inc *incremental) (Outcome, map[string][]uint64, error) {
	out, echoed, err := h.nft.CommitEcho(gen, inc.msgs, inc.echo)
	if out != batch.Applied {
		return out, nil, err
	}
	if err != nil {
		// Applied, but the handles are not all known: no record of
		// them, and the next change is a full replace.
		return out, nil, nil
	}
	hs := map[string][]uint64{}
	for ch, slots := range inc.slots {
		l := make([]uint64, len(slots))
		for j, s := range slots {
			if s.handle != 0 {
				l[j] = s.handle
				continue
			}
			l[j] = batch.AttrU64(echoed[s.msg], unix.NFTA_RULE_HANDLE)
			if l[j] == 0 {
				return out, nil, nil // as above
			}
		}
		hs[ch] = l
	}
	return out, hs, nil
}
