// Package lang reads fwc source text: a participle grammar (the concrete
// syntax) and one conversion step that builds package ast's nodes with
// source ranges. It also loads files and directories and follows includes.
// It is the first stage of the pipeline: lang → check → policy → ir →
// backends; only the compile driver and the command line import it.
//
// The grammar in grammar.go is the definition of the syntax and the source
// of every syntax error. Two things make it fast: a hand-written lexer for
// its token rules (lexer.go) and a predictive parser for the same grammar
// (fast.go) that parses the declarations it is sure of and leaves the rest
// to participle. Tests hold both to participle's results, token for token
// and tree for tree.
//
// The rule for growing the language: a new construct needs only the grammar
// (grammar.go) and its conversion to ast (convert.go). The fast path declines
// whatever it does not know, so participle parses the new construct
// correctly from the first day; the fast path learns it only when a
// benchmark shows the construct hot (BenchmarkParse50k and its siblings).
//
// The fast path may decline but must never be wrong. A panic in it that is
// not a decline is a bug: the tests run it in strict mode, where the panic
// propagates; in production the declaration is parsed by participle instead
// and a warning (FW0009) reports the bug, so the fallback never hides it.
package lang
