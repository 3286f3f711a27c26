package lang

import (
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/fwcproject/fwc/ast"
)

// The fast path. participle tries the members of a union one by one, with
// reflection and an allocation per try, which made a 50k-rule policy take
// seconds. fastParser reads the same grammar by looking at the next token or
// two, the way the participle grammar in grammar.go decides in every input
// it accepts, and fills the same concrete syntax structs, which convert.go
// then turns into ast nodes as before.
//
// The grammar in grammar.go stays the definition: fastParser gives up
// (declines) on anything it is not sure of, every syntax error included,
// and ParseFile then parses the declaration with participle, which also
// words every error message. fast_test.go checks on every testdata file,
// the fuzz corpus, mutations and random inputs that whenever fastParser
// accepts a declaration, participle accepts it too and yields the same tree.

// decline is the panic value with which fastParser gives up.
type decline struct{}

type fastParser struct {
	raw *tokens     // the declaration's tokens, without spaces and comments
	eof lexer.Token // its terminator, as EOF
	// idx holds the indexes in raw of the tokens the grammar sees: one EOL
	// for a run of them; then len(raw) for eof.
	idx []int32
	i   int // the next token is idx[i]

	// Arenas for the structs of values, the most frequent ones.
	atoms     arena[atom]
	rangeVals arena[rangeVal]
	values    arena[value]
	concats   arena[concat]
	lists     arena[valueList]
	idents    arena[ident]
	oneValue  arena[[1]*value]
	oneConcat arena[[1]*concat]
	// and for the most frequent matches and actions.
	addrs    arena[addrMatch]
	ports    arena[portMatch]
	ifaces   arena[ifaceMatch]
	cts      arena[ctMatch]
	verdicts arena[verdictAction]
	// The matches and actions of a rule are gathered in scratch slices
	// (rules do not nest) and then copied to one of these.
	matchScratch  []match
	actionScratch []action
	matchLists    sliceArena[match]
	actionLists   sliceArena[action]

	// onRule, when set, converts a chain rule as soon as it is parsed, so
	// that the structs of the next rule reuse the arenas: a table of
	// thousands of rules then needs the structs of one rule at a time.
	onRule func(*chainRule) *ast.Rule
}

// arenaMarks records how much of each arena is in use.
type arenaMarks [15][2]int

func (p *fastParser) arenaMarks() (m arenaMarks) {
	m[0] = p.atoms.mark()
	m[1] = p.rangeVals.mark()
	m[2] = p.values.mark()
	m[3] = p.concats.mark()
	m[4] = p.lists.mark()
	m[5] = p.idents.mark()
	m[6] = p.oneValue.mark()
	m[7] = p.oneConcat.mark()
	m[8] = p.addrs.mark()
	m[9] = p.ports.mark()
	m[10] = p.ifaces.mark()
	m[11] = p.cts.mark()
	m[12] = p.verdicts.mark()
	m[13] = p.matchLists.mark()
	m[14] = p.actionLists.mark()
	return m
}

// release hands the structs made since m out again.
func (p *fastParser) release(m arenaMarks) {
	p.atoms.release(m[0])
	p.rangeVals.release(m[1])
	p.values.release(m[2])
	p.concats.release(m[3])
	p.lists.release(m[4])
	p.idents.release(m[5])
	p.oneValue.release(m[6])
	p.oneConcat.release(m[7])
	p.addrs.release(m[8])
	p.ports.release(m[9])
	p.ifaces.release(m[10])
	p.cts.release(m[11])
	p.verdicts.release(m[12])
	p.matchLists.release(m[13])
	p.actionLists.release(m[14])
}

// sliceArena hands out slices from chunks that are reused, like arena.
type sliceArena[T any] struct {
	chunks [][]T
	c, n   int
}

// copyOf returns a copy of s whose capacity is its length.
func (a *sliceArena[T]) copyOf(s []T) []T {
	if len(s) == 0 {
		return nil
	}
	for {
		if a.c == len(a.chunks) {
			a.chunks = append(a.chunks, make([]T, max(1024, len(s))))
		}
		if a.n+len(s) <= len(a.chunks[a.c]) {
			break
		}
		a.c, a.n = a.c+1, 0
	}
	out := a.chunks[a.c][a.n : a.n+len(s) : a.n+len(s)]
	copy(out, s)
	a.n += len(s)
	return out
}

