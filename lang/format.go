package lang

import (
	"bytes"
	"math"
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
)

// Format prints a file in canonical layout, keeping comments. Idempotent.
//
// One declaration per line; a block opens on its header line, holds one
// item per line indented by one tab, and closes with "}" on its own line.
// Lists print as "a, b", braced lists as "{ a, b }", operators without
// spaces ("tcp/22", "1000-2000", "10.0.0.1:80") unless the tokens would
// run together, concatenations as "a . b". At most one blank line is kept
// where the source had any between two items of a block. A comment on a
// line of its own stays before the next item, at that item's indentation;
// a comment at the end of a line stays at the end of that item's line; a
// comment inside a multi-line item moves to a line of its own before it.
func Format(f *ast.File) []byte {
	p := &printer{comments: f.Comments}
	items := make([]item, 0, len(f.Decls))
	for _, d := range f.Decls {
		items = append(items, p.decl(d))
	}
	prev := p.seq(items, math.MaxInt)
	p.rest(prev, math.MaxInt)
	return p.buf.Bytes()
}

type printer struct {
	buf      bytes.Buffer
	comments []*ast.Comment
	next     int // first comment not printed yet
	depth    int
}

// item is one line or block of output. A zero range means the item has no
// position (an empty elements list): comments are
// not placed relative to it.
type item struct {
	r diag.Range
	// line is the text of a one-line item; block prints a block from its
	// header to its closing brace (without the final newline) instead.
	line  string
	block func(limit int)
	// passLimit, for a block whose range is synthesized from its children
	// (elements), hands the enclosing limit on to its last child: a
	// comment after the last element belongs to that element's line.
	passLimit bool
}

func (p *printer) peek() *ast.Comment {
	if p.next < len(p.comments) {
		return p.comments[p.next]
	}
	return nil
}

func (p *printer) indent() {
	for range p.depth {
		p.buf.WriteByte('\t')
	}
}

func (p *printer) comment(c *ast.Comment) {
	p.indent()
	p.buf.WriteString(strings.TrimRight(c.Text, " \t"))
	p.buf.WriteByte('\n')
	p.next++
}

// blank writes an empty line if the source had one between the line last
// printed (prev, 0 for none in this block) and line.
func (p *printer) blank(prev, line int) {
	if prev > 0 && line-prev > 1 {
		p.buf.WriteByte('\n')
	}
}

// trailing appends the comment that ends the source line where end is, if
// it comes before limit.
func (p *printer) trailing(end diag.Pos, limit int) {
	if c := p.peek(); c != nil && c.Start.Line == end.Line && c.Start.Byte >= end.Byte && c.Start.Byte < limit {
		p.buf.WriteString(" " + strings.TrimRight(c.Text, " \t"))
		p.next++
	}
}

// seq prints the items of one block (or the file) and returns the source
// line where the last one ended. limit bounds the last item's trailing
// comment.
func (p *printer) seq(items []item, limit int) int {
	prev := 0
	for i, it := range items {
		lim := limit
		for _, n := range items[i+1:] {
			if n.r.Start.Line > 0 {
				lim = n.r.Start.Byte
				break
			}
		}
		if it.r.Start.Line == 0 {
			p.indent()
			p.buf.WriteString(it.line)
			p.buf.WriteByte('\n')
			continue
		}
		for c := p.peek(); c != nil && c.Start.Byte < it.r.Start.Byte; c = p.peek() {
			p.blank(prev, c.Start.Line)
			p.comment(c)
			prev = c.Start.Line
		}
		p.blank(prev, it.r.Start.Line)
		if it.block != nil {
			inner := it.r.End.Byte
			if it.passLimit {
				inner = lim
			}
			it.block(inner)
		} else {
			for c := p.peek(); c != nil && c.Start.Byte < it.r.End.Byte; c = p.peek() {
				p.comment(c)
			}
			p.indent()
			p.buf.WriteString(it.line)
		}
		p.trailing(it.r.End, lim)
		p.buf.WriteByte('\n')
		prev = it.r.End.Line
	}
	return prev
}

