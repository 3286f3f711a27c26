package nft

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/internal/lines"
)

// Options tunes the readers. The zero value reads one file, no includes.
type Options struct {
	// ReadFile reads an included file; nil means includes are errors.
	// ReadText given OSFiles reads them from the file system.
	ReadFile func(name string) ([]byte, error)
	// MaxErrors stops reading after this many errors (default 100).
	MaxErrors int
	// MaxRuleTokens bounds the tokens of one statement (default 1<<20),
	// so that a broken file cannot make one rule hold the whole input.
	MaxRuleTokens int
}

// OSFiles reads included files from the file system, at most 256 MiB each.
func OSFiles(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	if fi.Size() > 256<<20 {
		return nil, fmt.Errorf("%s: too large", name)
	}
	return os.ReadFile(name)
}

const maxIncludeDepth = 16
const maxDefineTokens = 1 << 16
const maxExprDepth = 64

var families = map[string]bool{"ip": true, "ip6": true, "inet": true, "arp": true, "bridge": true, "netdev": true}

// ReadText reads nft text: `nft list ruleset` output or a file for
// `nft -f` (flush ruleset, define, include, tables, chains, sets, maps, and
// the add/insert/create commands). It never fails and never panics: what
// it cannot read is a diagnostic, and the rest is kept.
func ReadText(src []byte, filename string, opts Options) (*File, diag.Diagnostics) {
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = lines.DefaultMaxErrors
	}
	if opts.MaxRuleTokens <= 0 {
		opts.MaxRuleTokens = 1 << 20
	}
	p := &parser{opts: opts, f: &File{Filename: filename, Sources: map[string][]byte{}}, defines: map[string][]token{}}
	p.push(src, filename, diag.Range{})
	p.top()
	return p.f, p.ds
}

type source struct {
	lx   *lexer
	name string
}

type parser struct {
	opts    Options
	f       *File
	ds      diag.Diagnostics
	errs    int
	stopped bool
	stack   []source
	buf     []token // pushed back or substituted tokens, next first
	defines map[string][]token
	subs    int // define substitutions in the current statement
}

func (p *parser) errorf(code string, r diag.Range, format string, args ...any) {
	if p.stopped {
		return
	}
	p.ds.Add(diag.Error, code, r, fmt.Sprintf(format, args...), "")
	p.errs++
	if p.errs >= p.opts.MaxErrors {
		p.ds.Add(diag.Error, lines.CodeTooMany, r, "too many errors; the rest of the input is not read", "")
		p.stopped = true
	}
}

func (p *parser) push(src []byte, name string, at diag.Range) {
	if bytes.IndexByte(src, 0) >= 0 {
		i := bytes.IndexByte(src, 0)
		lx := newLexer(src, name)
		lx.advance(i)
		p.ds.Add(diag.Error, lines.CodeBinary, diag.Range{Filename: name, Start: lx.pos(), End: lx.pos()}, "binary data in an nft file", "")
		p.errs++
		return
	}
	p.f.Sources[name] = src
	p.stack = append(p.stack, source{lx: newLexer(src, name), name: name})
}

// raw is the next token of the input, across the end of included files,
// before define substitution.
func (p *parser) raw() token {
	if len(p.buf) > 0 {
		t := p.buf[0]
		p.buf = p.buf[1:]
		return t
	}
	for len(p.stack) > 0 && !p.stopped {
		top := p.stack[len(p.stack)-1]
		t := top.lx.next()
		if t.kind != tEOF {
			if t.kind == tBad {
				p.errorf(CodeSyntax, t.rng, "%s", badText(t))
				continue
			}
			return t
		}
		p.stack = p.stack[:len(p.stack)-1]
		if len(p.stack) > 0 {
			// The end of an included file ends its last statement.
			return token{kind: tNL, text: "\n", rng: t.rng}
		}
		return t
	}
	return token{kind: tEOF}
}