func (a *sliceArena[T]) mark() [2]int     { return [2]int{a.c, a.n} }
func (a *sliceArena[T]) release(m [2]int) { a.c, a.n = m[0], m[1] }

func (a *sliceArena[T]) reset() {
	a.c, a.n = 0, 0
	a.chunks = keepChunks(a.chunks)
}

// keepChunks keeps the first few chunks of an arena for the next
// declaration and lets the others go: one large declaration (a table of
// thousands of rules) must not hold its syntax structs while the rest of
// the file is parsed.
func keepChunks[T any](chunks [][]T) [][]T {
	const keep = 8
	if len(chunks) <= keep {
		return chunks
	}
	clear(chunks[keep:])
	return chunks[:keep]
}

// arena hands out zeroed values from chunks that are reused for the next
// declaration: the concrete syntax structs only live until convert.go has
// read them (it copies what it keeps).
type arena[T any] struct {
	chunks [][]T
	c, n   int // the current chunk and how much of it is used
}

func (a *arena[T]) new() *T {
	if a.c < len(a.chunks) && a.n == len(a.chunks[a.c]) {
		a.c, a.n = a.c+1, 0
	}
	if a.c == len(a.chunks) {
		a.chunks = append(a.chunks, make([]T, 128))
	}
	x := &a.chunks[a.c][a.n]
	a.n++
	var zero T
	*x = zero
	return x
}

func (a *arena[T]) mark() [2]int     { return [2]int{a.c, a.n} }
func (a *arena[T]) release(m [2]int) { a.c, a.n = m[0], m[1] }

func (a *arena[T]) reset() {
	a.c, a.n = 0, 0
	a.chunks = keepChunks(a.chunks)
}

func (p *fastParser) resetArenas() {
	p.atoms.reset()
	p.rangeVals.reset()
	p.values.reset()
	p.concats.reset()
	p.lists.reset()
	p.idents.reset()
	p.oneValue.reset()
	p.oneConcat.reset()
	p.addrs.reset()
	p.ports.reset()
	p.ifaces.reset()
	p.cts.reset()
	p.verdicts.reset()
	p.matchLists.reset()
	p.actionLists.reset()
}

// fastDecl parses the raw tokens of one top-level declaration (end is its
// terminator); ok is false if the fast path declined.
//
// A panic other than a decline is a bug in the fast path. Under strict (the
// tests that hold the fast path to participle) it propagates. Otherwise the
// declaration declines, so that participle still parses it correctly, and
// bug holds the panic value for the caller to report: a fast-path bug is
// never swallowed silently.
func (p *fastParser) fastDecl(raw *tokens, end lexer.Token, strict bool) (d decl, ok bool, bug any) {
	p.raw, p.eof = raw, lexer.EOFToken(end.Pos)
	p.idx, p.i = p.idx[:0], 0
	p.resetArenas()
	afterEOL := false
	for j := range raw.len() {
		switch raw.at(j).Type {
		case tokSpace, tokComment:
			continue
		case tokEOL:
			if afterEOL {
				continue
			}
			afterEOL = true
		default:
			afterEOL = false
		}
		p.idx = append(p.idx, int32(j))
	}
	p.idx = append(p.idx, int32(raw.len()))
	defer func() {
		p.raw = nil
		if r := recover(); r != nil {
			if _, is := r.(decline); !is {
				if strict {
					panic(r)
				}
				bug = r
			}
			d, ok = nil, false
		}
	}()
	if injectFastBug != nil {
		injectFastBug()
	}
	d = p.decl()
	if !p.peek().EOF() {
		p.fail()
	}
	return d, true, nil
}

func (p *fastParser) fail() { panic(decline{}) }

// injectFastBug, when set (by tests only), runs at the start of every
// fast-path declaration, to stand in for a bug in the fast path.
var injectFastBug func()

// tok is the token idx[i] points at.
func (p *fastParser) tok(i int) *lexer.Token {
	if j := int(p.idx[i]); j < p.raw.len() {
		return p.raw.at(j)
	}
	return &p.eof
}

