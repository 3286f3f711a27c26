package lang

import (
	"io"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types. The values are the ones lexer.MustSimple assigns to the
// rules of lexRules (EOF is -1, then one less per rule, in order), so that
// the hand-written lexer and the regular expressions it implements are
// interchangeable.
const (
	tokComment lexer.TokenType = -2 - iota
	tokString
	tokBadString
	tokSpace
	tokEOL
	tokIPv6
	tokIPv4
	tokDuration
	tokNumber
	tokWord
	tokPunct
	tokBad
)

// lexRules is the token set, as regular expressions. Rules are tried in
// order, the first match wins. Bad and BadString never match in valid input;
// they turn lexical errors into tokens so that lexing never stops and the
// error gets a position.
//
// lexDef implements exactly these rules by hand: a regular expression per
// token cost a quarter of the parse time (Go's backtracker resets its state
// for every try). lexer_test.go checks that both agree token for token.
var lexRules = []lexer.SimpleRule{
	{Name: "Comment", Pattern: `#[^\r\n]*`},
	{Name: "String", Pattern: `"(?:\\["\\]|[^"\\\r\n])*"`},
	{Name: "BadString", Pattern: `"[^\r\n]*`},
	{Name: "Space", Pattern: `(?:[ \t\r]|\\\r?\n)+`},
	{Name: "EOL", Pattern: `[\n;]`},
	{Name: "IPv6", Pattern: `(?:[0-9a-fA-F]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{1,4})?(?:/\d{1,3})?`},
	{Name: "IPv4", Pattern: `\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?`},
	{Name: "Duration", Pattern: `\d+(?:ms|s|m|h|d|w)\b`},
	{Name: "Number", Pattern: `0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?`},
	{Name: "Word", Pattern: `[A-Za-z_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\*?`},
	{Name: "Punct", Pattern: `!=|->|[{}\[\],./\-:=@$|]`},
	{Name: "Bad", Pattern: `.`},
}

// lexDef is the lexer of the grammar.
var lexDef = &handLexer{symbols: func() map[string]lexer.TokenType {
	m := map[string]lexer.TokenType{"EOF": lexer.EOF}
	for i, r := range lexRules {
		m[r.Name] = tokComment - lexer.TokenType(i)
	}
	return m
}()}

// handLexer is a lexer.Definition (also String and Bytes) for lexRules.
type handLexer struct {
	symbols map[string]lexer.TokenType
}

func (d *handLexer) Symbols() map[string]lexer.TokenType { return d.symbols }

func (d *handLexer) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	var b strings.Builder
	if _, err := io.Copy(&b, r); err != nil {
		return nil, err
	}
	return d.LexString(filename, b.String())
}

func (d *handLexer) LexString(filename, s string) (lexer.Lexer, error) {
	return &handLexerState{src: s, pos: lexer.Position{Filename: filename, Line: 1, Column: 1}}, nil
}

func (d *handLexer) LexBytes(filename string, b []byte) (lexer.Lexer, error) {
	return d.LexString(filename, string(b))
}

type handLexerState struct {
	src string
	pos lexer.Position
}

func (l *handLexerState) Next() (lexer.Token, error) {
	if l.pos.Offset >= len(l.src) {
		return lexer.EOFToken(l.pos), nil
	}
	typ, n := scanToken(l.src[l.pos.Offset:])
	text := l.src[l.pos.Offset : l.pos.Offset+n]
	t := lexer.Token{Type: typ, Value: text, Pos: l.pos}
	advance(&l.pos, text)
	return t, nil
}

// lexAll returns every token of src, the EOF token last.
func lexAll(filename string, src []byte) ([]lexer.Token, error) {
	s := string(src)
	toks := make([]lexer.Token, 0, len(s)/2+1) // about 2.7 bytes a token
	pos := lexer.Position{Filename: filename, Line: 1, Column: 1}
	for pos.Offset < len(s) {
		typ, n := scanToken(s[pos.Offset:])
		text := s[pos.Offset : pos.Offset+n]
		toks = append(toks, lexer.Token{Type: typ, Value: text, Pos: pos})
		advance(&pos, text)
	}
	return append(toks, lexer.EOFToken(pos)), nil
}

// advance is lexer.Position.Advance: columns count runes, and after a
// newline the column is the rune count from the newline on.
func advance(p *lexer.Position, span string) {
	p.Offset += len(span)
	nl := strings.LastIndexByte(span, '\n')
	if nl < 0 {
		if isASCII(span) {
			p.Column += len(span)
		} else {
			p.Column += utf8.RuneCountInString(span)
		}
		return
	}
	p.Line += strings.Count(span, "\n")
	p.Column = utf8.RuneCountInString(span[nl:])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }

// isWordChar is \w of a regular expression (ASCII only, as in Go).
func isWordChar(c byte) bool { return isAlpha(c) || isDigit(c) }

