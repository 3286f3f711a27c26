// Package lang reads fwc source text: a participle grammar (the concrete
// syntax) and one conversion step that builds package ast's nodes with
// source ranges. It also loads files and directories and follows includes.
// It is the first stage of the pipeline: lang → check → ir → backends.
//
// The grammar in grammar.go is the definition of the syntax and the source
// of every syntax error. Two things make it fast: a hand-written lexer for
// its token rules (lexer.go) and a predictive parser for the same grammar
// (fast.go) that parses the declarations it is sure of and leaves the rest
// to participle. Tests hold both to participle's results, token for token
// and tree for tree.
package lang