func (p *fastParser) peek() *lexer.Token { return p.tok(p.i) }

// peekAt is the token n after the next one (EOF past the end).
func (p *fastParser) peekAt(n int) *lexer.Token { return p.tok(min(p.i+n, len(p.idx)-1)) }

// is reports whether the next token is the literal v; participle compares a
// literal with the text of a token of any type.
func (p *fastParser) is(v string) bool {
	t := p.peek()
	return t.Type != lexer.EOF && t.Value == v
}

func isAt(t *lexer.Token, vs ...string) bool {
	if t.Type == lexer.EOF {
		return false
	}
	for _, v := range vs {
		if t.Value == v {
			return true
		}
	}
	return false
}

func (p *fastParser) next() *lexer.Token {
	t := p.peek()
	if t.Type == lexer.EOF {
		p.fail()
	}
	p.i++
	return t
}

func (p *fastParser) expect(v string) {
	if !p.is(v) {
		p.fail()
	}
	p.i++
}

// accept consumes the literal v if it is next.
func (p *fastParser) accept(v string) bool {
	if p.is(v) {
		p.i++
		return true
	}
	return false
}

// kw consumes the next token if it is one of vs and returns it as a capture.
func (p *fastParser) kw(vs ...string) []lexer.Token {
	if !isAt(p.peek(), vs...) {
		p.fail()
	}
	j := p.idx[p.i]
	p.i++
	return p.raw.one(int(j))
}

func (p *fastParser) eols() {
	for p.peek().Type == tokEOL {
		p.i++
	}
}

// span of the tokens from toks[start] to the last one consumed: Pos is the
// first token's, EndPos right after the last (where the next token of the
// source, maybe a space, starts: what participle gives).
func (p *fastParser) span(start int) span {
	end := p.eof.Pos
	if j := int(p.idx[p.i-1]); j < p.raw.len() {
		t := p.raw.at(j)
		end = t.Pos
		advance(&end, t.Value)
	}
	return span{Pos: p.tok(start).Pos, EndPos: end}
}

// items parses `"{" EOL* ( item ( EOL+ item )* EOL* )? "}"`.
func (p *fastParser) items(item func()) {
	p.expect("{")
	p.eols()
	if p.accept("}") {
		return
	}
	for {
		item()
		sep := p.peek().Type == tokEOL
		p.eols()
		if p.accept("}") {
			return
		}
		if !sep {
			p.fail()
		}
	}
}

// Declarations.

func (p *fastParser) decl() decl {
	start := p.i
	switch p.next().Value {
	case "include":
		d := &includeDecl{Path: p.str()}
		d.span = p.span(start)
		return d
	case "define":
		d := &defineDecl{Name: p.ident()}
		p.expect("=")
		d.Values = p.valueList()
		d.span = p.span(start)
		return d
	case "zone":
		d := &zoneDecl{Name: p.ident()}
		p.items(func() {
			s := p.i
			it := &zoneItem{Key: p.kw("iface", "net"), Values: p.valueList()}
			it.span = p.span(s)
			d.Items = append(d.Items, it)
		})
		d.span = p.span(start)
		return d
	case "sysctl":
		d := &sysctlDecl{Key: p.ident()}
		p.expect("=")
		d.Value = p.value()
		d.span = p.span(start)
		return d
	case "service":
		d := &serviceDecl{Name: p.ident()}
		p.expect("=")
		d.Values = p.valueList()
		d.span = p.span(start)
		return d
	case "set":
		return p.setDecl(start)
	case "policy":
		d := &policyDecl{From: p.ident()}
		p.expect("->")
		d.To = p.ident()
		d.Actions = p.actions()
		d.span = p.span(start)
		return d
	case "from":
		d := &zoneRule{From: p.ident()}
		p.expect("to")
		d.To = p.ident()
		d.Matches = p.matches()
		d.Actions = p.actions()
		d.span = p.span(start)
		return d
	case "table":
		d := &tableDecl{Name: p.ident()}
		p.items(func() { d.Chains = append(d.Chains, p.chain()) })
		d.span = p.span(start)
		return d
	case "route":
		return p.routeDecl(start)
	case "balance":
		return p.balanceDecl(start)
	case "assert":
		d := &assertDecl{}
		if p.is("management") {
			d.Management = p.kw("management")
		}
		p.expect("from")
		d.From = p.ident()
		p.expect("to")
		d.To = p.ident()
		d.Matches = p.matches()
		d.Verdict = p.kw("accept", "drop", "masquerade", "snat", "dnat", "redirect")
		d.span = p.span(start)
		return d
	}
	p.fail()
	return nil
}

