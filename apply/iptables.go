package apply

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"sort"
	"strings"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/diag"
)

// The iptables backend of apply (`fwc apply --backend iptables`) installs
// a policy with iptables-restore, ip6tables-restore and ipset restore
// instead of fwc's nftables table, for hosts whose other programs (docker,
// kube-proxy, fail2ban) keep their rules in iptables.
//
// # What fwc owns
//
// In iptables, the chains whose names start with restore.ChainPrefix
// ("fwc-"), in every table, and one rule per built-in chain the policy
// hooks, "-m comment --comment fwc -j fwc-HOOK", inserted first in it
// when it is missing (and left where it is when something was inserted
// above it since). A built-in chain's policy and other rules are the
// host's: fwc's chain ends in "-j DROP" when the policy drops by default,
// and a packet it does not decide goes back to the built-in chain and on
// through the others' rules. iptables-restore runs with --noflush: a table
// is changed only when fwc's part of it changes, each table in one
// commit, and only fwc's chains and jumps are written to.
//
// In ipset, the sets the policy declares (under their own names, which
// fail2ban and the like add elements to) and the sets fwc's chains
// reference. A dynamic set (runtime.go) keeps the elements the kernel
// holds: it is not flushed, only its declared elements added.
//
// Both variants of iptables work: the system's iptables-restore
// (whichever its alternatives point at), iptables-legacy-restore or
// iptables-nft-restore. fwc never mixes them: what one variant writes, the
// other does not see.
//
// # Planning and applying
//
// The plan compares iptables-save's listing of fwc's chains and jumps, and
// ipset save's listing of its sets, with the same listings of the policy,
// loaded for that purpose into a scratch network namespace (both sides are
// then in the tools' canonical form). Apply then restores, per family, a
// script that makes fwc's part of each changed table what the policy
// says; the sets come first (the rules need them) and the sets no longer
// used are destroyed last. Before it, fwc's part of the tables is read
// again: if anyone changed it since the plan, nothing is applied. If a
// later step fails, the earlier ones are undone by restoring the state
// read for the plan, which is also what --confirm saves and a rollback
// restores.

// IptablesVariant chooses the iptables tools: "" for the system's
// (iptables-restore, ...), "legacy" or "nft" for iptables-legacy-restore
// or iptables-nft-restore and their siblings.
type IptablesVariant string

func (v IptablesVariant) tool(fam int, verb string) string {
	base := "iptables"
	if fam == 6 {
		base = "ip6tables"
	}
	if v != "" {
		base += "-" + string(v)
	}
	return base + "-" + verb
}

// IptablesState is fwc's part of iptables and ipset: per family and table
// its chains and jumps, and its sets. It is what --confirm saves and a
// rollback restores.
type IptablesState struct {
	Variant IptablesVariant `json:"variant"`
	// V4 and V6 map a table name to fwc's part of it.
	V4 map[string]*IptTable `json:"v4"`
	V6 map[string]*IptTable `json:"v6"`
	// Sets are fwc's sets as ipset save lists them, by name.
	Sets map[string]*IPSet `json:"sets"`

	// all are every set of the namespace, as read with the others.
	all map[string]*IPSet
}

// IptTable is fwc's part of one iptables table.
type IptTable struct {
	// Chains are fwc's chains in iptables-save order, Rules their rules
	// ("-A CHAIN ..." lines as iptables-save prints them).
	Chains []string `json:"chains"`
	Rules  []string `json:"rules"`
	// Jumps are the rules of built-in chains that go to one of fwc's
	// chains, as "CHAIN SPEC" (the line without its "-A ").
	Jumps []string `json:"jumps"`
}

// IPSet is one set as ipset save lists it.
type IPSet struct {
	// Create is the create line without the options that the kernel
	// picks or changes by itself (hashsize, initval, bucketsize).
	Create string `json:"create"`
	// Elements are the add lines' elements, with their options
	// (a remaining timeout) kept for a restore.
	Elements []string `json:"elements"`
}

