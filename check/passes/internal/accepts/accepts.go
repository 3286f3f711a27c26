// Package accepts finds the ways a chain accepts packets, for the passes
// that ask whether some kind of packet can be accepted at all (hygiene's
// lock-out and loopback checks, portfwd's dnat-then-dropped check). It
// follows jumps; it does not compare packet sets, which is the packet-space
// engine's business.
package accepts

import (
	"slices"

	"github.com/fwcproject/fwc/policy"
)

// Path is one way a packet can be accepted: the conditions of the accepting
// rule and of the jumps that led to it, and the families it holds for.
type Path struct {
	Conds []policy.Cond
	Fam   policy.Family
}

// Result is what Walk found in a chain.
type Result struct {
	// Paths are the accepting rules reached from the chain, in order.
	Paths []Path
	// All is set when a rule without conditions, for both families,
	// accepts every packet that reaches it.
	All bool
	// End is the rule without conditions that ends the chain for every
	// packet of the walked families, or nil.
	End *policy.Rule
}

// Walk records the accepting paths through c and the rule that ends it.
func Walk(c *policy.Chain) Result {
	w := &walker{seen: map[*policy.Chain]bool{}}
	end := w.walk(c, nil, policy.Both)
	return Result{Paths: w.paths, All: w.all, End: end}
}

type walker struct {
	seen  map[*policy.Chain]bool
	paths []Path
	all   bool
}

func (w *walker) walk(c *policy.Chain, ctx []policy.Cond, fam policy.Family) *policy.Rule {
	if w.seen[c] {
		return nil
	}
	w.seen[c] = true
	defer delete(w.seen, c)
	for _, r := range c.Rules {
		f := fam & r.Family
		if f == 0 {
			continue
		}
		var conds []policy.Cond // ctx and r's conditions, built when needed
		get := func() []policy.Cond {
			if conds == nil {
				conds = append(slices.Clip(ctx), r.Conds...)
			}
			return conds
		}
		for _, a := range r.Actions {
			if j, ok := a.(*policy.Jump); ok && j.Target != nil {
				w.walk(j.Target, get(), f)
			}
			if v, ok := a.(*policy.Verdict); ok && v.Kind == policy.Accept {
				w.paths = append(w.paths, Path{get(), f})
				if len(ctx)+len(r.Conds) == 0 && f == policy.Both {
					w.all = true
				}
			}
			if policy.IsTerminal(a) {
				break
			}
		}
		if len(r.Conds) == 0 && r.Family&fam == fam && slices.ContainsFunc(r.Actions, policy.IsTerminal) {
			return r
		}
	}
	return nil
}