func badText(t token) string {
	switch t.text {
	case "unterminated string":
		return "a string is not closed on its line"
	case "word too long", "string too long":
		return fmt.Sprintf("a %s longer than %d bytes", strings.TrimSuffix(t.text, " too long"), maxToken)
	}
	return fmt.Sprintf("unexpected character %q", t.text)
}

// next is the next token with $NAME replaced by its definition.
func (p *parser) next() token {
	t := p.raw()
	for t.kind == tPunct && t.text == "$" {
		n := p.raw()
		if n.kind != tWord {
			p.errorf(CodeSyntax, t.rng, "$ without a name")
			return token{kind: tBad, rng: t.rng}
		}
		def, ok := p.defines[n.text]
		if !ok {
			p.errorf(CodeUndefined, t.rng.Through(n.rng), "$%s is not defined", n.text)
			return token{kind: tBad, rng: t.rng.Through(n.rng)}
		}
		p.subs++
		if p.subs > 1<<16 {
			p.errorf(CodeUndefined, n.rng, "too many substitutions of defines")
			return token{kind: tBad, rng: n.rng}
		}
		p.buf = append(append([]token{}, def...), p.buf...)
		t = p.raw()
	}
	return t
}

func (p *parser) unread(t token) { p.buf = append([]token{t}, p.buf...) }

// line reads the tokens of one statement: up to a line end or ";" outside
// braces, or a "}" that closes the enclosing block (left unread).
func (p *parser) line() ([]token, bool) {
	var ts []token
	depth := 0
	p.subs = 0
	for {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return ts, len(ts) > 0
		case t.kind == tBad:
			// Reported; the statement is broken.
			ts = append(ts, t)
			continue
		case t.kind == tNL && depth == 0:
			if len(ts) == 0 {
				continue
			}
			return ts, true
		case t.kind == tNL:
			continue
		case t.kind == tPunct && t.text == ";" && depth == 0:
			if len(ts) == 0 {
				continue
			}
			return ts, true
		case t.kind == tPunct && (t.text == "{" || t.text == "(" || t.text == "["):
			depth++
			if depth > maxExprDepth {
				p.errorf(CodeSyntax, t.rng, "braces nested deeper than %d levels", maxExprDepth)
				p.stopped = true
				return nil, false
			}
		case t.kind == tPunct && (t.text == "}" || t.text == ")" || t.text == "]"):
			if depth == 0 {
				p.unread(t)
				return ts, len(ts) > 0
			}
			depth--
		}
		ts = append(ts, t)
		if len(ts) > p.opts.MaxRuleTokens {
			p.errorf(CodeSyntax, t.rng, "statement longer than %d tokens", p.opts.MaxRuleTokens)
			p.stopped = true
			return nil, false
		}
	}
}

