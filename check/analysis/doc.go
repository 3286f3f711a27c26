// Package analysis is the framework of fwc's lint passes, in the style of
// golang.org/x/tools/go/analysis. A pass is an Analyzer value: a name, its
// user documentation, the diagnostic codes it reports, the analyzers whose
// results it needs (Requires), and a Run function that is handed a Pass: the
// checked policy, the backends the user asked for, the results of the
// required analyzers and a Report function.
//
// A pass documents itself once, in its doc.go: the package doc comment has
// a section "# Analyzer NAME" (the pass's title and doc) and a section
// "# FWnnnn: title" per code (what `fwc explain` prints). The pass embeds
// the file with go:embed and builds its Analyzer with WithDoc, as the
// passes of golang.org/x/tools embed theirs, so go doc, Analyzer.Doc and
// explain show one text.
//
// Run executes a list of analyzers over one policy.Program: every analyzer
// and everything it requires runs once, after its requirements, and the
// diagnostics of all of them are collected. Run then applies, centrally so
// that every pass gets them:
//
//   - suppression comments: `# fwc:ignore FW1203 reason` at the end of the
//     line of a diagnostic, or on a line of its own just above it, drops
//     diagnostics with that code (several codes may be given separated by
//     commas). A trailing comment does not reach the next line. The reason is
//     required; a suppression without one still works but is itself
//     reported (FW1991), and a suppression that suppresses nothing is
//     reported as unused (FW1992), as is a code no analyzer knows (FW1993);
//   - per-code severity overrides (Options.Severity) and disabled codes
//     (Options.Disable).
//
// analysis sits inside the check stage: package check builds the
// policy.Program and calls Run with passes.All. The passes themselves live
// in check/passes/NAME, one package each, and import only analysis, policy,
// ast, diag and lang.
package analysis
