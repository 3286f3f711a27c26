package lsp

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/fwcproject/fwc/diag"
)

// lineStart returns the byte offset where the 0-based line starts in text,
// or len(text) when text has fewer lines.
func lineStart(text []byte, line int) int {
	off := 0
	for ; line > 0; line-- {
		i := bytes.IndexByte(text[off:], '\n')
		if i < 0 {
			return len(text)
		}
		off += i + 1
	}
	return off
}

// utf16Len counts the UTF-16 code units of b. An invalid byte counts one,
// as the U+FFFD editors show for it.
func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		n += utf16.RuneLen(r)
		b = b[size:]
	}
	return n
}

// toLSP converts a diag position (1-based line, 1-based byte column) in
// text to an LSP position (0-based line, 0-based UTF-16 column). Without
// the text (a file whose text fwc does not show) the byte column is used.
func toLSP(text []byte, p diag.Pos) protocol.Position {
	if p.Line <= 0 {
		return protocol.Position{}
	}
	line := p.Line - 1
	col := max(p.Column-1, 0)
	if text == nil {
		return protocol.Position{Line: uint32(line), Character: uint32(col)}
	}
	start := lineStart(text, line)
	end := min(start+col, len(text))
	return protocol.Position{Line: uint32(line), Character: uint32(utf16Len(text[start:end]))}
}

// toRange converts a diag range; an empty end (a range that only points)
// ends where it starts.
func toRange(text []byte, r diag.Range) protocol.Range {
	start := toLSP(text, r.Start)
	end := start
	if r.End.Line > 0 {
		end = toLSP(text, r.End)
	}
	return protocol.Range{Start: start, End: end}
}

// offset converts an LSP position to a byte offset in text. A character
// past the end of the line means the end of the line (the protocol's
// rule), a line past the end means the end of the text; a position in the
// middle of a surrogate pair rounds up past it.
func offset(text []byte, p protocol.Position) int {
	off := lineStart(text, int(p.Line))
	units := int(p.Character)
	for units > 0 && off < len(text) && text[off] != '\n' {
		if text[off] == '\r' && off+1 < len(text) && text[off+1] == '\n' {
			break
		}
		r, size := utf8.DecodeRune(text[off:])
		units -= utf16.RuneLen(r)
		off += size
	}
	return off
}

// endOf returns the LSP position of the end of text.
func endOf(text []byte) protocol.Position {
	line, start := 0, 0
	for i, c := range text {
		if c == '\n' {
			line++
			start = i + 1
		}
	}
	return protocol.Position{Line: uint32(line), Character: uint32(utf16Len(text[start:]))}
}