func (p *parser) top() {
	for !p.stopped {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return
		case t.kind == tNL, t.kind == tPunct && t.text == ";":
			continue
		case t.kind == tPunct && t.text == "}":
			p.errorf(CodeSyntax, t.rng, "\"}\" closes no block")
			continue
		case t.kind != tWord:
			p.errorf(CodeSyntax, t.rng, "expected an nft command, not %q", t.text)
			p.skipLine()
			continue
		}
		switch t.text {
		case "flush":
			ts, _ := p.line()
			if len(ts) >= 1 && ts[0].text == "ruleset" {
				fam := ""
				if len(ts) > 1 {
					fam = ts[1].text
				}
				var keep []*Table
				for _, tb := range p.f.Tables {
					if fam != "" && tb.Family != fam {
						keep = append(keep, tb)
					}
				}
				p.f.Tables = keep
			} else if len(ts) >= 1 && (ts[0].text == "table" || ts[0].text == "chain") {
				p.flush(ts)
			} else if len(ts) >= 1 && (ts[0].text == "set" || ts[0].text == "map") {
				if tb, name, ok := p.objRef(ts[1:]); ok {
					if s := tb.Set(name); s != nil {
						s.Elements = nil
					}
				}
			} else {
				p.errorf(CodeSyntax, t.rng, "flush of what? (ruleset, table, chain, set)")
			}
		case "define", "redefine":
			ts, _ := p.line()
			if len(ts) < 2 || ts[0].kind != tWord || ts[1].text != "=" {
				p.errorf(CodeSyntax, t.rng, "define NAME = VALUE expected")
				continue
			}
			if _, dup := p.defines[ts[0].text]; dup && t.text == "define" {
				p.errorf(CodeSyntax, ts[0].rng, "%s is already defined", ts[0].text)
			}
			if len(ts) > maxDefineTokens {
				// Defines made of defines grow twofold at each step.
				p.errorf(CodeSyntax, ts[0].rng, "define %s is longer than %d tokens", ts[0].text, maxDefineTokens)
				continue
			}
			p.defines[ts[0].text] = ts[2:]
		case "undefine":
			ts, _ := p.line()
			if len(ts) == 1 {
				delete(p.defines, ts[0].text)
			}
		case "include":
			ts, _ := p.line()
			if len(ts) != 1 || ts[0].kind != tString {
				p.errorf(CodeSyntax, t.rng, "include \"PATH\" expected")
				continue
			}
			p.include(ts[0])
		case "table":
			p.table(t)
		case "add", "create", "insert":
			w := p.next()
			switch w.text {
			case "table":
				p.table(w)
			case "chain":
				p.addChain(w)
			case "rule":
				p.addRule(w, t.text == "insert")
			case "set", "map":
				p.addSet(w)
			case "element":
				p.addElement(w)
			default:
				p.errorf(CodeUnsupported, w.rng, "%s %s is not imported", t.text, w.text)
				p.skipBlockLine()
			}
		case "delete", "destroy", "replace", "reset", "rename", "list", "monitor", "describe", "export", "import":
			ts, _ := p.line()
			if (t.text == "delete" || t.text == "destroy") && len(ts) >= 2 && ts[0].text == "table" {
				fam, name := "ip", ts[1].text
				if families[ts[1].text] && len(ts) >= 3 {
					fam, name = ts[1].text, ts[2].text
				}
				var keep []*Table
				for _, tb := range p.f.Tables {
					if tb.Family != fam || tb.Name != name {
						keep = append(keep, tb)
					}
				}
				p.f.Tables = keep
				continue
			}
			p.errorf(CodeUnsupported, t.rng, "nft %s is not imported: give fwc import a ruleset (nft list ruleset), not an edit script", t.text)
		default:
			p.errorf(CodeSyntax, t.rng, "%q is not an nft command", t.text)
			p.skipBlockLine()
		}
	}
}

func (p *parser) skipLine() { p.line() }

// skipBlockLine skips a statement and the block it opens, if any.
func (p *parser) skipBlockLine() {
	p.line()
}

func (p *parser) include(t token) {
	if p.opts.ReadFile == nil {
		p.errorf(CodeInclude, t.rng, "include %q: this input has no includes", t.text)
		return
	}
	if len(p.stack) >= maxIncludeDepth {
		p.errorf(CodeInclude, t.rng, "include %q: more than %d levels", t.text, maxIncludeDepth)
		return
	}
	path := t.text
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(t.rng.Filename), path)
	}
	names := []string{path}
	if strings.ContainsAny(path, "*?[") {
		m, err := filepath.Glob(path)
		if err != nil {
			p.errorf(CodeInclude, t.rng, "include %q: %v", t.text, err)
			return
		}
		sort.Strings(m)
		names = m // no match is no error, as for nft
	}
	// Pushed in reverse, so that the first name is read first.
	for i := len(names) - 1; i >= 0; i-- {
		name := names[i]
		for _, s := range p.stack {
			if s.name == name {
				p.errorf(CodeInclude, t.rng, "include %q includes itself", t.text)
				return
			}
		}
		src, err := p.opts.ReadFile(name)
		if err != nil {
			p.errorf(CodeInclude, t.rng, "include %q: %v", t.text, err)
			continue
		}
		p.push(src, name, t.rng)
	}
}

