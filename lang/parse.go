package lang

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
)

// ParseFile parses one file. Diagnostics: syntax errors with exact positions
// (never a panic). A syntax error costs the top-level declaration it is in;
// the others are still parsed and returned.
func ParseFile(filename string, src []byte) (*ast.File, diag.Diagnostics) {
	f, ds, _ := parseFile(filename, src, fastOn)
	return f, ds
}

// fastMode says whether parseFile takes the fast path (fast.go).
type fastMode int

const (
	fastOn     fastMode = iota
	fastOff             // participle only
	fastStrict          // fast path, and a bug in it panics (tests)
)

// parseFile is ParseFile; fast counts the declarations the fast path took.
func parseFile(filename string, src []byte, mode fastMode) (_ *ast.File, _ diag.Diagnostics, fast int) {
	var ds diag.Diagnostics
	lines := newLineIndex(src)
	f := &ast.File{Range: lines.rng(filename, 0, len(src))}

	cv := &converter{file: filename, lines: lines, diags: &ds, fastMode: mode}
	cv.fast.onRule = cv.chainRule

	// Tokens are read one declaration at a time into a reused buffer: a
	// whole file's tokens (64 bytes each, one per ~2.7 bytes of source)
	// would be the biggest thing held while parsing a large policy. The
	// buffer leaves out spaces and comments (about half the tokens), which
	// the fast path skips; participle, which wants them, gets the
	// declaration lexed again (see parseStmt).
	text := string(src)
	cv.text = text
	pos := lexer.Position{Filename: filename, Line: 1, Column: 1}
	cv.stmtPos = pos
	var stmt tokens
	depth, bad, afterComma := 0, false, false
	for {
		var t lexer.Token
		if pos.Offset < len(text) {
			typ, n := scanToken(text[pos.Offset:])
			value := text[pos.Offset : pos.Offset+n]
			t = lexer.Token{Type: typ, Value: value, Pos: pos}
			advance(&pos, value)
		} else {
			t = lexer.EOFToken(pos)
		}
		switch t.Type {
		case tokComment:
			f.Comments = append(f.Comments, &ast.Comment{Range: cv.tokRange(t), Text: t.Value})
		case tokBad:
			bad = true
			ds.Add(diag.Error, "FW0002", cv.tokRange(t), fmt.Sprintf("unexpected character %q", t.Value),
				"This character cannot start any token of the language.")
		case tokBadString:
			bad = true
			ds.Add(diag.Error, "FW0002", cv.tokRange(t), "invalid string literal",
				`A string is closed on the same line by '"'; inside it only \" and \\ are escapes.`)
		case tokPunct:
			switch t.Value {
			case "{":
				depth++
				cv.opens = append(cv.opens, t)
			case "}":
				if depth > 0 {
					depth--
					cv.opens = cv.opens[:len(cv.opens)-1]
				}
			}
		}
		// A newline right after a comma continues the statement, at the
		// top level as inside braces (the grammar takes newlines after a
		// list's comma): "define admins = 192.0.2.1,\n\t192.0.2.2".
		if t.Type == tokEOL && depth == 0 && t.Value == "\n" && afterComma {
			stmt.add(t)
			continue
		}
		if (t.Type == tokEOL && depth == 0) || t.EOF() {
			if !bad {
				if d := cv.parseStmt(&stmt, t); d != nil {
					f.Decls = append(f.Decls, d)
				}
			}
			stmt.reset()
			bad = false
			if t.EOF() {
				break
			}
			cv.stmtPos = pos
			continue
		}
		if t.Type == tokSpace || t.Type == tokComment {
			continue
		}
		afterComma = t.Type == tokPunct && t.Value == ","
		stmt.add(t)
	}
	return f, ds, cv.fastHits
}

// tokens is the token buffer of one declaration, in chunks: adding never
// copies what is there (a large table has hundreds of thousands of
// tokens), and a few chunks are kept for the next declaration.
type tokens struct {
	chunks [][]lexer.Token
	n      int
}

const tokChunk = 1024

func (ts *tokens) add(t lexer.Token) {
	c := ts.n / tokChunk
	if c == len(ts.chunks) {
		ts.chunks = append(ts.chunks, make([]lexer.Token, tokChunk))
	}
	ts.chunks[c][ts.n%tokChunk] = t
	ts.n++
}