// rest prints the comments left before limit, each on its own line.
func (p *printer) rest(prev, limit int) {
	for c := p.peek(); c != nil && c.Start.Byte < limit; c = p.peek() {
		p.blank(prev, c.Start.Line)
		p.comment(c)
		prev = c.Start.Line
	}
}

// blockItem is a block: header line, children one level deeper, "}".
func (p *printer) blockItem(r diag.Range, header string, children func() []item) item {
	return item{r: r, block: func(limit int) {
		kids := children()
		p.indent()
		p.buf.WriteString(header + " {")
		first := r.End.Byte
		for _, k := range kids {
			if k.r.Start.Line > 0 {
				first = k.r.Start.Byte
				break
			}
		}
		if c := p.peek(); c != nil && c.Start.Line == r.Start.Line && c.Start.Byte < first {
			p.buf.WriteString(" " + strings.TrimRight(c.Text, " \t"))
			p.next++
		}
		p.buf.WriteByte('\n')
		p.depth++
		prev := p.seq(kids, limit)
		p.rest(prev, r.End.Byte)
		p.depth--
		p.indent()
		p.buf.WriteString("}")
	}}
}

// Declarations.

func (p *printer) decl(d ast.Decl) item {
	switch d := d.(type) {
	case *ast.Include:
		return item{r: d.Range, line: "include " + p.value(d.Path)}
	case *ast.Define:
		return item{r: d.Range, line: "define " + d.Name.Name + " = " + p.values(d.Values)}
	case *ast.Zone:
		return p.blockItem(d.Range, "zone "+d.Name.Name, func() []item {
			var kids []item
			for _, it := range d.Items {
				kids = append(kids, item{r: it.Range, line: it.Key.Name + " " + p.values(it.Values)})
			}
			return kids
		})
	case *ast.Sysctl:
		return item{r: d.Range, line: "sysctl " + d.Key.Name + " = " + p.value(d.Value)}
	case *ast.Service:
		return item{r: d.Range, line: "service " + d.Name.Name + " = " + p.values(d.Values)}
	case *ast.Set:
		return p.set(d)
	case *ast.Policy:
		return item{r: d.Range, line: "policy " + d.From.Name + " -> " + d.To.Name + " " + p.actions(d.Actions)}
	case *ast.Rule:
		return item{r: d.Range, line: p.rule(d)}
	case *ast.Table:
		return p.blockItem(d.Range, "table "+d.Name.Name, func() []item {
			var kids []item
			for _, c := range d.Chains {
				kids = append(kids, p.chain(c))
			}
			return kids
		})
	case *ast.Route:
		return p.route(d)
	case *ast.Balance:
		return p.balance(d)
	case *ast.Assert:
		parts := []string{"assert"}
		if d.Management {
			parts = append(parts, "management")
		}
		parts = append(parts, "from "+d.From.Name+" to "+d.To.Name)
		for _, m := range d.Matches {
			parts = append(parts, p.match(m))
		}
		parts = append(parts, d.Verdict.Name)
		return item{r: d.Range, line: strings.Join(parts, " ")}
	}
	return item{line: "# fwc fmt: unknown declaration"}
}

func (p *printer) rule(r *ast.Rule) string {
	var parts []string
	if r.From != nil && r.To != nil {
		parts = append(parts, "from "+r.From.Name+" to "+r.To.Name)
	}
	for _, m := range r.Matches {
		parts = append(parts, p.match(m))
	}
	parts = append(parts, p.actions(r.Actions))
	return strings.Join(parts, " ")
}

func (p *printer) chain(c *ast.Chain) item {
	h := "chain " + c.Name.Name
	if c.Policy != nil {
		h += " policy " + c.Policy.Name
	}
	if c.Priority != nil {
		h += " priority " + p.value(c.Priority)
	}
	return p.blockItem(c.Range, h, func() []item {
		var kids []item
		for _, r := range c.Rules {
			kids = append(kids, item{r: r.Range, line: p.rule(r)})
		}
		return kids
	})
}

