package apply

import (
	"fmt"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// Compiled is a policy taken through the front end and the nft backend.
type Compiled struct {
	// Loaded holds the sources, for rendering diagnostics; its syntax trees
	// are dropped once lowered.
	Loaded  *compile.Loaded
	Routes  []*policy.Route
	Sysctls []*policy.Sysctl
	Ruleset *ir.Ruleset
	Script  []byte // backend/nft.Text of Ruleset
	nft     *nft.Prepared
}

// Compile loads, checks (for the nft backend, with the lint passes that
// can report errors; the warning-only ones are fwc check's) and
// lowers the one policy at paths: a root file and what it includes. It
// returns nil with the diagnostics when they hold an error, and an error
// when paths hold no policy or more than one.
func Compile(paths []string) (*Compiled, diag.Diagnostics, error) {
	return CompileWith(paths, compile.LoadOptions{})
}

// CompileWith is Compile with the loader's options (--include-root).
func CompileWith(paths []string, opts compile.LoadOptions) (*Compiled, diag.Diagnostics, error) {
	return compileFor(paths, opts, false)
}

// CompileIptables is CompileWith for the iptables backend: the policy is
// checked for iptables and ip6tables, and no nft script is made.
func CompileIptables(paths []string, opts compile.LoadOptions) (*Compiled, diag.Diagnostics, error) {
	return compileFor(paths, opts, true)
}

func compileFor(paths []string, opts compile.LoadOptions, iptables bool) (*Compiled, diag.Diagnostics, error) {
	l, ds := compile.Load(paths, opts)
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
	backends := []string{"nft"}
	if iptables {
		backends = []string{"iptables", "ip6tables"}
	}
	low, cds := compile.Lower(l, check.Options{Backends: backends, ErrorsOnly: true})
	ds = append(ds, cds...)
	if ds.HasErrors() {
		return c, ds, nil
	}
	c.Ruleset, c.Routes, c.Sysctls = low.Ruleset, low.Routes, low.Sysctls
	if iptables {
		return c, ds, nil
	}
	// Merged once, for the script here and the batch Apply sends.
	c.nft = nft.Prepare(c.Ruleset)
	var lds diag.Diagnostics
	c.Script, lds = c.nft.Text()
	ds = append(ds, lds...)
	return c, ds, nil
}

// Want describes what the compiled policy asks of the kernel (see NewWant).
func (c *Compiled) Want() *Want {
	w := NewWant(c.Ruleset, c.Script, c.Routes)
	w.nft = c.nft
	w.Sysctls = c.Sysctls
	return w
}
