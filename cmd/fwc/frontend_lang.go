package main

import (
	"io"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/lang"
	"github.com/spf13/cobra"
)

// addIncludeRootFlag gives a command that loads policies (and follows their
// includes) the --include-root flag, kept in e for loadPolicies and
// compilePolicy.
func addIncludeRootFlag(cmd *cobra.Command, e *env) {
	cmd.Flags().StringArrayVar(&e.includeRoots, "include-root", nil,
		"let includes read files below `DIR` too (by default they stay below the policy's directory); repeatable")
	_ = cmd.MarkFlagDirname("include-root")
}

func (e *env) loadOptions() lang.LoadOptions {
	return lang.LoadOptions{IncludeRoots: e.includeRoots}
}

// loadPolicies reads the given files and directories and follows includes.
func loadPolicies(e *env, paths []string) (*loaded, diag.Diagnostics) {
	l, ds := lang.LoadWith(paths, e.loadOptions())
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