func (ts *tokens) len() int { return ts.n }

// at returns the token i; it stays where it is until reset.
func (ts *tokens) at(i int) *lexer.Token { return &ts.chunks[i/tokChunk][i%tokChunk] }

// one returns token i as a slice of one token.
func (ts *tokens) one(i int) []lexer.Token {
	c, k := i/tokChunk, i%tokChunk
	return ts.chunks[c][k : k+1 : k+1]
}

func (ts *tokens) reset() {
	ts.n = 0
	ts.chunks = keepChunks(ts.chunks)
}

// parseStmt parses the tokens of one top-level declaration, without spaces
// and comments; end is the terminator (a newline, ';' or EOF) that follows
// them.
func (cv *converter) parseStmt(raw *tokens, end lexer.Token) (d ast.Decl) {
	// participle panics on some grammar-level surprises; bad input must
	// never crash fwc, so such a panic becomes a syntax error here.
	defer func() {
		if r := recover(); r != nil {
			if cv.fastMode == fastStrict {
				panic(r)
			}
			d = nil
			// At the declaration's first token, space or comment included.
			typ, n := scanToken(cv.text[cv.stmtPos.Offset:])
			first := lexer.Token{Type: typ, Value: cv.text[cv.stmtPos.Offset : cv.stmtPos.Offset+n], Pos: cv.stmtPos}
			cv.syntaxError(fmt.Errorf("cannot parse this declaration (%v)", r), first)
		}
	}()
	empty := true
	for i := range raw.len() {
		if t := raw.at(i); t.Type != tokComment && t.Type != tokSpace && t.Type != tokEOL {
			empty = false
			cv.stmtStart = t.Pos.Offset
			break
		}
	}
	if empty {
		return nil
	}
	if cv.fastMode != fastOff {
		// The fast path converts a chain's rules as it goes (onRule); if
		// it then declines, participle's tree is converted again, with
		// the same diagnostics.
		n := len(*cv.diags)
		s, ok, bug := cv.fast.fastDecl(raw, end, cv.fastMode == fastStrict)
		if ok {
			cv.fastHits++
			return cv.decl(s)
		}
		*cv.diags = (*cv.diags)[:n]
		if bug != nil {
			cv.fastBug(bug)
		}
	}
	// participle sees every token of the declaration: lex it again.
	toks := cv.relex(end.Pos.Offset)
	all := toks[:len(toks)-1]
	// A run of terminators (blank lines, comment lines) is one EOL to the
	// grammar, so that `EOL+ item` fails after one token, not after many.
	afterEOL := false
	for i := range all {
		switch toks[i].Type {
		case tokEOL:
			if afterEOL {
				toks[i].Type = tokSpace
			}
			afterEOL = true
		case tokSpace, tokComment:
		default:
			afterEOL = false
		}
	}
	toks[len(all)] = lexer.EOFToken(end.Pos)
	pl, err := lexer.Upgrade(&sliceLexer{toks: toks}, tokComment, tokSpace)
	if err == nil {
		var s *stmt
		s, err = stmtParser.ParseFromLexer(pl)
		if err == nil {
			return cv.decl(s.Decl)
		}
	}
	cv.syntaxError(err, end)
	return nil
}

// unclosed returns the innermost "{" of the declaration being parsed that
// no "}" closed before its end, or nil.
func (cv *converter) unclosed() *lexer.Token {
	if len(cv.opens) == 0 || cv.opens[len(cv.opens)-1].Pos.Offset < cv.stmtStart {
		return nil
	}
	return &cv.opens[len(cv.opens)-1]
}

// fastBug reports a panic of the fast path (a bug in fwc, not in the
// policy) at the declaration's first token. The declaration is parsed by
// participle all the same, so the result is right; the warning is there so
// that the bug is seen and reported rather than hidden by the fallback.
func (cv *converter) fastBug(bug any) {
	_, n := scanToken(cv.text[cv.stmtStart:])
	pos := cv.lines.rng(cv.file, cv.stmtStart, cv.stmtStart+n)
	cv.diags.Add(diag.Warning, "FW0009", pos,
		fmt.Sprintf("internal error in the fast parser (%v); this declaration was parsed by the reference parser instead", bug),
		"This is a bug in fwc, not in the policy: please report it with the declaration. The result is unaffected.")
}

