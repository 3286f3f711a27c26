// Package lang reads fwc source text: a participle grammar (the concrete
// syntax) and one conversion step that builds package ast's nodes with
// source ranges. It also loads files and directories and follows includes.
// It is the first stage of the pipeline: lang → check → ir → backends.
package lang