// elemsInline is how long an elements list may get on one line.
const elemsInline = 80

func (p *printer) set(s *ast.Set) item {
	var types []string
	for _, t := range s.Type {
		types = append(types, t.Name)
	}
	h := "set " + s.Name.Name + " : " + strings.Join(types, " . ")
	if len(s.ItemOrder) == 0 {
		return item{r: s.Range, line: h}
	}
	return p.blockItem(s.Range, h, func() []item {
		var kids []item
		for _, key := range s.ItemOrder {
			switch key {
			case "timeout":
				kids = append(kids, item{r: s.Timeout.Span(), line: "timeout " + p.value(s.Timeout)})
			case "size":
				kids = append(kids, item{r: s.Size.Span(), line: "size " + p.value(s.Size)})
			case "dynamic":
				kids = append(kids, item{r: s.Dynamic, line: "dynamic"})
			case "elements":
				kids = append(kids, p.elements(s.Elements))
			}
		}
		return kids
	})
}

func (p *printer) elements(es []*ast.SetElem) item {
	if len(es) == 0 {
		return item{line: "elements {}"}
	}
	r := es[0].Range
	r.End = es[len(es)-1].End
	texts := make([]string, len(es))
	n := 0
	for i, e := range es {
		texts[i] = p.value(e.Value)
		if e.Timeout != nil {
			texts[i] += " timeout " + p.value(e.Timeout)
		}
		n += len(texts[i]) + 2
	}
	inside := false
	for _, c := range p.comments[p.next:] {
		if c.Start.Byte >= r.End.Byte {
			break
		}
		inside = inside || c.Start.Byte >= r.Start.Byte
	}
	if !inside && n <= elemsInline {
		return item{r: r, line: "elements { " + strings.Join(texts, ", ") + " }"}
	}
	it := p.blockItem(r, "elements", func() []item {
		kids := make([]item, len(es))
		for i, e := range es {
			kids[i] = item{r: e.Range, line: texts[i]}
			if i < len(es)-1 {
				kids[i].line += ","
			}
		}
		return kids
	})
	it.passLimit = true
	return it
}

func (p *printer) route(rt *ast.Route) item {
	return p.blockItem(rt.Range, "route "+rt.Name.Name, func() []item {
		var kids []item
		entry := 0
		for _, key := range rt.ItemOrder {
			switch key {
			case "mark":
				kids = append(kids, item{r: rt.Mark.Span(), line: "mark " + p.value(rt.Mark)})
			case "table":
				kids = append(kids, item{r: rt.Table.Span(), line: "table " + p.value(rt.Table)})
			case "priority":
				kids = append(kids, item{r: rt.Priority.Span(), line: "priority " + p.value(rt.Priority)})
			case "route":
				if entry < len(rt.Routes) {
					e := rt.Routes[entry]
					entry++
					line := p.value(e.Dest)
					if e.Via != nil {
						line += " via " + p.value(e.Via)
					}
					if e.Dev != nil {
						line += " dev " + p.value(e.Dev)
					}
					kids = append(kids, item{r: e.Range, line: line})
				}
			}
		}
		return kids
	})
}

func (p *printer) balance(b *ast.Balance) item {
	return p.blockItem(b.Range, "balance "+b.Name.Name, func() []item {
		var kids []item
		for _, key := range b.ItemOrder {
			switch key {
			case "address":
				kids = append(kids, item{r: b.Address.Span(), line: "address " + p.value(b.Address)})
			case "service":
				kids = append(kids, item{r: b.Service.Span(), line: "service " + p.value(b.Service)})
			case "endpoints":
				r := diag.Range{}
				if len(b.Endpoints) > 0 {
					r = b.Endpoints[0].Span()
					r.End = b.Endpoints[len(b.Endpoints)-1].Span().End
				}
				kids = append(kids, item{r: r, line: "endpoints " + p.values(b.Endpoints)})
			case "masquerade":
				kids = append(kids, item{r: b.MasqueradeRange, line: "masquerade"})
			}
		}
		return kids
	})
}

