package main

// The commands reach the compiler through package compile (load, check,
// lower), the one driver they share with apply; fmt alone works on one
// file's syntax and calls lang.

import (
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/lang"
)

// loaded is what the commands work on: independent policies (each a root
// file and everything it includes) and the source text of every file read,
// by the filename used in diagnostic ranges.
type loaded struct{ *compile.Loaded }

// loadPolicies reads the given files and directories and follows includes.
func loadPolicies(paths []string) (*loaded, diag.Diagnostics) {
	l, ds := compile.Load(paths)
	if l == nil {
		l = &compile.Loaded{Sources: map[string][]byte{}}
	}
	return &loaded{l}, ds
}

// source returns a lookup function for diag renderers.
func (l *loaded) source(name string) []byte {
	if l == nil || l.Loaded == nil {
		return nil
	}
	return l.Sources[name]
}

// parseFile parses one file on its own, for fmt: includes are not followed.
func parseFile(name string, src []byte) (*ast.File, diag.Diagnostics) {
	return lang.ParseFile(name, src)
}

// formatFile prints f in canonical layout.
func formatFile(f *ast.File) []byte { return lang.Format(f) }

// lintOptions builds check options from --backend and --severity values
// ("FW1201=error", "FW1003=off").
func lintOptions(backends, severity []string) (check.Options, error) {
	opts := check.Options{Backends: backends}
	for _, s := range severity {
		code, level, ok := strings.Cut(s, "=")
		code = strings.ToUpper(strings.TrimSpace(code))
		if !ok {
			return opts, usagef("--severity takes CODE=LEVEL, not %q", s)
		}
		if _, known := diag.Lookup(code); !known || code < "FW1000" || code > "FW1999" {
			return opts, usagef("--severity: %s is not a lint code (see fwc explain)", code)
		}
		if level == "off" {
			if opts.Disable == nil {
				opts.Disable = map[string]bool{}
			}
			opts.Disable[code] = true
			continue
		}
		sev, ok := diag.ParseSeverity(level)
		if !ok {
			return opts, usagef("--severity %s: level is error, warning, info or off, not %q", code, level)
		}
		if opts.Severity == nil {
			opts.Severity = map[string]diag.Severity{}
		}
		opts.Severity[code] = sev
	}
	return opts, nil
}