// relex returns all the tokens from the start of the declaration being
// parsed to offset end, and a slot after them.
func (cv *converter) relex(end int) []lexer.Token {
	var toks []lexer.Token
	for pos := cv.stmtPos; pos.Offset < end; {
		typ, n := scanToken(cv.text[pos.Offset:end])
		value := cv.text[pos.Offset : pos.Offset+n]
		toks = append(toks, lexer.Token{Type: typ, Value: value, Pos: pos})
		advance(&pos, value)
	}
	return append(toks, lexer.Token{})
}

type sliceLexer struct {
	toks []lexer.Token
	i    int
}

func (l *sliceLexer) Next() (lexer.Token, error) {
	if l.i >= len(l.toks) {
		return l.toks[len(l.toks)-1], nil
	}
	l.i++
	return l.toks[l.i-1], nil
}

func (cv *converter) syntaxError(err error, end lexer.Token) {
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		t := ute.Unexpected
		var what string
		var r diag.Range
		if t.EOF() {
			r = cv.tokRange(end)
			switch {
			case end.EOF():
				what = "end of file"
			case end.Value == ";":
				what = `";"`
			default:
				what = "end of line"
			}
		} else {
			r = cv.tokRange(t)
			what = fmt.Sprintf("%q", t.Value)
		}
		summary := "unexpected " + what
		exp := expectedText(ute)
		if open := cv.unclosed(); end.EOF() && open != nil && strings.Contains(exp, `"}"`) {
			// The block ran to the end of the file: the mistake is the
			// "{" never closed, not the declaration after it, which is
			// only where the parser noticed.
			cv.diags.Add(diag.Error, "FW0001", cv.tokRange(*open), `unclosed "{"`,
				fmt.Sprintf(`The block opened here has no "}": the parser reached %s at line %d, where a "}" would have been expected.`,
					what, r.Start.Line),
				diag.Related{Message: `expected "}" before this`, Range: r})
			return
		}
		switch exp := inWords(exp); {
		case exp != "":
			summary += "; expected " + exp
			if t.Type == tokWord {
				if hint := cv.didYouMean(t); hint != "" {
					summary += "; " + hint
				}
			}
		case t.Pos.Offset == cv.stmtStart:
			summary += "; expected a declaration (include, define, zone, service, set, policy, from, table, route or balance)"
		default:
			summary += "; expected end of line"
		}
		cv.diags.Add(diag.Error, "FW0001", r, summary, "")
		return
	}
	var perr participle.Error
	if errors.As(err, &perr) {
		p := perr.Position()
		cv.diags.Add(diag.Error, "FW0001", cv.lines.rng(cv.file, p.Offset, p.Offset), perr.Message(), "")
		return
	}
	cv.diags.Add(diag.Error, "FW0001", cv.tokRange(end), err.Error(), "")
}

// didYouMean suggests a keyword for the word t the grammar did not expect
// or, when t is a keyword itself (participle backs up to the start of the
// match it could not finish: "tcp" in "tcp port 22"), for the word after
// it. It returns "" when no keyword is close.
func (cv *converter) didYouMean(t lexer.Token) string {
	kws := keywords()
	if subs := ast.FieldSubs(t.Value); len(subs) > 0 {
		// ct: its field sub-keywords (direction, zone...) too.
		kws = append(slices.Clone(kws), subs...)
	}
	if !slices.Contains(kws, t.Value) {
		if kw := closestKeyword(t.Value, kws); kw != "" {
			return fmt.Sprintf("did you mean %q?", kw)
		}
		return ""
	}
	off := t.Pos.Offset + len(t.Value)
	for off < len(cv.text) {
		typ, n := scanToken(cv.text[off:])
		switch typ {
		case tokSpace:
			off += n
			continue
		case tokWord:
			next := cv.text[off : off+n]
			if !slices.Contains(kws, next) {
				if kw := closestKeyword(next, kws); kw != "" {
					return fmt.Sprintf("did you mean %q instead of %q?", t.Value+" "+kw, t.Value+" "+next)
				}
			}
		}
		break
	}
	return ""
}

