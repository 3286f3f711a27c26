package apply

import (
	"fmt"
	"io"
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

	steps []routingStep
}

// NewPlan compares have with want.
func NewPlan(have *State, want *Want) *Plan {
	p := &Plan{Have: have, Want: want}
	p.Table = diffTables(have.Table, want.Table)
	p.steps = routingSteps(have.Routing, want.Routing)
	for _, s := range p.steps {
		op := byte('-')
		if s.add {
			op = '+'
		}
		what := ""
		if s.rule != nil {
			what = s.rule.String()
		} else {
			what = s.route.String()
		}
		p.Routing = append(p.Routing, Change{Op: op, What: what})
	}
	return p
}

// Empty reports whether there is nothing to change.
func (p *Plan) Empty() bool { return len(p.Table) == 0 && len(p.Routing) == 0 }

// Write prints the plan for people: one change a line, then a summary.
func (p *Plan) Write(w io.Writer) error {
	if p.Empty() {
		_, err := fmt.Fprintln(w, "No changes: the kernel matches the policy.")
		return err
	}
	for _, c := range p.Table {
		if _, err := fmt.Fprintln(w, c); err != nil {
			return err
		}
	}
	for _, c := range p.Routing {
		if _, err := fmt.Fprintln(w, c); err != nil {
			return err
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
	_, err := fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to remove.\n", add, chg, del)
	return err
}