// famName reads "[FAMILY] NAME" at ts[i:], returning the index after.
func famName(ts []token, i int) (fam, name string, r diag.Range, next int, ok bool) {
	fam = "ip"
	if i < len(ts) && ts[i].kind == tWord && families[ts[i].text] && i+1 < len(ts) && (ts[i+1].kind == tWord || ts[i+1].kind == tString) {
		fam = ts[i].text
		i++
	}
	if i >= len(ts) || (ts[i].kind != tWord && ts[i].kind != tString) {
		return "", "", diag.Range{}, i, false
	}
	return fam, ts[i].text, ts[i].rng, i + 1, true
}

func (p *parser) getTable(fam, name string, r diag.Range, create bool) *Table {
	if t := p.f.Table(fam, name); t != nil {
		return t
	}
	if !create {
		p.errorf(CodeUnknownRef, r, "no table %s %s", fam, name)
		return nil
	}
	t := &Table{Family: fam, Name: name, Range: r}
	p.f.Tables = append(p.f.Tables, t)
	return t
}

// header reads the words of a command up to its "{" (consumed) or its end.
func (p *parser) header() (ts []token, block bool) {
	for {
		t := p.next()
		switch {
		case t.kind == tEOF, t.kind == tNL, t.kind == tPunct && t.text == ";":
			return ts, false
		case t.kind == tPunct && t.text == "{":
			return ts, true
		case t.kind == tPunct && t.text == "}":
			p.unread(t)
			return ts, false
		}
		ts = append(ts, t)
		if len(ts) > 16 {
			p.errorf(CodeSyntax, t.rng, "expected \"{\" or the end of the statement")
			return ts, false
		}
	}
}

func (p *parser) table(kw token) {
	ts, block := p.header()
	fam, name, r, _, ok := famName(ts, 0)
	if !ok {
		p.errorf(CodeSyntax, kw.rng, "table [FAMILY] NAME expected")
		if block {
			p.skipBlock()
		}
		return
	}
	if !families[fam] {
		p.errorf(CodeSyntax, ts[0].rng, "unknown family %q", fam)
	}
	t := p.getTable(fam, name, r, true)
	if block {
		p.tableBody(t)
	}
}

// skipBlock skips to the "}" that closes an open block.
func (p *parser) skipBlock() {
	depth := 1
	for depth > 0 {
		t := p.raw()
		switch {
		case t.kind == tEOF:
			return
		case t.kind == tPunct && t.text == "{":
			depth++
		case t.kind == tPunct && t.text == "}":
			depth--
		}
	}
}

// closeBlock consumes the "}" of a block, or reports that it is missing.
func (p *parser) closeBlock(open diag.Range) bool {
	t := p.next()
	if t.kind == tPunct && t.text == "}" {
		return true
	}
	p.errorf(CodeSyntax, open, "block not closed: \"}\" missing")
	return false
}

func (p *parser) tableBody(t *Table) {
	for !p.stopped {
		w := p.next()
		switch {
		case w.kind == tEOF:
			p.errorf(CodeSyntax, t.Range, "table %s is not closed: \"}\" missing", t.Name)
			return
		case w.kind == tNL, w.kind == tPunct && w.text == ";":
			continue
		case w.kind == tPunct && w.text == "}":
			return
		}
		switch w.text {
		case "chain":
			ts, block := p.header()
			if len(ts) != 1 {
				p.errorf(CodeSyntax, w.rng, "chain NAME { ... } expected")
				if block {
					p.skipBlock()
				}
				continue
			}
			c := p.chain(t, ts[0])
			if block {
				p.chainBody(t, c, ts[0].rng)
			}
		case "set", "map":
			ts, block := p.header()
			if len(ts) != 1 || !block {
				p.errorf(CodeSyntax, w.rng, "%s NAME { ... } expected", w.text)
				if block {
					p.skipBlock()
				}
				continue
			}
			s := p.set(t, ts[0], w.text == "map")
			p.setBody(s, ts[0].rng)
		case "flags", "comment":
			p.line()
		default:
			ts, block := p.header()
			name := ""
			if len(ts) > 0 {
				name = ts[len(ts)-1].text
			}
			t.Objects = append(t.Objects, &Object{Kind: w.text, Name: name, Range: w.rng})
			if block {
				p.skipBlock()
			}
		}
	}
}

