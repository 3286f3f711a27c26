package nft

import (
	"github.com/fwcproject/fwc/diag"
)

type tokKind int

const (
	tEOF    tokKind = iota
	tNL             // a line end (statement separator where one is)
	tWord           // names, numbers, addresses, keywords
	tString         // "..." (Text without the quotes)
	tPunct          // { } ( ) ; , = == != < > <= >= & | ^ : . @ $ - /
	tBad            // a byte the lexer cannot use (reported)
)

// maxToken is the longest word or string kept (64 KiB): nothing nft
// writes comes near it, and a longer one is reported without being kept.
const maxToken = 64 << 10

type token struct {
	kind tokKind
	text string
	rng  diag.Range
}

// lexer cuts one file into tokens on demand, so that memory is bounded by
// the model, not by the input.
type lexer struct {
	src  []byte
	file string
	off  int
	line int
	col  int // 1-based column of src[off]
}

func newLexer(src []byte, file string) *lexer {
	return &lexer{src: src, file: file, line: 1, col: 1}
}

func (l *lexer) pos() diag.Pos { return diag.Pos{Line: l.line, Column: l.col, Byte: l.off} }

func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off++
	}
}

func isWordByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '_', '.', ':', '/', '-', '*', '%':
		return true
	}
	return c >= 0x80 // UTF-8 in names: read, the converter judges
}

// next returns the next token. A "." or "-" alone (spaces around) is
// punctuation: the concatenation and range operators.
func (l *lexer) next() token {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			l.advance(1)
			continue
		case c == '\\' && l.off+1 < len(l.src) && (l.src[l.off+1] == '\n' || l.src[l.off+1] == '\r'):
			// A line continued on the next one.
			l.advance(1)
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
			l.advance(1)
			continue
		case c == '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
			continue
		}
		break
	}
	start := l.pos()
	mk := func(k tokKind, text string) token {
		return token{kind: k, text: text, rng: diag.Range{Filename: l.file, Start: start, End: l.pos()}}
	}
	if l.off >= len(l.src) {
		return mk(tEOF, "")
	}
	c := l.src[l.off]
	switch {
	case c == '\n':
		l.advance(1)
		return mk(tNL, "\n")
	case c == '"':
		var b []byte
		l.advance(1)
		for l.off < len(l.src) && l.src[l.off] != '"' && l.src[l.off] != '\n' {
			if len(b) > maxToken {
				l.advance(1)
				continue
			}
			if l.src[l.off] == '\\' && l.off+1 < len(l.src) && l.src[l.off+1] != '\n' {
				l.advance(1)
			}
			b = append(b, l.src[l.off])
			l.advance(1)
		}
		if len(b) > maxToken {
			return mk(tBad, "string too long")
		}
		if l.off < len(l.src) && l.src[l.off] == '"' {
			l.advance(1)
			return mk(tString, string(b))
		}
		return mk(tBad, "unterminated string")
	case isWordByte(c):
		s := l.off
		for l.off < len(l.src) && isWordByte(l.src[l.off]) {
			l.advance(1)
		}
		if l.off-s > maxToken {
			return mk(tBad, "word too long")
		}
		w := string(l.src[s:l.off])
		if w == "." || w == "-" || w == ":" || w == "/" {
			return mk(tPunct, w)
		}
		// "lo: accept" in a map: the colon is the map's, unless the word
		// is an IPv6 address ending in "::".
		if len(w) > 1 && w[len(w)-1] == ':' && (len(w) < 2 || w[len(w)-2] != ':') {
			l.off--
			l.col--
			w = w[:len(w)-1]
			return mk(tWord, w)
		}
		return mk(tWord, w)
	}
	two := ""
	if l.off+1 < len(l.src) {
		two = string(l.src[l.off : l.off+2])
	}
	switch two {
	case "==", "!=", "<=", ">=", "<<", ">>":
		l.advance(2)
		return mk(tPunct, two)
	}
	switch c {
	case '{', '}', '(', ')', ';', ',', '=', '<', '>', '&', '|', '^', '@', '$', '!', '[', ']', '+':
		l.advance(1)
		return mk(tPunct, string(c))
	}
	l.advance(1)
	return mk(tBad, string(c))
}