// scanToken returns the type and length of the token at the start of s
// (not empty). Each case below is the rule of lexRules with the same name,
// with the regular expression's leftmost-first choices spelled out.
func scanToken(s string) (lexer.TokenType, int) {
	c := s[0]
	switch {
	case c == '#':
		return tokComment, lineEnd(s)
	case c == '"':
		if n := scanString(s); n > 0 {
			return tokString, n
		}
		return tokBadString, lineEnd(s)
	case c == ' ' || c == '\t' || c == '\r' || c == '\\':
		if n := scanSpace(s); n > 0 {
			return tokSpace, n
		}
	case c == '\n' || c == ';':
		return tokEOL, 1
	}
	if isHex(c) || c == ':' {
		if n := scanIPv6(s); n > 0 {
			return tokIPv6, n
		}
	}
	if isDigit(c) {
		if n := scanIPv4(s, 2); n > 0 {
			return tokIPv4, n
		}
		if n := scanDuration(s); n > 0 {
			return tokDuration, n
		}
		return tokNumber, scanNumber(s)
	}
	if isAlpha(c) {
		return tokWord, scanWord(s)
	}
	switch c {
	case '!', '-':
		if len(s) > 1 && (c == '!' && s[1] == '=' || c == '-' && s[1] == '>') {
			return tokPunct, 2
		}
		if c == '-' {
			return tokPunct, 1
		}
	case '{', '}', '[', ']', ',', '.', '/', ':', '=', '@', '$', '|':
		return tokPunct, 1
	}
	if c < utf8.RuneSelf {
		return tokBad, 1
	}
	_, n := utf8.DecodeRuneInString(s)
	return tokBad, n
}

// lineEnd is the length of s up to its first '\r' or '\n'.
func lineEnd(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return i
		}
	}
	return len(s)
}

// scanString: a quote, characters other than quote, backslash, CR and LF or
// the escapes \" and \\, and a closing quote; 0 if there is none.
func scanString(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				i++
				continue
			}
			return 0
		case '\r', '\n':
			return 0
		}
	}
	return 0
}

// scanSpace: blanks and line continuations (a backslash before a newline).
func scanSpace(s string) int {
	i := 0
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\r':
			i++
			continue
		case '\\':
			if i+1 < len(s) && s[i+1] == '\n' {
				i += 2
				continue
			}
			if i+2 < len(s) && s[i+1] == '\r' && s[i+2] == '\n' {
				i += 3
				continue
			}
		}
		break
	}
	return i
}

// run is the length of the run of bytes at the start of s that satisfy ok,
// at most max.
func run(s string, ok func(byte) bool, max int) int {
	i := 0
	for i < len(s) && i < max && ok(s[i]) {
		i++
	}
	return i
}

// scanIPv6: two to seven groups of up to four hex digits each followed by
// ':' (a group is taken whole or not at all: fewer digits would leave a
// digit where ':' must be), then a dotted quad or one to four hex digits,
// then a prefix length.
func scanIPv6(s string) int {
	i, groups := 0, 0
	for groups < 7 {
		h := run(s[i:], isHex, 4)
		if i+h >= len(s) || s[i+h] != ':' {
			break
		}
		i += h + 1
		groups++
	}
	if groups < 2 {
		return 0
	}
	if n := scanQuad(s[i:]); n > 0 {
		i += n
	} else {
		i += run(s[i:], isHex, 4)
	}
	return i + scanPrefix(s[i:], 3)
}

// scanIPv4: a dotted quad and a prefix length of up to two digits.
func scanIPv4(s string, prefixDigits int) int {
	n := scanQuad(s)
	if n == 0 {
		return 0
	}
	return n + scanPrefix(s[n:], prefixDigits)
}

// scanQuad: \d{1,3}(?:\.\d{1,3}){3}. The first three groups must be
// followed by '.', so each is its whole run of digits; the last takes up to
// three.
func scanQuad(s string) int {
	i := 0
	for g := 0; g < 3; g++ {
		d := run(s[i:], isDigit, 4)
		if d == 0 || d > 3 || i+d >= len(s) || s[i+d] != '.' {
			return 0
		}
		i += d + 1
	}
	d := run(s[i:], isDigit, 3)
	if d == 0 {
		return 0
	}
	return i + d
}

// scanPrefix: (?:/\d{1,max})?
func scanPrefix(s string, max int) int {
	if len(s) < 2 || s[0] != '/' {
		return 0
	}
	d := run(s[1:], isDigit, max)
	if d == 0 {
		return 0
	}
	return 1 + d
}

// scanDuration: digits, a unit (ms, s, m, h, d or w) and a word boundary.
func scanDuration(s string) int {
	i := run(s, isDigit, len(s))
	boundary := func(j int) bool { return j >= len(s) || !isWordChar(s[j]) }
	if strings.HasPrefix(s[i:], "ms") && boundary(i+2) {
		return i + 2
	}
	if i < len(s) && strings.IndexByte("smhdw", s[i]) >= 0 && boundary(i+1) {
		return i + 1
	}
	return 0
}

// scanNumber: 0x and hex digits, or digits with an optional fraction.
func scanNumber(s string) int {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]) {
		return 2 + run(s[2:], isHex, len(s))
	}
	i := run(s, isDigit, len(s))
	if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		i += 1 + run(s[i+1:], isDigit, len(s))
	}
	return i
}

// scanWord: dot-separated segments of letters, digits, '_' and '-' that do
// not end in '-' (the first starts with a letter or '_'), then an optional
// '*'.
func scanWord(s string) int {
	i := wordSegment(s)
	for i+1 < len(s) && s[i] == '.' && isWordChar(s[i+1]) {
		i += 1 + wordSegment(s[i+1:])
	}
	if i < len(s) && s[i] == '*' {
		i++
	}
	return i
}

// wordSegment is the length of the segment starting with the word
// character s[0]: the longest run of word characters and '-' that ends in a
// word character.
func wordSegment(s string) int {
	end := 1
	for i := 1; i < len(s); i++ {
		c := s[i]
		if isWordChar(c) {
			end = i + 1
		} else if c != '-' {
			break
		}
	}
	return end
}
