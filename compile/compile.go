// Package compile is the one driver of fwc's front end: it loads policies
// (package lang), checks them (package check, producing the typed model of
// package policy) and lowers one of them to the IR (package ir). Every
// command that compiles goes through it — check, translate, plan and apply —
// so that they agree on what a policy means and on what is kept in memory
// while the backends run.
//
// It sits after the stages it drives and before the commands:
// ast → lang → check → policy → ir → backend → compile → apply → cmd.
// The stages themselves do not import lang; only this driver and the
// command line read source text.
package compile

import (
	"runtime"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

// Loaded is what Load read: independent policies (Units: a root file and
// what it includes, each) and the source text of every file by the name
// its ranges use (Sources, for rendering diagnostics).
type Loaded = lang.Loaded

// LoadOptions widen what Load may read (--include-root).
type LoadOptions = lang.LoadOptions

// Load reads files and directories (a directory stands for every *.fw file
// below it) and follows includes, which stay inside the policy's directory
// tree unless opts widens it.
func Load(paths []string, opts LoadOptions) (*Loaded, diag.Diagnostics) {
	return lang.LoadWith(paths, opts)
}

// Check checks one policy, lint passes included as opts says: the check
// command's work.
func Check(files []*ast.File, opts check.Options) (*policy.Program, diag.Diagnostics) {
	return check.Check(files, opts)
}

// Lowered is one policy checked and lowered.
type Lowered struct {
	// Ruleset is the policy in netfilter terms; nil when the policy has
	// errors.
	Ruleset *ir.Ruleset
	// Routes are the policy's routes, for apply's ip rules and routes.
	Routes []*policy.Route
	// Sysctls are the policy's kernel settings, for apply.
	Sysctls []*policy.Sysctl
	// Zones are the policy's zones (interfaces and networks), for what
	// fwc trace guesses of the host: the interface a network lies behind.
	Zones []*policy.Zone
}

// Lower checks the one policy of l with opts and lowers it. It takes the
// policy's syntax trees out of l (l.Units[0] is nil afterwards) and collects
// garbage once they and the checked program are unreachable, so that the
// backends that follow reuse that memory instead of growing the heap — the
// syntax tree is the biggest thing a large policy makes (50,000 rules: the
// peak of fwc apply went from about 250 MiB to 180 MiB). The caller makes
// sure l holds exactly one policy; Lowered.Ruleset is nil when the
// diagnostics hold an error.
func Lower(l *Loaded, opts check.Options) (*Lowered, diag.Diagnostics) {
	files := l.Units[0].Files
	l.Units[0] = nil
	prog, ds := check.Check(files, opts)
	if ds.HasErrors() {
		return &Lowered{}, ds
	}
	rs, lds := ir.Lower(prog)
	ds = append(ds, lds...)
	out := &Lowered{Ruleset: rs, Routes: prog.Routes, Sysctls: prog.Sysctls, Zones: prog.Zones}
	// Nothing refers to the syntax tree and the checked program any more.
	runtime.GC()
	return out, ds
}