// iptPlan is a plan's iptables half (Plan.ipt).
type iptPlan struct {
	want     *IptablesState
	setsText []byte          // the policy's ipset restore text, dynamic sets not flushed
	dynamic  map[string]bool // the policy's dynamic sets
}

// ReadIptables reads fwc's part of iptables and ipset in h's namespace,
// and its ip rules and routes. It changes nothing.
func ReadIptables(h *Host, v IptablesVariant) (*State, error) {
	st, err := h.readIpt(v, nil)
	if err != nil {
		return nil, err
	}
	rt, err := readRouting(h.route)
	if err != nil {
		return nil, err
	}
	return &State{Routing: rt, h: h, ipt: st}, nil
}

// readIpt reads fwc's part of iptables and ipset with the variant v's
// tools; extra names sets to read besides those fwc's chains reference.
func (h *Host) readIpt(v IptablesVariant, extra []string) (*IptablesState, error) {
	st := &IptablesState{Variant: v, Sets: map[string]*IPSet{}}
	for _, fam := range []int{4, 6} {
		out, err := h.tool(nil, v.tool(fam, "save"))
		if err != nil {
			return nil, err
		}
		ts, _ := parseSave(string(out))
		if fam == 4 {
			st.V4 = ts
		} else {
			st.V6 = ts
		}
	}
	names := slices.Clone(extra)
	names = append(names, st.setNames()...)
	out, err := h.tool(nil, "ipset", "save")
	if err != nil {
		return nil, err
	}
	all := parseIPSetSave(string(out))
	st.all = all
	for _, n := range names {
		if s, ok := all[n]; ok {
			st.Sets[n] = s
		}
	}
	return st, nil
}