func (p *fastParser) setDecl(start int) decl {
	d := &setDecl{Name: p.ident()}
	p.expect(":")
	d.Type = append(d.Type, p.ident())
	for p.accept(".") {
		d.Type = append(d.Type, p.ident())
	}
	if p.is("{") {
		d.Body = true
		p.items(func() {
			s := p.i
			it := &setItem{}
			switch p.peek().Value {
			case "timeout":
				p.i++
				it.Timeout = p.value()
			case "size":
				p.i++
				it.Size = p.value()
			case "dynamic":
				p.i++
				it.Dynamic = true
			case "elements":
				p.i++
				it.Elements = &setElems{}
				p.list(func() {
					s := p.i
					e := &setElem{Value: p.concat()}
					if p.accept("timeout") {
						e.Timeout = p.value()
					}
					e.span = p.span(s)
					it.Elements.Elems = append(it.Elements.Elems, e)
				})
				it.Elements.span = p.span(s)
			default:
				p.fail()
			}
			it.span = p.span(s)
			d.Items = append(d.Items, it)
		})
	}
	d.span = p.span(start)
	return d
}

func (p *fastParser) chain() *chainDecl {
	start := p.i
	p.expect("chain")
	c := &chainDecl{Name: p.ident()}
	if p.accept("policy") {
		c.Policy = p.ident()
	}
	if p.accept("priority") {
		s := p.i
		c.Priority = &priority{Neg: p.accept("-")}
		if p.peek().Type != tokNumber {
			p.fail()
		}
		c.Priority.Number = p.next().Value
		c.Priority.span = p.span(s)
	}
	p.items(func() {
		s := p.i
		var m arenaMarks
		if p.onRule != nil {
			m = p.arenaMarks()
		}
		r := &chainRule{Matches: p.matches(), Actions: p.actions()}
		r.span = p.span(s)
		if p.onRule != nil {
			c.converted = append(c.converted, p.onRule(r))
			p.release(m)
			return
		}
		c.Rules = append(c.Rules, r)
	})
	c.span = p.span(start)
	return c
}

func (p *fastParser) routeDecl(start int) decl {
	d := &routeDecl{Name: p.ident()}
	p.items(func() {
		s := p.i
		it := &routeItem{}
		switch p.peek().Value {
		case "mark":
			p.i++
			it.Mark = p.value()
		case "table":
			p.i++
			it.Table = p.value()
		case "priority":
			p.i++
			it.Priority = p.value()
		default:
			e := &routeEntry{Dest: p.value()}
			for {
				// Given twice, participle keeps the last; leave that to it.
				if p.is("via") && e.Via == nil {
					p.i++
					e.Via = p.value()
				} else if p.is("dev") && e.Dev == nil {
					p.i++
					e.Dev = p.value()
				} else if p.is("via") || p.is("dev") {
					p.fail()
				} else {
					break
				}
			}
			e.span = p.span(s)
			it.Entry = e
		}
		it.span = p.span(s)
		d.Items = append(d.Items, it)
	})
	d.span = p.span(start)
	return d
}

func (p *fastParser) balanceDecl(start int) decl {
	d := &balanceDecl{Name: p.ident()}
	p.items(func() {
		s := p.i
		it := &balanceItem{}
		switch p.next().Value {
		case "address":
			it.Address = p.value()
		case "service":
			it.Service = p.value()
		case "endpoints":
			it.Endpoints = p.valueList()
		case "masquerade":
			it.Masquerade = true
		default:
			p.fail()
		}
		it.span = p.span(s)
		d.Items = append(d.Items, it)
	})
	d.span = p.span(start)
	return d
}

// list parses `"{" EOL* ( item ( "," EOL* item )* EOL* )? "}"`.
func (p *fastParser) list(item func()) {
	p.expect("{")
	p.eols()
	if p.accept("}") {
		return
	}
	item()
	for p.accept(",") {
		p.eols()
		item()
	}
	p.eols()
	p.expect("}")
}

