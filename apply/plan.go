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
	// Kept lists the elements of dynamic sets that the kernel holds and
	// the policy does not declare: Apply keeps them ('=' lines). They are
	// not changes.
	Kept []Change

	steps []routingStep
	ipt   *iptPlan // the iptables backend's plan (NewIptablesPlan); nil for nft
}

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
	switch {
	case last != nil && last.Sum == want.Sum:
	case last != nil:
		ht, err := have.Listing()
		if err != nil {
			return nil, err
		}
		wt := parseTable(string(want.Script))
		p.Table, p.Kept = keepRuntime(diffTables(ht, wt), ht, wt, want.dynamicSets())
	default:
		exists, err := have.h.nft.TableExists(nft.Table)
		if err != nil {
			return nil, err
		}
		var ht, wt *Table
		if !exists {
			// No table yet: everything is added, and the script itself says
			// what, without loading it anywhere first.
			ht, wt = parseTable(""), parseTable(string(want.Script))
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
			have.h.recordApplied(want, have.Generation)
		}
	}
	p.steps = routingSteps(have.Routing, want.Routing)
	p.Routing = routingChanges(p.steps)
	return p, nil
}

// Empty reports whether there is nothing to change.
func (p *Plan) Empty() bool { return len(p.Table) == 0 && len(p.Routing) == 0 }

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
	for _, cs := range [][]Change{p.Kept, p.Routing} {
		for _, c := range cs {
			if _, err := fmt.Fprintln(w, c); err != nil {
				return err
			}
		}
	}
	var add, del, chg int
	for _, cs := range [][]Change{p.Table, p.Routing} {
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
	_, err := fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to remove.%s\n", add, chg, del, kept)
	return err
}