// closestKeyword is diag.Suggest among keywords, where a tie goes to the
// keyword sharing the longest prefix with word ("stat": "state", not
// "snat").
func closestKeyword(word string, kws []string) string {
	best, bestP := "", -1
	for _, kw := range diag.SuggestAll(word, kws) {
		p := 0
		for p < len(kw) && p < len(word) && kw[p] == word[p] {
			p++
		}
		if p > bestP {
			best, bestP = kw, p
		}
	}
	return best
}

// keywords returns the literal words of the grammar (accept, dport, ...),
// the candidates of a "did you mean" for a word the grammar did not expect.
// They are read from the grammar's EBNF by regexp because participle
// exposes its grammar only as that text (Parser.String); its nodes are
// unexported.
var keywords = sync.OnceValue(func() []string {
	var kws []string
	for _, m := range keywordLit.FindAllStringSubmatch(Grammar(), -1) {
		if !slices.Contains(kws, m[1]) {
			kws = append(kws, m[1])
		}
	}
	slices.Sort(kws)
	return kws
})

var keywordLit = regexp.MustCompile(`"([a-z][a-z0-9-]*)"`)

// expectedText returns what the parser expected instead of ute's token, as
// participle prints it (EBNF: `"}"`, `Action+`, `"," Value`), or "".
//
// participle (v2.1.4) keeps what it expected in an unexported grammar node
// (UnexpectedTokenError.expectNode) and shows it only in Message(), as
// `unexpected token "TOKEN" (expected EBNF)`; its exported Expect field is
// never set. So the text is cut out of Message() after the exact prefix the
// token makes, not searched for: the token's own text may hold
// " (expected " (a string `"x (expected y)"` did, and the summary read
// `expected y)\"" (expected an action`).
func expectedText(ute *participle.UnexpectedTokenError) string {
	if ute.Expect != "" {
		return ute.Expect
	}
	rest, ok := strings.CutPrefix(ute.Message(), fmt.Sprintf("unexpected token %q", ute.Unexpected))
	if !ok {
		return ""
	}
	rest, ok = strings.CutPrefix(rest, " (expected ")
	if !ok {
		return ""
	}
	rest, _ = strings.CutSuffix(rest, ")")
	return rest
}

// inWords names the productions of an expected EBNF text in words ("an
// action" for Action+). A regexp, because the EBNF is all participle gives:
// there is no node to walk (see expectedText).
func inWords(ebnf string) string {
	return productionWords.ReplaceAllStringFunc(ebnf, func(p string) string {
		return productionNames[strings.TrimRight(p, "+*?")]
	})
}

var productionWords = regexp.MustCompile(`\b(Action|Match|Value|ValueList|Concat|RangeVal|Atom|Ident|Str|Priority|SetRef)\b[+*?]?|<eol>[+*?]?`)

var productionNames = map[string]string{
	"Action": "an action", "Match": "a match",
	"Value": "a value", "ValueList": "a value", "Concat": "a value", "RangeVal": "a value", "Atom": "a value",
	"Ident": "a name", "Str": "a string", "Priority": "a number", "SetRef": "@set", "<eol>": "end of line",
}

// lineIndex converts byte offsets to positions with byte columns
// (participle's own columns count runes).
type lineIndex struct {
	starts []int // byte offset of each line's first byte
	size   int
	last   int // the line of the last lookup
}

func newLineIndex(src []byte) *lineIndex {
	li := &lineIndex{starts: []int{0}, size: len(src)}
	for i, b := range src {
		if b == '\n' {
			li.starts = append(li.starts, i+1)
		}
	}
	return li
}

func (li *lineIndex) pos(off int) diag.Pos {
	off = max(0, min(off, li.size))
	// Offsets come mostly in order: try the line of the last lookup first.
	l := li.last
	if off < li.starts[l] || l+1 < len(li.starts) && off >= li.starts[l+1] {
		l = sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
		li.last = l
	}
	return diag.Pos{Line: l + 1, Column: off - li.starts[l] + 1, Byte: off}
}

func (li *lineIndex) rng(file string, start, end int) diag.Range {
	return diag.Range{Filename: file, Start: li.pos(start), End: li.pos(end)}
}