// Values.

func (p *fastParser) ident() *ident {
	t := p.peek()
	if t.Type != tokWord {
		p.fail()
	}
	p.i++
	id := p.idents.new()
	id.Name = t.Value
	id.span = p.span(p.i - 1)
	return id
}

func (p *fastParser) str() *str {
	t := p.peek()
	if t.Type != tokString {
		p.fail()
	}
	p.i++
	s := &str{Text: t.Value}
	s.span = p.span(p.i - 1)
	return s
}

func (p *fastParser) valueList() *valueList {
	l := p.lists.new()
	one := p.oneConcat.new()
	one[0] = p.concat()
	l.Items = one[:]
	for p.accept(",") {
		p.eols()
		l.Items = append(l.Items, p.concat())
	}
	return l
}

func (p *fastParser) concat() *concat {
	start := p.i
	c := p.concats.new()
	one := p.oneValue.new()
	one[0] = p.value()
	c.Parts = one[:]
	for p.accept(".") {
		c.Parts = append(c.Parts, p.value())
	}
	c.span = p.span(start)
	return c
}

func (p *fastParser) value() *value {
	start := p.i
	v := p.values.new()
	v.Left = p.rangeVal()
	for p.is(":") || p.is("/") {
		op := p.next().Value
		v.Rest = append(v.Rest, &binOp{Op: op, Right: p.rangeVal()})
	}
	v.span = p.span(start)
	return v
}

func (p *fastParser) rangeVal() *rangeVal {
	start := p.i
	r := p.rangeVals.new()
	r.From = p.atom()
	if p.accept("-") {
		r.To = p.atom()
	}
	r.span = p.span(start)
	return r
}

func (p *fastParser) atom() *atom {
	start := p.i
	a := p.atoms.new()
	t := p.peek()
	text := &t.Value
	switch t.Type {
	case tokNumber:
		a.Number = text
	case tokIPv4:
		a.IPv4 = text
	case tokIPv6:
		a.IPv6 = text
	case tokDuration:
		a.Duration = text
	case tokString:
		a.String = text
	case tokWord:
		a.Word = text
	case tokPunct:
		switch t.Value {
		case "[":
			p.i++
			if p.peek().Type != tokIPv6 || !isAt(p.peekAt(1), "]") {
				p.fail()
			}
			a.BrIPv6 = &p.peek().Value
			p.i++
		case "@", "$":
			p.i++
			if p.peek().Type != tokWord {
				p.fail()
			}
			if t.Value == "@" {
				a.SetRef = &p.peek().Value
			} else {
				a.DefRef = &p.peek().Value
			}
		case "{":
			a.List = &braceList{}
			p.list(func() { a.List.Items = append(a.List.Items, p.concat()) })
			a.span = p.span(start)
			return a
		default:
			p.fail()
		}
	default:
		p.fail()
	}
	p.i++
	a.span = p.span(start)
	return a
}

// Matches.

var (
	protoWords    = []string{"tcp", "udp", "sctp", "udplite"}
	portWords     = []string{"sport", "dport"}
	concatKeyWord = []string{"saddr", "daddr", "sport", "dport", "iif", "oif", "mark"}
)

func (p *fastParser) matches() []match {
	p.matchScratch = p.matchScratch[:0]
	for {
		m := p.match()
		if m == nil {
			return p.matchLists.copyOf(p.matchScratch)
		}
		p.matchScratch = append(p.matchScratch, m)
	}
}

