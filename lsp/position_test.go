package lsp

import (
	"testing"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/fwcproject/fwc/diag"
)

// Byte columns and UTF-16 characters, both ways: ASCII, two-byte (é, one
// unit), four-byte (😀, two units: a surrogate pair), CRLF line ends, and
// positions past a line's end, which the protocol says mean its end.
func TestPositions(t *testing.T) {
	text := []byte("ab\r\né😀x\nlast")
	for _, tc := range []struct {
		pos  diag.Pos // 1-based line, 1-based byte column
		want protocol.Position
	}{
		{diag.Pos{Line: 1, Column: 1}, protocol.Position{Line: 0, Character: 0}},
		{diag.Pos{Line: 1, Column: 3}, protocol.Position{Line: 0, Character: 2}},
		{diag.Pos{Line: 2, Column: 3}, protocol.Position{Line: 1, Character: 1}}, // after é
		{diag.Pos{Line: 2, Column: 7}, protocol.Position{Line: 1, Character: 3}}, // after 😀
		{diag.Pos{Line: 2, Column: 8}, protocol.Position{Line: 1, Character: 4}}, // after x
		{diag.Pos{Line: 3, Column: 5}, protocol.Position{Line: 2, Character: 4}},
	} {
		got := toLSP(text, tc.pos)
		if got != tc.want {
			t.Errorf("toLSP(%d:%d) = %v, want %v", tc.pos.Line, tc.pos.Column, got, tc.want)
		}
		if off := offset(text, got); off != lineStart(text, tc.pos.Line-1)+tc.pos.Column-1 {
			t.Errorf("offset(%v) = %d, want byte column %d of line %d", got, off, tc.pos.Column, tc.pos.Line)
		}
	}
	for _, tc := range []struct {
		pos  protocol.Position
		want int
	}{
		{protocol.Position{Line: 0, Character: 99}, 2},  // stops before \r\n
		{protocol.Position{Line: 1, Character: 99}, 11}, // before \n
		{protocol.Position{Line: 1, Character: 2}, 10},  // inside the pair: past it
		{protocol.Position{Line: 9, Character: 0}, len(text)},
	} {
		if got := offset(text, tc.pos); got != tc.want {
			t.Errorf("offset(%v) = %d, want %d", tc.pos, got, tc.want)
		}
	}
	if got, want := endOf(text), (protocol.Position{Line: 2, Character: 4}); got != want {
		t.Errorf("endOf = %v, want %v", got, want)
	}
	// Without the text (a file fwc does not show), byte columns pass as they are.
	if got := toLSP(nil, diag.Pos{Line: 2, Column: 7}); got != (protocol.Position{Line: 1, Character: 6}) {
		t.Errorf("toLSP without text = %v", got)
	}
}
