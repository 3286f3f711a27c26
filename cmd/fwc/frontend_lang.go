package main

import (
	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/lang"
)

// loadPolicies reads the given files and directories and follows includes.
func loadPolicies(paths []string) (*loaded, diag.Diagnostics) {
	l, ds := lang.Load(paths)
	out := &loaded{sources: map[string][]byte{}}
	if l == nil {
		return out, ds
	}
	out.sources = l.Sources
	for _, u := range l.Units {
		out.units = append(out.units, u.Files)
	}
	return out, ds
}

// parseFile parses one file on its own, for fmt: includes are not followed.
func parseFile(name string, src []byte) (*ast.File, diag.Diagnostics) {
	return lang.ParseFile(name, src)
}

// formatFile prints f in canonical layout.
func formatFile(f *ast.File) []byte { return lang.Format(f) }