// match parses the match that starts at the next token, or returns nil if
// no match starts there; it decides as the union in grammar.go would, whose
// first member that succeeds wins.
func (p *fastParser) match() match {
	start := p.i
	t, t1 := p.peek(), p.peekAt(1)
	if t.Type != tokWord {
		return nil
	}
	// ConcatMatch's lookahead.
	k := 0
	if isAt(t, protoWords...) {
		k = 1
	}
	if isAt(p.peekAt(k), concatKeyWord...) && isAt(p.peekAt(k+1), ".") {
		m := &concatMatch{}
		for {
			s := p.i
			key := &concatKey{}
			if isAt(p.peek(), protoWords...) {
				key.Proto = p.kw(protoWords...)
				key.Port = p.kw(portWords...)
			} else {
				key.Key = p.kw(concatKeyWord...)
			}
			key.span = p.span(s)
			m.Keys = append(m.Keys, key)
			if !p.accept(".") {
				break
			}
		}
		m.Neg = p.accept("!=")
		s := p.i
		p.expect("@")
		if p.peek().Type != tokWord {
			p.fail()
		}
		m.Set = &setRef{Name: p.next().Value}
		m.Set.span = p.span(s)
		m.span = p.span(start)
		return m
	}
	var m interface {
		match
		setSpan(span)
	}
	switch t.Value {
	case "saddr", "daddr":
		x := p.addrs.new()
		x.Key, x.Neg, x.Values = p.keyed(t.Value)
		m = x
	case "proto":
		p.i++
		x := &protoMatch{}
		x.Neg, x.Values = p.negValues()
		m = x
	case "tcp", "udp", "sctp", "udplite":
		if t.Value == "tcp" && isAt(t1, "flags", "syn") {
			p.i++
			x := &tcpFlagsMatch{}
			if p.accept("flags") {
				x.Neg = p.accept("!=")
				x.Flags = p.identsBy("|")
				if p.accept("/") {
					x.Mask = p.identsBy("|")
				}
			} else {
				x.Syn = p.kw("syn")
			}
			m = x
			break
		}
		if !isAt(t1, portWords...) {
			p.fail()
		}
		x := p.ports.new()
		x.Proto = p.kw(t.Value)
		x.Key, x.Neg, x.Values = p.keyed(portWords...)
		m = x
	case "sport", "dport":
		x := p.ports.new()
		x.Key, x.Neg, x.Values = p.keyed(t.Value)
		m = x
	case "iif", "oif":
		x := p.ifaces.new()
		x.Key, x.Neg, x.Values = p.keyed(t.Value)
		m = x
	case "service":
		p.i++
		x := &serviceMatch{}
		x.Neg, x.Values = p.negValues()
		m = x
	case "icmp", "icmpv6":
		x := &icmpMatch{Proto: p.kw(t.Value)}
		p.expect("type")
		x.Neg, x.Values = p.negValues()
		m = x
	case "ct", "mark":
		ct := t.Value == "ct"
		if ct && isAt(t1, "state", "status") {
			p.i++
			x := p.cts.new()
			x.Key, x.Neg, x.Values = p.keyed(t1.Value)
			m = x
			break
		}
		k := 0
		if ct {
			if !isAt(t1, "mark") {
				p.fail()
			}
			k = 1
		}
		if isAt(p.peekAt(k+1), "set", ".") {
			return nil // mark set: an action
		}
		p.i += k + 1
		x := &markMatch{Ct: ct}
		if p.is("route") && p.peekAt(1).Type == tokWord {
			p.i++
			x.Route = p.ident()
		} else {
			x.Neg = p.accept("!=")
			x.Value = p.value()
		}
		m = x
	case "family":
		p.i++
		m = &familyMatch{Family: p.ident()}
	case "limit":
		p.i++
		x := &limitMatch{Over: p.accept("over")}
		x.Rate = p.value()
		if p.accept("burst") {
			x.Burst = p.value()
		}
		m = x
	case "meter":
		p.i++
		x := &meterMatch{Name: p.ident()}
		p.expect("per")
		x.Per = p.kw("saddr", "daddr")
		if p.accept("mask") {
			x.Mask = p.value()
		}
		x.Over = p.accept("over")
		x.Rate = p.value()
		if p.accept("burst") {
			x.Burst = p.value()
		}
		m = x
	case "connlimit":
		p.i++
		x := &connlimitMatch{Over: p.accept("over")}
		x.Count = p.value()
		if p.accept("mask") {
			x.Mask = p.value()
		}
		m = x
	case "hour", "day", "date":
		x := &timeMatch{}
		x.Key, x.Neg, x.Values = p.keyed(t.Value)
		m = x
	case "probability":
		p.i++
		m = &probabilityMatch{Value: p.value()}
	case "string":
		p.i++
		x := &stringMatch{Neg: p.accept("!=")}
		x.Text = p.str()
		if p.accept("algo") {
			x.Algo = p.ident()
		}
		m = x
	default:
		return nil
	}
	m.setSpan(p.span(start))
	return m
}

