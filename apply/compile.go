package apply

import (
	"fmt"
	"runtime"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/policy"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
)

// Compiled is a policy taken through the front end and the nft backend.
type Compiled struct {
	// Loaded holds the sources, for rendering diagnostics; its syntax trees
	// are dropped once lowered.
	Loaded  *lang.Loaded
	Routes  []*policy.Route
	Ruleset *ir.Ruleset
	Script  []byte // backend/nft.Text of Ruleset
}

// Compile loads, checks (for the nft backend, with the lint passes that
// can report errors; the warning-only ones are fwc check's) and
// lowers the one policy at paths: a root file and what it includes. It
// returns nil with the diagnostics when they hold an error, and an error
// when paths hold no policy or more than one.
func Compile(paths []string) (*Compiled, diag.Diagnostics, error) {
	return CompileWith(paths, lang.LoadOptions{})
}

// CompileWith is Compile with the loader's options (--include-root).
func CompileWith(paths []string, opts lang.LoadOptions) (*Compiled, diag.Diagnostics, error) {
	l, ds := lang.LoadWith(paths, opts)
	if ds.HasErrors() {
		return &Compiled{Loaded: l}, ds, nil
	}
	switch len(l.Units) {
	case 0:
		return &Compiled{Loaded: l}, ds, fmt.Errorf("no policy in %v", paths)
	case 1:
	default:
		roots := make([]string, len(l.Units))
		for i, u := range l.Units {
			roots[i] = u.Root
		}
		return &Compiled{Loaded: l}, ds, fmt.Errorf("one policy at a time: %v are %d separate policies (include the others from one root file)", roots, len(roots))
	}
	c := &Compiled{Loaded: l}
	// The syntax tree, the biggest thing a large policy makes, is needed
	// only until the policy is lowered: let it go then, as translate does.
	files := l.Units[0].Files
	l.Units = nil
	prog, cds := check.Check(files, check.Options{Backends: []string{"nft"}, ErrorsOnly: true})
	ds = append(ds, cds...)
	if ds.HasErrors() {
		return c, ds, nil
	}
	var lds diag.Diagnostics
	c.Ruleset, lds = ir.Lower(prog)
	c.Routes = prog.Routes
	ds = append(ds, lds...)
	// Nothing refers to the tree and the checked program any more: collect
	// them before the script and the batch are made, so that those reuse
	// their memory instead of growing the heap (50,000 rules: 250 MiB
	// peak before, about the same as nft -f's; 180 MiB after).
	runtime.GC()
	c.Script, lds = nft.Text(c.Ruleset)
	ds = append(ds, lds...)
	return c, ds, nil
}

// Want describes what the compiled policy asks of the kernel (see NewWant).
func (c *Compiled) Want() *Want {
	return NewWant(c.Ruleset, c.Script, c.Routes)
}