func (p *parser) chain(t *Table, name token) *Chain {
	if c := t.Chain(name.text); c != nil {
		return c
	}
	c := &Chain{Name: name.text, Range: name.rng}
	t.Chains = append(t.Chains, c)
	return c
}

func (p *parser) set(t *Table, name token, isMap bool) *Set {
	if s := t.Set(name.text); s != nil {
		return s
	}
	s := &Set{Name: name.text, Range: name.rng, Map: isMap}
	t.Sets = append(t.Sets, s)
	return s
}

func (p *parser) chainBody(t *Table, c *Chain, open diag.Range) {
	for !p.stopped {
		ts, ok := p.line()
		if !ok {
			p.closeBlock(open)
			return
		}
		switch ts[0].text {
		case "type":
			p.baseSpec(c, ts)
		case "policy":
			if len(ts) == 2 {
				c.Policy, c.PolicyRange = ts[1].text, ts[1].rng
			} else {
				p.errorf(CodeSyntax, ts[0].rng, "policy accept|drop expected")
			}
		case "comment":
			if len(ts) == 2 && ts[0].kind == tWord {
				c.Comment = ts[1].text
				continue
			}
			fallthrough
		default:
			if ts[0].kind == tWord && (ts[0].text == "devices" || ts[0].text == "device") {
				continue
			}
			c.Rules = append(c.Rules, p.rule(ts))
		}
	}
}

// baseSpec reads "type T hook H [device D] priority P".
func (p *parser) baseSpec(c *Chain, ts []token) {
	c.BaseRange = ts[0].rng.Through(ts[len(ts)-1].rng)
	for i := 0; i < len(ts); i++ {
		w := ts[i].text
		arg := func() (token, bool) {
			if i+1 < len(ts) {
				i++
				return ts[i], true
			}
			p.errorf(CodeSyntax, ts[i].rng, "%s needs a value", w)
			return token{}, false
		}
		switch w {
		case "type":
			if a, ok := arg(); ok {
				c.Type = a.text
			}
		case "hook":
			if a, ok := arg(); ok {
				c.Hook = a.text
			}
		case "device":
			if a, ok := arg(); ok {
				c.Device = a.text
			}
		case "devices":
			for i+1 < len(ts) && ts[i+1].text != "priority" {
				i++
			}
		case "priority":
			a, ok := arg()
			if !ok {
				continue
			}
			text := a.text
			v, err := strconv.Atoi(a.text)
			if err != nil {
				n, named := priorities[a.text]
				if !named {
					p.errorf(CodeSyntax, a.rng, "priority %q not understood", a.text)
					continue
				}
				v = n
			}
			if i+2 < len(ts) && (ts[i+1].text == "+" || ts[i+1].text == "-") {
				d, err := strconv.Atoi(ts[i+2].text)
				if err != nil {
					p.errorf(CodeSyntax, ts[i+2].rng, "priority offset %q not understood", ts[i+2].text)
				} else if ts[i+1].text == "+" {
					v += d
				} else {
					v -= d
				}
				text += " " + ts[i+1].text + " " + ts[i+2].text
				i += 2
			} else if len(a.text) > 0 && (a.text[0] == '-' || a.text[0] == '+') && err != nil {
				p.errorf(CodeSyntax, a.rng, "priority %q not understood", a.text)
			}
			c.Priority, c.PriorityText = v, text
		default:
			p.errorf(CodeSyntax, ts[i].rng, "unexpected %q in a base chain's type statement", w)
			return
		}
	}
	if c.Type == "" || c.Hook == "" || c.PriorityText == "" {
		p.errorf(CodeSyntax, ts[0].rng, "a base chain needs type, hook and priority")
	}
}