// keyed parses `@( keys ) "!="? ValueList`.
func (p *fastParser) keyed(keys ...string) ([]lexer.Token, bool, *valueList) {
	k := p.kw(keys...)
	neg, vs := p.negValues()
	return k, neg, vs
}

// negValues parses `"!="? ValueList`.
func (p *fastParser) negValues() (bool, *valueList) {
	neg := p.accept("!=")
	return neg, p.valueList()
}

// identsBy parses `Ident ( sep Ident )*`.
func (p *fastParser) identsBy(sep string) []*ident {
	ids := []*ident{p.ident()}
	for p.accept(sep) {
		ids = append(ids, p.ident())
	}
	return ids
}

// Actions.

func (p *fastParser) actions() []action {
	p.actionScratch = p.actionScratch[:0]
	for {
		a := p.action()
		if a == nil {
			break
		}
		p.actionScratch = append(p.actionScratch, a)
	}
	if len(p.actionScratch) == 0 {
		p.fail()
	}
	return p.actionLists.copyOf(p.actionScratch)
}

func (p *fastParser) action() action {
	start := p.i
	t, t1 := p.peek(), p.peekAt(1)
	if t.Type != tokWord {
		return nil
	}
	var a interface {
		action
		setSpan(span)
	}
	switch t.Value {
	case "accept", "drop", "return":
		x := p.verdicts.new()
		x.Kind = p.kw(t.Value)
		a = x
	case "reject":
		x := &verdictAction{Kind: p.kw(t.Value)}
		if p.accept("with") {
			x.With = p.ident()
		}
		a = x
	case "jump", "goto":
		x := &jumpAction{Kind: p.kw(t.Value)}
		x.Target = p.ident()
		a = x
	case "log":
		x := &logAction{Kw: p.kw(t.Value)}
		for {
			if p.is("prefix") {
				if x.Prefix != nil {
					p.fail() // given twice; participle keeps the last
				}
				p.i++
				x.Prefix = p.str()
			} else if p.is("level") {
				if x.Level != nil {
					p.fail()
				}
				p.i++
				x.Level = p.value()
			} else if p.accept("flags") {
				x.Flags = append(x.Flags, p.ident())
				for p.accept(",") {
					p.eols()
					x.Flags = append(x.Flags, p.ident())
				}
			} else {
				break
			}
		}
		a = x
	case "counter":
		a = &counterAction{Kw: p.kw(t.Value)}
	case "mark", "connmark", "ct":
		switch {
		case t.Value == "ct" && isAt(t1, "mark") && isAt(p.peekAt(2), "set"):
			x := &markSetAction{Kind: p.kw(t.Value)}
			p.i += 2
			x.Value = p.value()
			a = x
		case t.Value != "ct" && isAt(t1, "set"):
			x := &markSetAction{Kind: p.kw(t.Value)}
			p.i++
			x.Value = p.value()
			a = x
		case t.Value == "connmark" && isAt(t1, "save", "restore"):
			p.i++
			x := &connmarkAction{Op: p.kw(t1.Value)}
			if p.accept("mask") {
				x.Mask = p.value()
			}
			a = x
		default:
			p.fail()
		}
	case "route":
		p.i++
		a = &routeAction{Name: p.ident()}
	case "snat", "dnat", "masquerade", "redirect":
		x := &natAction{Kind: p.kw(t.Value)}
		if p.accept("to") {
			p.accept(":")
			x.To = p.value()
		}
		for isAt(p.peek(), "random", "random-fully", "persistent") {
			s := p.i
			f := &natFlag{Name: p.next().Value}
			f.span = p.span(s)
			x.Flags = append(x.Flags, f)
		}
		a = x
	case "notrack", "trace":
		a = &simpleAction{Kind: p.kw(t.Value)}
	case "tos", "ttl":
		x := &headerSetAction{Field: p.kw(t.Value)}
		p.expect("set")
		x.Value = p.value()
		a = x
	default:
		return nil
	}
	a.setSpan(p.span(start))
	return a
}

func (s *span) setSpan(v span) { *s = v }
