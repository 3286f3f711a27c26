package apply

import (
	"fmt"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/policy"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
)

// Compiled is a policy taken through the front end and the nft backend.
type Compiled struct {
	Loaded  *lang.Loaded
	Program *policy.Program
	Ruleset *ir.Ruleset
	Script  []byte // backend/nft.Text of Ruleset
}

// Compile loads, checks (for the nft backend, with the lint passes that
// can report errors; the warning-only ones are fwc check's) and
// lowers the one policy at paths: a root file and what it includes. It
// returns nil with the diagnostics when they hold an error, and an error
// when paths hold no policy or more than one.
func Compile(paths []string) (*Compiled, diag.Diagnostics, error) {
	l, ds := lang.Load(paths)
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
	var cds diag.Diagnostics
	c.Program, cds = check.Check(l.Units[0].Files, check.Options{Backends: []string{"nft"}, ErrorsOnly: true})
	ds = append(ds, cds...)
	if ds.HasErrors() {
		return c, ds, nil
	}
	var lds diag.Diagnostics
	c.Ruleset, lds = ir.Lower(c.Program)
	ds = append(ds, lds...)
	c.Script, lds = nft.Text(c.Ruleset)
	ds = append(ds, lds...)
	return c, ds, nil
}

// Want describes what the compiled policy asks of the kernel (see NewWant).
func (c *Compiled) Want() *Want {
	return NewWant(c.Ruleset, c.Script, c.Program.Routes)
}
