package main

// The CLI calls the library only through this file and frontend_*.go, so
// the commands' flag, I/O and exit-code logic does not care which front-end
// pieces have landed.

import "github.com/fwcproject/fwc/ast"

// loaded is what check works on: independent policies (each a root file
// and everything it includes) and the source text of every file read, by
// the filename used in diagnostic ranges.
type loaded struct {
	units   [][]*ast.File
	sources map[string][]byte
}

// source returns a lookup function for diag renderers.
func (l *loaded) source(name string) []byte {
	if l == nil {
		return nil
	}
	return l.sources[name]
}