// Matches and actions.

func neg(n bool) string {
	if n {
		return "!= "
	}
	return ""
}

func names(ids []ast.Ident, sep string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.Name
	}
	return strings.Join(s, sep)
}

func (p *printer) match(m ast.Match) string {
	switch m := m.(type) {
	case *ast.AddrMatch:
		return m.Key.Name + " " + neg(m.Neg) + p.values(m.Values)
	case *ast.ProtoMatch:
		return "proto " + neg(m.Neg) + p.values(m.Values)
	case *ast.PortMatch:
		s := m.Key.Name + " " + neg(m.Neg) + p.values(m.Values)
		if m.Proto != nil {
			s = m.Proto.Name + " " + s
		}
		return s
	case *ast.FieldMatch:
		s := m.Name.Name + " "
		if m.Sub != nil {
			s += m.Sub.Name + " "
		}
		return s + neg(m.Neg) + p.values(m.Values)
	case *ast.IfaceMatch:
		return m.Key.Name + " " + neg(m.Neg) + p.values(m.Values)
	case *ast.ServiceMatch:
		return "service " + neg(m.Neg) + p.values(m.Values)
	case *ast.ICMPMatch:
		return m.Proto.Name + " type " + neg(m.Neg) + p.values(m.Values)
	case *ast.TCPFlagsMatch:
		if m.Short {
			return "tcp syn"
		}
		s := "tcp flags " + neg(m.Neg) + names(m.Flags, "|")
		if m.Mask != nil {
			s += " / " + names(m.Mask, "|")
		}
		return s
	case *ast.CtMatch:
		return "ct " + m.Key.Name + " " + neg(m.Neg) + p.values(m.Values)
	case *ast.MarkMatch:
		s := "mark "
		if m.Ct {
			s = "ct mark "
		}
		if m.Route != nil {
			return s + "route " + m.Route.Name
		}
		return s + neg(m.Neg) + p.value(m.Value)
	case *ast.FamilyMatch:
		return "family " + m.Family.Name
	case *ast.LimitMatch:
		s := "limit "
		if m.Over {
			s += "over "
		}
		s += p.value(m.Rate)
		if m.Burst != nil {
			s += " burst " + p.value(m.Burst)
		}
		return s
	case *ast.MeterMatch:
		s := "meter " + m.Name.Name + " per " + m.Per.Name
		if m.Mask != nil {
			s += " mask " + p.value(m.Mask)
		}
		if m.Over {
			s += " over"
		}
		s += " " + p.value(m.Rate)
		if m.Burst != nil {
			s += " burst " + p.value(m.Burst)
		}
		return s
	case *ast.ConnlimitMatch:
		s := "connlimit "
		if m.Over {
			s += "over "
		}
		s += p.value(m.Count)
		if m.Mask != nil {
			s += " mask " + p.value(m.Mask)
		}
		return s
	case *ast.TimeMatch:
		return m.Key.Name + " " + neg(m.Neg) + p.values(m.Values)
	case *ast.ProbabilityMatch:
		return "probability " + p.value(m.Value)
	case *ast.StringMatch:
		s := "string " + neg(m.Neg) + p.value(m.Text)
		if m.Algo != nil {
			s += " algo " + m.Algo.Name
		}
		return s
	case *ast.ConcatMatch:
		keys := make([]string, len(m.Keys))
		proto := m.Proto != nil
		for i, k := range m.Keys {
			keys[i] = k.Name
			if proto && (k.Name == "sport" || k.Name == "dport") {
				keys[i] = m.Proto.Name + " " + k.Name
				proto = false
			}
		}
		s := strings.Join(keys, " . ") + " "
		if m.Neg {
			s += "!= "
		}
		return s + p.value(m.Set)
	}
	return "# unknown match"
}