// setNames are the sets fwc's rules reference.
func (st *IptablesState) setNames() []string {
	var out []string
	for _, fam := range []map[string]*IptTable{st.V4, st.V6} {
		for _, t := range fam {
			for _, r := range t.Rules {
				f := strings.Fields(r)
				for i := range f {
					if f[i] == "--match-set" && i+1 < len(f) && !slices.Contains(out, f[i+1]) {
						out = append(out, f[i+1])
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// parseSave reads iptables-save text: fwc's part of each table, and every
// chain that is not (for the coexistence check).
func parseSave(text string) (fwc map[string]*IptTable, others map[string][]string) {
	fwc, others = map[string]*IptTable{}, map[string][]string{}
	var table string
	builtin := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	get := func() *IptTable {
		t := fwc[table]
		if t == nil {
			t = &IptTable{}
			fwc[table] = t
		}
		return t
	}
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
			clear(builtin)
		case strings.HasPrefix(l, ":"):
			f := strings.Fields(l[1:])
			if len(f) < 2 {
				continue
			}
			switch {
			case f[1] != "-":
				builtin[f[0]] = true
			case strings.HasPrefix(f[0], restore.ChainPrefix):
				get().Chains = append(get().Chains, f[0])
			default:
				others[table] = append(others[table], f[0])
			}
		case strings.HasPrefix(l, "-A "):
			chain, spec, _ := strings.Cut(l[3:], " ")
			switch {
			case strings.HasPrefix(chain, restore.ChainPrefix):
				get().Rules = append(get().Rules, l)
			case builtin[chain] && strings.HasPrefix(target(spec), restore.ChainPrefix):
				get().Jumps = append(get().Jumps, l[3:])
			}
		}
	}
	for name, t := range fwc {
		if len(t.Chains) == 0 && len(t.Jumps) == 0 {
			delete(fwc, name)
		}
	}
	return fwc, others
}

// target is the chain a rule's -j or -g names, or its target ("" if none).
func target(spec string) string {
	f := strings.Fields(spec)
	for i := len(f) - 2; i >= 0; i-- {
		if f[i] == "-j" || f[i] == "-g" {
			return f[i+1]
		}
	}
	return ""
}

// parseIPSetSave reads ipset save text by set name.
func parseIPSetSave(text string) map[string]*IPSet {
	out := map[string]*IPSet{}
	for l := range strings.Lines(text) {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		switch f[0] {
		case "create":
			var keep []string
			for i := 1; i < len(f); i++ {
				switch f[i] {
				case "hashsize", "initval", "bucketsize":
					i++
					continue
				}
				keep = append(keep, f[i])
			}
			out[f[1]] = &IPSet{Create: "create " + strings.Join(keep, " ")}
		case "add":
			if s := out[f[1]]; s != nil {
				s.Elements = append(s.Elements, strings.Join(f[2:], " "))
			}
		}
	}
	return out
}

// elementKey is an element without its options (a remaining timeout
// differs from one listing to the next).
func elementKey(e string) string {
	k, _, _ := strings.Cut(e, " ")
	return k
}

// NewIptablesPlan compares have (read by ReadIptables) with what want's
// ruleset makes in iptables with have's variant of the tools. The policy
// is loaded into a scratch namespace to be listed.
func NewIptablesPlan(have *State, want *Want) (*Plan, diag.Diagnostics, error) {
	v4, ds := restore.SharedIPv4(want.Ruleset)
	v6, ds6 := restore.SharedIPv6(want.Ruleset)
	sets, dss := restore.IPSet(want.Ruleset)
	ds = append(append(ds, ds6...), dss...)
	if ds.HasErrors() {
		return nil, ds, nil
	}
	ip := &iptPlan{dynamic: map[string]bool{}}
	for name := range want.dynamicSets() {
		ip.dynamic[name] = true
	}
	ip.setsText = keepDynamic(sets, ip.dynamic)
	w, err := have.h.scratchIpt(have.ipt.Variant, sets, sharedScript(v4), sharedScript(v6))
	if err != nil {
		return nil, ds, fmt.Errorf("list the policy's iptables rules: %w", err)
	}
	ip.want = w
	// A set of the policy's that exists already (fail2ban made it, or
	// the last apply did and no rule uses it) is fwc's from now on.
	for n := range w.Sets {
		if s := have.ipt.all[n]; s != nil && have.ipt.Sets[n] == nil {
			have.ipt.Sets[n] = s
		}
	}
	p := &Plan{Have: have, Want: want, ipt: ip}
	p.Table, p.Kept = diffIpt(have.ipt, w, ip.dynamic)
	p.steps = routingSteps(have.Routing, want.Routing)
	p.Routing = routingChanges(p.steps)
	if err := p.planSysctls(have.h, want); err != nil {
		return nil, ds, err
	}
	return p, ds, nil
}

// keepDynamic drops the flush of each dynamic set from ipset restore
// text: its runtime elements stay, its declared ones are added.
func keepDynamic(text []byte, dynamic map[string]bool) []byte {
	var b strings.Builder
	for l := range strings.Lines(string(text)) {
		if name, ok := strings.CutPrefix(strings.TrimSpace(l), "flush "); ok && dynamic[name] {
			continue
		}
		b.WriteString(l)
	}
	return []byte(b.String())
}

// sharedScript is the restore text that makes tables ts in an empty
// namespace: fwc's chains, and the jumps to them.
func sharedScript(ts []restore.SharedTable) []byte {
	var b strings.Builder
	for _, t := range ts {
		if len(t.Chains) == 0 {
			continue
		}
		fmt.Fprintf(&b, "*%s\n", t.Name)
		for _, c := range t.Chains {
			fmt.Fprintf(&b, ":%s - [0:0]\n", c)
		}
		for _, h := range t.Hooks {
			fmt.Fprintf(&b, "-A %s %s\n", h, restore.Jump(h))
		}
		for _, r := range t.Rules {
			b.WriteString(r)
			b.WriteByte('\n')
		}
		b.WriteString("COMMIT\n")
	}
	return []byte(b.String())
}

// scratchIpt loads sets, v4 and v6 into a fresh network namespace with
// variant v's tools and reads them back.
func (h *Host) scratchIpt(v IptablesVariant, sets, v4, v6 []byte) (*IptablesState, error) {
	var st *IptablesState
	err := inNetNS(-1, true, func() error {
		s := &Host{ns: -1}
		if _, err := s.tool(sets, "ipset", "restore"); err != nil {
			return err
		}
		if _, err := s.tool(v4, v.tool(4, "restore"), "-w"); err != nil {
			return err
		}
		if _, err := s.tool(v6, v.tool(6, "restore"), "-w"); err != nil {
			return err
		}
		var err error
		st, err = s.readIpt(v, parseIPSetNames(sets))
		return err
	})
	return st, err
}

// parseIPSetNames are the sets ipset restore text creates.
func parseIPSetNames(text []byte) []string {
	var out []string
	for l := range strings.Lines(string(text)) {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "create" {
			out = append(out, f[1])
		}
	}
	return out
}

// diffIpt lists what turns have into want, and the elements of dynamic
// sets that are kept.
func diffIpt(have, want *IptablesState, dynamic map[string]bool) (changes, kept []Change) {
	for _, fam := range []struct {
		name       string
		have, want map[string]*IptTable
	}{{"ip", have.V4, want.V4}, {"ip6", have.V6, want.V6}} {
		for _, tn := range tableNames(fam.have, fam.want) {
			h, w := fam.have[tn], fam.want[tn]
			if h == nil {
				h = &IptTable{}
			}
			if w == nil {
				w = &IptTable{}
			}
			where := fam.name + " " + tn
			for _, c := range w.Chains {
				if !slices.Contains(h.Chains, c) {
					changes = append(changes, Change{'+', "chain " + where + " " + c, ""})
				}
			}
			for _, c := range h.Chains {
				if !slices.Contains(w.Chains, c) {
					changes = append(changes, Change{'-', "chain " + where + " " + c, ""})
				}
			}
			if !slices.Equal(h.Rules, w.Rules) {
				for _, r := range multisetMinus(h.Rules, w.Rules) {
					changes = append(changes, Change{'-', "rule " + where, r})
				}
				added := multisetMinus(w.Rules, h.Rules)
				for _, r := range added {
					changes = append(changes, Change{'+', "rule " + where, r})
				}
				if len(added) == 0 && len(h.Rules) == len(w.Rules) {
					changes = append(changes, Change{'~', "rules " + where, "same rules in another order"})
				}
			}
			for _, j := range jumpChanges(h, w) {
				changes = append(changes, Change{j.op, "jump " + where, j.spec})
			}
		}
	}
	names := map[string]bool{}
	for n := range have.Sets {
		names[n] = true
	}
	for n := range want.Sets {
		names[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		h, w := have.Sets[n], want.Sets[n]
		switch {
		case w == nil:
			changes = append(changes, Change{'-', "set " + n, ""})
			continue
		case h == nil:
			changes = append(changes, Change{'+', "set " + n, strings.TrimPrefix(w.Create, "create "+n+" ")})
			h = &IPSet{}
		case h.Create != w.Create:
			changes = append(changes, Change{'~', "set " + n, strings.TrimPrefix(w.Create, "create "+n+" ")})
		}
		hk, wk := keys(h.Elements), keys(w.Elements)
		for _, e := range wk {
			if !slices.Contains(hk, e) {
				changes = append(changes, Change{'+', "set " + n, "element " + e})
			}
		}
		for _, e := range hk {
			if slices.Contains(wk, e) {
				continue
			}
			if dynamic[n] && h.Create == w.Create {
				kept = append(kept, Change{'=', "set " + n, "element " + e})
			} else {
				changes = append(changes, Change{'-', "set " + n, "element " + e})
			}
		}
	}
	return changes, kept
}

func keys(elems []string) []string {
	out := make([]string, len(elems))
	for i, e := range elems {
		out[i] = elementKey(e)
	}
	return out
}

func tableNames(a, b map[string]*IptTable) []string {
	var out []string
	for _, m := range []map[string]*IptTable{a, b} {
		for n := range m {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// multisetMinus is a less b, counting repeats.
func multisetMinus(a, b []string) []string {
	n := map[string]int{}
	for _, s := range b {
		n[s]++
	}
	var out []string
	for _, s := range a {
		if n[s] > 0 {
			n[s]--
			continue
		}
		out = append(out, s)
	}
	return out
}

type jumpChange struct {
	op   byte
	spec string // "CHAIN SPEC"
}

// jumpChanges turns h's jumps into w's: a wanted jump that is there is
// kept wherever it is in its chain (something inserted above it since is
// the host's business); a missing one is inserted first; any other jump
// to fwc's chains, or a second copy, is removed.
func jumpChanges(h, w *IptTable) []jumpChange {
	var out []jumpChange
	seen := map[string]bool{}
	for _, j := range h.Jumps {
		if slices.Contains(w.Jumps, j) && !seen[j] {
			seen[j] = true
			continue
		}
		out = append(out, jumpChange{'-', j})
	}
	for _, j := range w.Jumps {
		if !seen[j] {
			out = append(out, jumpChange{'+', j})
		}
	}
	return out
}

// transition is the iptables-restore --noflush text that turns fwc's part
// of each table from have into want, leaving unchanged tables out.
func transition(have, want map[string]*IptTable) []byte {
	var b strings.Builder
	for _, tn := range tableNames(have, want) {
		h, w := have[tn], want[tn]
		if h == nil {
			h = &IptTable{}
		}
		if w == nil {
			w = &IptTable{}
		}
		jumps := jumpChanges(h, w)
		if slices.Equal(h.Chains, w.Chains) && slices.Equal(h.Rules, w.Rules) && len(jumps) == 0 {
			continue
		}
		fmt.Fprintf(&b, "*%s\n", tn)
		// Declaring a user chain with --noflush creates it, or empties it
		// when it exists: every chain of fwc's, old or new, starts empty,
		// so that an old one can go and none refers to another meanwhile.
		for _, c := range w.Chains {
			fmt.Fprintf(&b, ":%s - [0:0]\n", c)
		}
		for _, c := range h.Chains {
			if !slices.Contains(w.Chains, c) {
				fmt.Fprintf(&b, ":%s - [0:0]\n", c)
			}
		}
		for _, j := range jumps {
			if j.op == '-' {
				fmt.Fprintf(&b, "-D %s\n", j.spec)
			}
		}
		for _, j := range jumps {
			if j.op == '+' {
				chain, spec, _ := strings.Cut(j.spec, " ")
				fmt.Fprintf(&b, "-I %s 1 %s\n", chain, spec)
			}
		}
		for _, r := range w.Rules {
			b.WriteString(r)
			b.WriteByte('\n')
		}
		for _, c := range h.Chains {
			if !slices.Contains(w.Chains, c) {
				fmt.Fprintf(&b, "-X %s\n", c)
			}
		}
		b.WriteString("COMMIT\n")
	}
	return []byte(b.String())
}

// setsText is the ipset restore text that makes the sets of st, exactly
// (flushed and filled with st's elements, remaining timeouts included).
func setsText(st *IptablesState) []byte {
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(st.Sets)) {
		s := st.Sets[n]
		fmt.Fprintf(&b, "%s\nflush %s\n", s.Create, n)
		for _, e := range s.Elements {
			fmt.Fprintf(&b, "add %s %s\n", n, e)
		}
	}
	return []byte(b.String())
}

// ErrIptablesChanged is wrapped by the error of an iptables apply refused
// because fwc's chains, jumps or sets changed since the plan.
var ErrIptablesChanged = errors.New("fwc's iptables chains or sets changed since the plan was made")

// applyIptables makes fwc's part of iptables and ipset what p wants, then
// the routing; see the top of this file.
func applyIptables(h *Host, p *Plan, opts Options) (Outcome, error) {
	have := p.Have.ipt
	now, err := h.readIpt(have.Variant, slices.Collect(maps.Keys(p.ipt.want.Sets)))
	if err != nil {
		return batch.NotApplied, err
	}
	if !sameIpt(now, have) {
		return batch.NotApplied, fmt.Errorf("%w; plan again", ErrIptablesChanged)
	}
	if len(p.Table) > 0 {
		if err := h.installIpt(have, p.ipt.want, p.ipt.setsText); err != nil {
			// Whatever got through is undone: the state read for the plan
			// is restored.
			if rerr := h.restoreIpt(have); rerr != nil {
				return batch.Unknown, fmt.Errorf("%w; putting the previous rules back failed: %v", err, rerr)
			}
			return batch.NotApplied, fmt.Errorf("%w; the previous rules are back", err)
		}
	}
	return h.routeAfter(p, opts, "iptables rules", "are", func() error { return h.restoreIpt(have) })
}

// sameIpt reports whether a and b hold the same chains, rules, jumps and
// sets (elements compared without their options; runtime elements of a
// set may come and go).
func sameIpt(a, b *IptablesState) bool {
	eq := func(x, y map[string]*IptTable) bool {
		for _, tn := range tableNames(x, y) {
			p, q := x[tn], y[tn]
			if p == nil || q == nil || !slices.Equal(p.Chains, q.Chains) || !slices.Equal(p.Rules, q.Rules) || !slices.Equal(p.Jumps, q.Jumps) {
				return false
			}
		}
		return true
	}
	if !eq(a.V4, b.V4) || !eq(a.V6, b.V6) {
		return false
	}
	for n, s := range b.Sets {
		if t := a.Sets[n]; t == nil || t.Create != s.Create {
			return false
		}
	}
	return true
}

// installIpt goes from fwc's part have to want: the sets first (the
// rules need them), each family's tables, then the sets no longer used
// are destroyed.
func (h *Host) installIpt(have, want *IptablesState, sets []byte) error {
	v := have.Variant
	for n, s := range want.Sets {
		if o := have.Sets[n]; o != nil && o.Create != s.Create {
			return fmt.Errorf("set %s is to change its type or options (%s, was %s): ipset cannot change a set in use; remove fwc's rules that use it, or destroy it, first", n, s.Create, o.Create)
		}
	}
	if _, err := h.tool(sets, "ipset", "restore", "-exist"); err != nil {
		return err
	}
	if _, err := h.tool(transition(have.V4, want.V4), v.tool(4, "restore"), "-w", "--noflush"); err != nil {
		return err
	}
	if _, err := h.tool(transition(have.V6, want.V6), v.tool(6, "restore"), "-w", "--noflush"); err != nil {
		return err
	}
	for n := range have.Sets {
		if want.Sets[n] == nil {
			// A set another program's rule still uses stays: that is not
			// a failure of the apply.
			_, _ = h.tool(nil, "ipset", "destroy", n)
		}
	}
	return nil
}

// restoreIpt makes fwc's part of iptables and ipset what st says, from
// whatever it is now.
func (h *Host) restoreIpt(st *IptablesState) error {
	if Hooks.RestoreTable != nil {
		return Hooks.RestoreTable
	}
	now, err := h.readIpt(st.Variant, slices.Collect(maps.Keys(st.Sets)))
	if err != nil {
		return err
	}
	// Sets of now that st has not are destroyed once no rule of fwc's uses
	// them; st's sets are put back exactly.
	if err := h.installIpt(&IptablesState{Variant: st.Variant, V4: now.V4, V6: now.V6, Sets: now.Sets}, st, setsText(st)); err != nil {
		return err
	}
	return nil
}

// tool runs one of the system's tools (found as nft is: in the system's
// directories, never in $PATH) in the host's namespace.
func (h *Host) tool(stdin []byte, name string, args ...string) ([]byte, error) {
	path, err := systemTool(name)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = inNetNS(h.ns, false, func() error {
		var err error
		out, err = runCmd(exec.Command(path, args...), stdin)
		return err
	})
	return out, err
}