func (p *parser) setBody(s *Set, open diag.Range) {
	for !p.stopped {
		ts, ok := p.line()
		if !ok {
			p.closeBlock(open)
			return
		}
		p.setStmt(s, ts)
	}
}

func (p *parser) setStmt(s *Set, ts []token) {
	rp := &ruleParser{p: p, ts: ts}
	w := ts[0].text
	rp.i = 1
	switch w {
	case "type":
		for rp.i < len(ts) {
			t := rp.take()
			switch {
			case t.text == ".":
			case t.text == ":":
				var d []string
				for rp.i < len(ts) {
					d = append(d, rp.take().text)
				}
				s.DataType = strings.Join(d, " ")
			default:
				s.Type = append(s.Type, t.text)
			}
		}
	case "typeof":
		for rp.i < len(ts) && ts[rp.i].text != ":" {
			e := rp.primaryField()
			if e == nil {
				return
			}
			s.Typeof = append(s.Typeof, e)
			if rp.i < len(ts) && ts[rp.i].text == "." {
				rp.i++
			}
		}
		if rp.i < len(ts) && ts[rp.i].text == ":" {
			var d []string
			for rp.i++; rp.i < len(ts); rp.i++ {
				d = append(d, ts[rp.i].text)
			}
			s.DataType = strings.Join(d, " ")
		}
	case "flags":
		for _, t := range ts[1:] {
			if t.text != "," {
				s.Flags = append(s.Flags, t.text)
			}
		}
	case "timeout":
		if len(ts) == 2 {
			s.Timeout = ts[1].text
		}
	case "size":
		if len(ts) == 2 {
			s.Size = ts[1].text
		}
	case "comment":
		if len(ts) == 2 {
			s.Comment = ts[1].text
		}
	case "elements":
		if len(ts) < 3 || ts[1].text != "=" {
			p.errorf(CodeSyntax, ts[0].rng, "elements = { ... } expected")
			return
		}
		rp.i = 2
		e := rp.value(true)
		if e == nil {
			return
		}
		if e.Kind == ExprSet {
			s.Elements = append(s.Elements, e.Args...)
		} else {
			s.Elements = append(s.Elements, e)
		}
	default:
		s.Other = append(s.Other, w)
	}
}

// flush handles "flush table T" and "flush chain T C": the rules go.
func (p *parser) flush(ts []token) {
	fam, name, r, i, ok := famName(ts, 1)
	if !ok {
		p.errorf(CodeSyntax, ts[0].rng, "flush %s: name expected", ts[0].text)
		return
	}
	t := p.getTable(fam, name, r, false)
	if t == nil {
		return
	}
	if ts[0].text == "table" {
		for _, c := range t.Chains {
			c.Rules = nil
		}
		return
	}
	if i < len(ts) {
		if c := t.Chain(ts[i].text); c != nil {
			c.Rules = nil
		}
	}
}

// objRef reads "[FAMILY] TABLE NAME".
func (p *parser) objRef(ts []token) (*Table, string, bool) {
	fam, name, r, i, ok := famName(ts, 0)
	if !ok || i >= len(ts) {
		return nil, "", false
	}
	t := p.getTable(fam, name, r, false)
	return t, ts[i].text, t != nil
}