func (p *printer) actions(as []ast.Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = p.action(a)
	}
	return strings.Join(s, " ")
}

func (p *printer) action(a ast.Action) string {
	switch a := a.(type) {
	case *ast.Verdict:
		if a.With != nil {
			return a.Kind.Name + " with " + a.With.Name
		}
		return a.Kind.Name
	case *ast.Jump:
		if a.Goto {
			return "goto " + a.Target.Name
		}
		return "jump " + a.Target.Name
	case *ast.Log:
		s := "log"
		if a.Prefix != nil {
			s += " prefix " + p.value(a.Prefix)
		}
		if a.Level != nil {
			s += " level " + p.value(a.Level)
		}
		if len(a.Flags) > 0 {
			s += " flags " + names(a.Flags, ", ")
		}
		return s
	case *ast.Counter:
		return "counter"
	case *ast.MarkSet:
		if a.Ct {
			return "connmark set " + p.value(a.Value)
		}
		return "mark set " + p.value(a.Value)
	case *ast.Connmark:
		s := "connmark " + a.Op.Name
		if a.Mask != nil {
			s += " mask " + p.value(a.Mask)
		}
		return s
	case *ast.RouteAction:
		return "route " + a.Name.Name
	case *ast.NAT:
		s := a.Kind.Name
		if a.To != nil {
			s += " to "
			if a.Kind.Name != "redirect" && portsOnly(a.To) {
				s += ":"
			}
			s += p.value(a.To)
		}
		for _, f := range a.Flags {
			s += " " + f.Name
		}
		return s
	case *ast.Simple:
		return a.Kind.Name
	case *ast.HeaderSet:
		return a.Field.Name + " set " + p.value(a.Value)
	}
	return "# unknown action"
}

// portsOnly reports whether a NAT target is a port or port range without
// an address, which is written after a ':'.
func portsOnly(v ast.Value) bool {
	switch v := v.(type) {
	case *ast.Lit:
		return v.Kind == ast.Number
	case *ast.BinOp:
		return v.Op == "-" && portsOnly(v.Left) && portsOnly(v.Right)
	}
	return false
}

// Values.

func (p *printer) values(vs []ast.Value) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = p.value(v)
	}
	return strings.Join(s, ", ")
}

func (p *printer) value(v ast.Value) string {
	switch v := v.(type) {
	case *ast.Lit:
		switch {
		case v.Kind == ast.String:
			return quote(v.Text)
		case v.Bracketed:
			return "[" + v.Text + "]"
		}
		return v.Text
	case *ast.Ref:
		return string(v.Sigil) + v.Name
	case *ast.List:
		if len(v.Elems) == 0 {
			return "{}"
		}
		return "{ " + p.values(v.Elems) + " }"
	case *ast.BinOp:
		return joinOp(p.value(v.Left), v.Op, p.value(v.Right))
	case *ast.Concat:
		s := make([]string, len(v.Parts))
		for i, x := range v.Parts {
			s[i] = p.value(x)
		}
		return strings.Join(s, " . ")
	}
	return ""
}

// joinOp writes an operator without spaces unless the tokens would then run
// together: "x-1" is one word, "fd00::1:80" one IPv6 address.
func joinOp(l, op, r string) string {
	tight := l + op + r
	if tokenStartsAt(tight, len(l)) && tokenStartsAt(tight, len(l)+len(op)) {
		return tight
	}
	return l + " " + op + " " + r
}

func tokenStartsAt(s string, off int) bool {
	toks, err := lexAll("", []byte(s))
	if err != nil {
		return false
	}
	for _, t := range toks {
		if t.Pos.Offset == off {
			return t.Type != tokBad && t.Type != tokBadString
		}
		if t.Pos.Offset > off {
			return false
		}
	}
	return false
}
