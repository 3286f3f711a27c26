package lang

import (
	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
)

// Range converts an ast range to a diagnostic range. ast and diag are both
// leaves and do not know each other; this is the one bridge.
func Range(r ast.Range) diag.Range {
	return diag.Range{Filename: r.Filename, Start: diag.Pos(r.Start), End: diag.Pos(r.End)}
}

// Span is Range(n.Span()).
func Span(n ast.Node) diag.Range { return Range(n.Span()) }
