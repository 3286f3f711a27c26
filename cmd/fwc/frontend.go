package main

// The commands reach the compiler through package compile (load, check,
// lower), the one driver they share with apply; fmt alone works on one
// file's syntax and calls lang.

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

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

// addIncludeRootFlag gives a command that loads policies (and follows their
// includes) the --include-root flag, kept in e for loadPolicies and
// compilePolicy.
func addIncludeRootFlag(cmd *cobra.Command, e *env) {
	cmd.Flags().StringArrayVar(&e.includeRoots, "include-root", nil,
		"let includes read files below `DIR` too (by default they stay below the policy's directory); repeatable")
	_ = cmd.MarkFlagDirname("include-root")
}

func (e *env) loadOptions() compile.LoadOptions {
	return compile.LoadOptions{IncludeRoots: e.includeRoots}
}

// loadPolicies reads the given files and directories and follows includes.
func loadPolicies(e *env, paths []string) (*loaded, diag.Diagnostics) {
	l, ds := compile.Load(paths, e.loadOptions())
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
// show is false for a file whose text diagnostics must not quote (see
// lang.ParseNamed); standard input, which the user handed over, is shown.
func parseFile(name string, src []byte, stdin bool) (f *ast.File, ds diag.Diagnostics, show bool) {
	if stdin {
		f, ds = lang.ParseFile(name, src)
		return f, ds, true
	}
	return lang.ParseNamed(name, src)
}

// readPolicyFile reads a file named on the command line as lang does: a
// regular file of at most lang.MaxFileSize bytes.
func readPolicyFile(name string) ([]byte, error) { return lang.ReadFile(name) }

// readPolicyStdin reads standard input, at most lang.MaxFileSize bytes.
func readPolicyStdin(r io.Reader) ([]byte, error) { return lang.ReadAll(r) }

// formatFile prints f in canonical layout.
func formatFile(f *ast.File) []byte { return lang.Format(f) }

// lintOptions builds check options from --backend and --severity values
// ("FW1201=error", "FW1001=off").
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