func (p *parser) addChain(kw token) {
	ts, block := p.header()
	t, name, ok := p.objRef(ts)
	if !ok {
		if block {
			p.skipBlock()
		}
		if len(ts) < 2 {
			p.errorf(CodeSyntax, kw.rng, "add chain [FAMILY] TABLE NAME expected")
		}
		return
	}
	c := p.chain(t, ts[len(ts)-1])
	_ = name
	if block {
		p.chainBody(t, c, ts[len(ts)-1].rng)
	}
}

func (p *parser) addSet(kw token) {
	ts, block := p.header()
	t, _, ok := p.objRef(ts)
	if !ok || !block {
		if block {
			p.skipBlock()
		}
		if !ok && len(ts) < 2 {
			p.errorf(CodeSyntax, kw.rng, "add %s [FAMILY] TABLE NAME { ... } expected", kw.text)
		}
		return
	}
	s := p.set(t, ts[len(ts)-1], kw.text == "map")
	p.setBody(s, ts[len(ts)-1].rng)
}

func (p *parser) addElement(kw token) {
	ts, _ := p.line()
	// [FAMILY] TABLE SET { ... }
	i := 0
	for i < len(ts) && ts[i].text != "{" {
		i++
	}
	t, name, ok := p.objRef(ts[:i])
	if !ok || i >= len(ts) {
		if len(ts) < 3 {
			p.errorf(CodeSyntax, kw.rng, "add element [FAMILY] TABLE SET { ... } expected")
		}
		return
	}
	s := t.Set(name)
	if s == nil {
		p.errorf(CodeUnknownRef, ts[i-1].rng, "no set %s in table %s %s", name, t.Family, t.Name)
		return
	}
	rp := &ruleParser{p: p, ts: ts, i: i}
	if e := rp.value(true); e != nil && e.Kind == ExprSet {
		s.Elements = append(s.Elements, e.Args...)
	}
}

func (p *parser) addRule(kw token, insert bool) {
	ts, _ := p.line()
	fam, name, r, i, ok := famName(ts, 0)
	if !ok || i >= len(ts) {
		p.errorf(CodeSyntax, kw.rng, "add rule [FAMILY] TABLE CHAIN STATEMENTS expected")
		return
	}
	t := p.getTable(fam, name, r, false)
	if t == nil {
		return
	}
	c := t.Chain(ts[i].text)
	if c == nil {
		p.errorf(CodeUnknownRef, ts[i].rng, "no chain %s in table %s %s", ts[i].text, fam, name)
		return
	}
	i++
	// "handle N", "position N", "index N" place a rule relative to another:
	// an edit of a live ruleset, not a ruleset.
	if i+1 < len(ts) && (ts[i].text == "handle" || ts[i].text == "position" || ts[i].text == "index") {
		p.errorf(CodeUnsupported, ts[i].rng, "a rule placed by %s is not imported", ts[i].text)
		return
	}
	if i >= len(ts) {
		p.errorf(CodeSyntax, kw.rng, "a rule needs statements")
		return
	}
	rl := p.rule(ts[i:])
	if insert {
		c.Rules = append([]*Rule{rl}, c.Rules...)
	} else {
		c.Rules = append(c.Rules, rl)
	}
}

// rule parses the statements of one rule.
func (p *parser) rule(ts []token) *Rule {
	r := &Rule{}
	// The rule's range and text are those of its own tokens in the file
	// of its first token (a define's tokens come from elsewhere).
	first := ts[0]
	last := first
	for _, t := range ts {
		if t.rng.Filename == first.rng.Filename && t.rng.End.Byte >= last.rng.End.Byte {
			last = t
		}
	}
	r.Range = first.rng.Through(last.rng)
	if src := p.f.Sources[first.rng.Filename]; src != nil && r.Range.Start.Byte <= r.Range.End.Byte && r.Range.End.Byte <= len(src) {
		r.Text = string(src[r.Range.Start.Byte:r.Range.End.Byte])
	}
	rp := &ruleParser{p: p, ts: ts, rule: r}
	rp.parse()
	return r
}
