package apply

import (
	"fmt"
	"io"

	"github.com/fwcproject/fwc/backend/nft"
)

// Plan is the difference between the live state and a policy: what Apply
// would change.
type Plan struct {
	Have *State
	Want *Want
	// Table lists the changes to fwc's nftables table; Routing those to
	// its ip rules and routes, in the order Apply makes them.
	Table   []Change
	Routing []Change
	// Sysctls are the kernel settings the policy declares that differ in
	// the target namespace ('~' lines: have -> want); Apply writes them
	// after the routing.
	Sysctls []Change
	// Kept lists the elements of dynamic sets that the kernel holds and
	// the policy does not declare: Apply keeps them ('=' lines). They are
	// not changes.
	Kept []Change

	steps   []routingStep
	sysctls []sysctlStep
	// incr is the batch that makes the table change as the difference
	// (see incremental.go); nil for a full replace, whose reason is full.
	incr *incremental
	full string
	// carry lets a full replace carry the counters of unchanged rules
	// over (see counters.go); nil when the live table's handles are not
	// known.
	carry *carry
	ipt   *iptPlan // the iptables backend's plan (NewIptablesPlan); nil for nft
}

// Incremental reports whether Apply changes fwc's table by the
// difference (rules, elements) rather than replacing it, and if not, why.
func (p *Plan) Incremental() (bool, string) { return p.incr != nil, p.full }

// NewPlan compares have with want. When the live table is the one fwc's
// last apply here made (see Host.Cache), the comparison is between that
// apply's script and want's, and costs no read of the table; when that was
// want's script, there is nothing to change. When there is no table, the
// plan adds what the script says. Otherwise nft's listings of both are
// compared; when they are equal, that is recorded as if want's script had
// just been applied.
func NewPlan(have *State, want *Want) (*Plan, error) {
	p := &Plan{Have: have, Want: want}
	last, err := have.h.lastApplied(have, want)
	if err != nil {
		return nil, err
	}
	have.last = last
	if last == nil {
		// The table is compared on listings: a changed policy replaces
		// it whole.
		want.startEncoding()
	}
	switch {
	case last != nil && last.Sum == want.Sum:
	case last != nil:
		ht, err := have.Listing()
		if err != nil {
			return nil, err
		}
		wt := parseTable(bytesString(want.Script))
		p.Table, p.Kept = keepRuntime(diffTables(ht, wt), ht, wt, want.dynamicSets())
		var handles map[string][]uint64
		if last.current {
			handles = have.h.readHandles(last.Sum, last.Generation)
		}
		switch {
		case len(p.Table) == 0 && last.current:
			// Only comments differ (rules moved in their files, lines
			// added or removed): nothing changes in the kernel, and the
			// record takes want's script, for its positions.
			have.h.recordApplied(want, have.Generation, handles)
		case len(p.Table) == 0:
		case !last.current:
			p.full = "the ruleset changed since the last apply"
		default:
			if p.incr, p.full, err = planIncremental(ht, wt, want, handles); err != nil {
				return nil, err
			}
		}
		if p.incr == nil && len(p.Table) > 0 {
			want.startEncoding()
			if handles != nil {
				p.carry = &carry{have: ht, want: wt, handles: handles}
			}
		}
	default:
		exists, err := have.h.nft.TableExists(nft.Table)
		if err != nil {
			return nil, err
		}
		var ht, wt *Table
		if !exists {
			// No table yet: everything is added, and the script itself says
			// what, without loading it anywhere first.
			ht, wt = parseTable(""), parseTable(bytesString(want.Script))
			have.table = ht
		} else {
			if ht, err = have.Listing(); err != nil {
				return nil, err
			}
			if wt, err = want.Listing(have.h.Cache); err != nil {
				return nil, err
			}
		}
		p.Table, p.Kept = keepRuntime(diffTables(ht, wt), ht, wt, want.dynamicSets())
		if len(p.Table) > 0 && exists {
			p.full = "no record of the last apply vouches for the live table"
		}
		if exists && len(p.Table) == 0 && want.cached {
			// "Nothing to do" must not rest on a file of the cache
			// directory alone: a damaged or forged listing of want's
			// script would hide any difference. The script is loaded
			// again and its listing compared (and cached afresh).
			want.table, want.cached = nil, false
			if wt, err = want.Listing(""); err != nil {
				return nil, err
			}
			if path := want.listingPath(have.h.Cache); path != "" {
				writeCache(path, listingEntry{want.Sum, wt.Text})
			}
			p.Table, p.Kept = keepRuntime(diffTables(ht, wt), ht, wt, want.dynamicSets())
		}
		if exists && len(p.Table) == 0 {
			// The table is what want's script makes, shown the slow way:
			// record it, so that the next plan of this policy need not
			// list the table again (no record is written if the ruleset
			// moved since the generation was read).
			have.h.recordApplied(want, have.Generation, nil)
		}
	}
	p.steps = routingSteps(have.Routing, want.Routing)
	p.Routing = routingChanges(p.steps)
	if err := p.planSysctls(have.h, want); err != nil {
		return nil, err
	}
	return p, nil
}

// Empty reports whether there is nothing to change.
func (p *Plan) Empty() bool { return len(p.Table) == 0 && len(p.Routing) == 0 && len(p.Sysctls) == 0 }

// Write prints the plan for people: one change a line, then a summary.
func (p *Plan) Write(w io.Writer) error {
	kept := ""
	if n := keptCount(p.Kept); n > 0 {
		kept = fmt.Sprintf(" %d elements added at run time to dynamic sets are kept.", n)
	}
	if p.Empty() {
		_, err := fmt.Fprintln(w, "No changes: the kernel matches the policy."+kept)
		return err
	}
	for _, c := range p.Table {
		if _, err := fmt.Fprintln(w, c); err != nil {
			return err
		}
	}
	for _, cs := range [][]Change{p.Kept, p.Routing, p.Sysctls} {
		for _, c := range cs {
			if _, err := fmt.Fprintln(w, c); err != nil {
				return err
			}
		}
	}
	var add, del, chg int
	for _, cs := range [][]Change{p.Table, p.Routing, p.Sysctls} {
		for _, c := range cs {
			switch c.Op {
			case '+':
				add++
			case '-':
				del++
			default:
				chg++
			}
		}
	}
	if _, err := fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to remove.%s\n", add, chg, del, kept); err != nil {
		return err
	}
	var err error
	switch {
	case len(p.Table) == 0:
	case p.incr != nil:
		_, err = fmt.Fprintln(w, "fwc's table changes in place: the rules and elements not listed stay as they are (handles, counters, elements added at run time).")
	case p.full != "":
		_, err = fmt.Fprintf(w, "fwc's table is replaced whole (%s).\n", p.full)
	}
	return err
}
