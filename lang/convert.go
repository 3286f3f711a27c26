package lang

import (
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
)

// converter turns participle's concrete syntax into ast nodes, the one step
// between the two.
type converter struct {
	file  string
	lines *lineIndex
	diags *diag.Diagnostics
	// stmtStart is the offset of the first token of the declaration
	// being parsed, for error messages.
	stmtStart int
	// text is the file's source, and stmtPos where the declaration being
	// parsed starts (after the previous one's terminator).
	text    string
	stmtPos lexer.Position
	// fast is the fast path, kept for its buffers.
	fast     fastParser
	fastMode fastMode
	fastHits int
	// opens holds the "{" tokens not closed yet, innermost last.
	opens []lexer.Token
}

func (cv *converter) rng(s span) diag.Range {
	return cv.lines.rng(cv.file, s.Pos.Offset, s.EndPos.Offset)
}

func (cv *converter) tokRange(t lexer.Token) diag.Range {
	return cv.lines.rng(cv.file, t.Pos.Offset, t.Pos.Offset+len(t.Value))
}

func (cv *converter) through(a, b diag.Range) diag.Range {
	a.End = b.End
	return a
}

func (cv *converter) ident(i *ident) ast.Ident {
	return ast.Ident{Range: cv.rng(i.span), Name: i.Name}
}

func (cv *converter) identP(i *ident) *ast.Ident {
	if i == nil {
		return nil
	}
	id := cv.ident(i)
	return &id
}

// kw returns the keyword token of a capture. participle hands a capture
// the raw tokens it spans, which may start with elided whitespace.
func kw(toks []lexer.Token) (lexer.Token, bool) {
	for _, t := range toks {
		if t.Type != tokSpace && t.Type != tokComment {
			return t, true
		}
	}
	return lexer.Token{}, false
}

func (cv *converter) tokIdent(toks []lexer.Token) ast.Ident {
	t, _ := kw(toks)
	return ast.Ident{Range: cv.tokRange(t), Name: t.Value}
}

func (cv *converter) tokIdentP(toks []lexer.Token) *ast.Ident {
	if _, ok := kw(toks); !ok {
		return nil
	}
	id := cv.tokIdent(toks)
	return &id
}

func (cv *converter) str(s *str) *ast.Lit {
	if s == nil {
		return nil
	}
	return &ast.Lit{Range: cv.rng(s.span), Kind: ast.String, Text: unquote(s.Text)}
}

// unquote removes the quotes and the two escapes the lexer allows.
func unquote(s string) string {
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// quote is the inverse of unquote.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (cv *converter) dup(seen map[string]bool, key string, r diag.Range) bool {
	if seen[key] {
		cv.diags.Add(diag.Error, "FW0003", r, fmt.Sprintf("%s given twice", key),
			"Each of these items may appear once in its block; the first one is used.")
		return true
	}
	seen[key] = true
	return false
}

// Declarations.

func (cv *converter) decl(d decl) ast.Decl {
	switch d := d.(type) {
	case *includeDecl:
		return &ast.Include{Range: cv.rng(d.span), Path: cv.str(d.Path)}
	case *defineDecl:
		return &ast.Define{Range: cv.rng(d.span), Name: cv.ident(d.Name), Values: cv.values(d.Values)}
	case *zoneDecl:
		z := &ast.Zone{Range: cv.rng(d.span), Name: cv.ident(d.Name)}
		for _, it := range d.Items {
			z.Items = append(z.Items, &ast.ZoneItem{Range: cv.rng(it.span), Key: cv.tokIdent(it.Key), Values: cv.values(it.Values)})
		}
		return z
	case *sysctlDecl:
		return &ast.Sysctl{Range: cv.rng(d.span), Key: cv.ident(d.Key), Value: cv.value(d.Value)}
	case *serviceDecl:
		return &ast.Service{Range: cv.rng(d.span), Name: cv.ident(d.Name), Values: cv.values(d.Values)}
	case *setDecl:
		return cv.set(d)
	case *policyDecl:
		return &ast.Policy{Range: cv.rng(d.span), From: cv.ident(d.From), To: cv.ident(d.To), Actions: cv.actions(d.Actions)}
	case *zoneRule:
		return &ast.Rule{Range: cv.rng(d.span), From: cv.identP(d.From), To: cv.identP(d.To),
			Matches: cv.matches(d.Matches), Actions: cv.actions(d.Actions)}
	case *tableDecl:
		t := &ast.Table{Range: cv.rng(d.span), Name: cv.ident(d.Name)}
		for _, c := range d.Chains {
			t.Chains = append(t.Chains, cv.chain(c))
		}
		return t
	case *routeDecl:
		return cv.route(d)
	case *balanceDecl:
		return cv.balance(d)
	case *assertDecl:
		a := &ast.Assert{Range: cv.rng(d.span), From: cv.ident(d.From), To: cv.ident(d.To),
			Matches: cv.matches(d.Matches), Verdict: cv.tokIdent(d.Verdict)}
		if len(d.Management) > 0 {
			a.Management, a.ManagementRange = true, cv.tokIdent(d.Management).Range
		}
		return a
	}
	panic(fmt.Sprintf("lang: unhandled declaration %T", d))
}

func (cv *converter) set(d *setDecl) *ast.Set {
	s := &ast.Set{Range: cv.rng(d.span), Name: cv.ident(d.Name)}
	for _, t := range d.Type {
		// "ipv4_addr.port" lexes as one dotted word; it is two type parts.
		// A part that is no name ("a.0") keeps the word whole: the checker
		// reports it as an unknown type, and fmt prints it as written.
		parts := strings.Split(t.Name, ".")
		if slices.ContainsFunc(parts, func(p string) bool { return p == "" || !isNameStart(p[0]) }) {
			parts = []string{t.Name}
		}
		off := t.Pos.Offset
		for _, part := range parts {
			s.Type = append(s.Type, ast.Ident{Range: cv.lines.rng(cv.file, off, off+len(part)), Name: part})
			off += len(part) + 1
		}
	}
	seen := map[string]bool{}
	for _, it := range d.Items {
		r := cv.rng(it.span)
		switch {
		case it.Timeout != nil:
			if !cv.dup(seen, "timeout", r) {
				s.Timeout = cv.value(it.Timeout)
				s.ItemOrder = append(s.ItemOrder, "timeout")
			}
		case it.Size != nil:
			if !cv.dup(seen, "size", r) {
				s.Size = cv.value(it.Size)
				s.ItemOrder = append(s.ItemOrder, "size")
			}
		case it.Dynamic:
			if !cv.dup(seen, "dynamic", r) {
				s.Dynamic = r
				s.ItemOrder = append(s.ItemOrder, "dynamic")
			}
		case it.Elements != nil:
			if !cv.dup(seen, "elements", r) {
				s.HasElements = true
				s.ItemOrder = append(s.ItemOrder, "elements")
				for _, e := range it.Elements.Elems {
					el := &ast.SetElem{Range: cv.rng(e.span), Value: cv.concat(e.Value)}
					if e.Timeout != nil {
						el.Timeout = cv.value(e.Timeout)
					}
					s.Elements = append(s.Elements, el)
				}
			}
		}
	}
	return s
}

func (cv *converter) chain(c *chainDecl) *ast.Chain {
	ch := &ast.Chain{Range: cv.rng(c.span), Name: cv.ident(c.Name), Policy: cv.identP(c.Policy)}
	if p := c.Priority; p != nil {
		text := p.Number
		if p.Neg {
			text = "-" + text
		}
		ch.Priority = &ast.Lit{Range: cv.rng(p.span), Kind: ast.Number, Text: text}
	}
	ch.Rules = c.converted
	for _, r := range c.Rules {
		ch.Rules = append(ch.Rules, cv.chainRule(r))
	}
	return ch
}

func (cv *converter) chainRule(r *chainRule) *ast.Rule {
	return &ast.Rule{Range: cv.rng(r.span), Matches: cv.matches(r.Matches), Actions: cv.actions(r.Actions)}
}

func (cv *converter) route(d *routeDecl) *ast.Route {
	rt := &ast.Route{Range: cv.rng(d.span), Name: cv.ident(d.Name)}
	seen := map[string]bool{}
	one := func(key string, r diag.Range, dst *ast.Value, v *value) {
		if !cv.dup(seen, key, r) {
			*dst = cv.value(v)
			rt.ItemOrder = append(rt.ItemOrder, key)
		}
	}
	for _, it := range d.Items {
		r := cv.rng(it.span)
		switch {
		case it.Mark != nil:
			one("mark", r, &rt.Mark, it.Mark)
		case it.Table != nil:
			one("table", r, &rt.Table, it.Table)
		case it.Priority != nil:
			one("priority", r, &rt.Priority, it.Priority)
		case it.Entry != nil:
			e := &ast.RouteEntry{Range: cv.rng(it.Entry.span), Dest: cv.value(it.Entry.Dest)}
			if it.Entry.Via != nil {
				e.Via = cv.value(it.Entry.Via)
			}
			if it.Entry.Dev != nil {
				e.Dev = cv.value(it.Entry.Dev)
			}
			rt.Routes = append(rt.Routes, e)
			rt.ItemOrder = append(rt.ItemOrder, "route")
		}
	}
	return rt
}

func (cv *converter) balance(d *balanceDecl) *ast.Balance {
	b := &ast.Balance{Range: cv.rng(d.span), Name: cv.ident(d.Name)}
	seen := map[string]bool{}
	for _, it := range d.Items {
		r := cv.rng(it.span)
		switch {
		case it.Address != nil:
			if !cv.dup(seen, "address", r) {
				b.Address = cv.value(it.Address)
				b.ItemOrder = append(b.ItemOrder, "address")
			}
		case it.Service != nil:
			if !cv.dup(seen, "service", r) {
				b.Service = cv.value(it.Service)
				b.ItemOrder = append(b.ItemOrder, "service")
			}
		case it.Endpoints != nil:
			if !cv.dup(seen, "endpoints", r) {
				b.Endpoints = cv.values(it.Endpoints)
				b.ItemOrder = append(b.ItemOrder, "endpoints")
			}
		case it.Masquerade:
			if !cv.dup(seen, "masquerade", r) {
				b.Masquerade = true
				b.MasqueradeRange = r
				b.ItemOrder = append(b.ItemOrder, "masquerade")
			}
		}
	}
	return b
}

// Values.

func (cv *converter) values(l *valueList) []ast.Value {
	if l == nil {
		return nil
	}
	out := make([]ast.Value, 0, len(l.Items))
	for _, c := range l.Items {
		out = append(out, cv.concat(c))
	}
	return out
}

func (cv *converter) concat(c *concat) ast.Value {
	if len(c.Parts) == 1 {
		return cv.value(c.Parts[0])
	}
	out := &ast.Concat{Range: cv.rng(c.span)}
	for _, p := range c.Parts {
		out.Parts = append(out.Parts, cv.value(p))
	}
	return out
}

func (cv *converter) value(v *value) ast.Value {
	if v == nil {
		return nil
	}
	cur := cv.rangeVal(v.Left)
	for _, op := range v.Rest {
		right := cv.rangeVal(op.Right)
		cur = &ast.BinOp{Range: cv.through(cur.Span(), right.Span()), Left: cur, Op: op.Op, Right: right}
	}
	return cur
}

func (cv *converter) rangeVal(r *rangeVal) ast.Value {
	from := cv.atom(r.From)
	if r.To == nil {
		return from
	}
	return &ast.BinOp{Range: cv.rng(r.span), Left: from, Op: "-", Right: cv.atom(r.To)}
}

func (cv *converter) atom(a *atom) ast.Value {
	r := cv.rng(a.span)
	lit := func(k ast.LitKind, text string) *ast.Lit { return &ast.Lit{Range: r, Kind: k, Text: text} }
	switch {
	case a.Number != nil:
		return lit(ast.Number, *a.Number)
	case a.IPv4 != nil:
		return lit(ast.IPv4, *a.IPv4)
	case a.IPv6 != nil:
		return lit(ast.IPv6, *a.IPv6)
	case a.BrIPv6 != nil:
		l := lit(ast.IPv6, *a.BrIPv6)
		l.Bracketed = true
		return l
	case a.Duration != nil:
		return lit(ast.Duration, *a.Duration)
	case a.String != nil:
		return lit(ast.String, unquote(*a.String))
	case a.Word != nil:
		return lit(ast.Word, *a.Word)
	case a.SetRef != nil:
		return &ast.Ref{Range: r, Sigil: '@', Name: *a.SetRef}
	case a.DefRef != nil:
		return &ast.Ref{Range: r, Sigil: '$', Name: *a.DefRef}
	case a.List != nil:
		l := &ast.List{Range: r, Elems: []ast.Value{}}
		for _, c := range a.List.Items {
			l.Elems = append(l.Elems, cv.concat(c))
		}
		return l
	}
	panic("lang: empty atom")
}

// Matches.

func (cv *converter) matches(ms []match) []ast.Match {
	out := make([]ast.Match, 0, len(ms))
	for _, m := range ms {
		out = append(out, cv.match(m))
	}
	return out
}

func (cv *converter) match(m match) ast.Match {
	switch m := m.(type) {
	case *concatMatch:
		out := &ast.ConcatMatch{Range: cv.rng(m.span), Neg: m.Neg,
			Set: &ast.Ref{Range: cv.rng(m.Set.span), Sigil: '@', Name: m.Set.Name}}
		for _, k := range m.Keys {
			if len(k.Proto) > 0 {
				out.Keys = append(out.Keys, cv.tokIdent(k.Port))
				p := cv.tokIdent(k.Proto)
				if out.Proto == nil {
					out.Proto = &p
				} else if out.Proto.Name != p.Name {
					cv.diags.Add(diag.Error, "FW0004", p.Range,
						fmt.Sprintf("lookup mixes protocols %s and %s", out.Proto.Name, p.Name),
						"The ports of one concatenated lookup all belong to one protocol.",
						diag.Related{Message: "first protocol", Range: out.Proto.Range})
				}
			} else {
				out.Keys = append(out.Keys, cv.tokIdent(k.Key))
			}
		}
		return out
	case *addrMatch:
		return &ast.AddrMatch{Range: cv.rng(m.span), Key: cv.tokIdent(m.Key), Neg: m.Neg, Values: cv.values(m.Values)}
	case *protoMatch:
		return &ast.ProtoMatch{Range: cv.rng(m.span), Neg: m.Neg, Values: cv.values(m.Values)}
	case *tcpFlagsMatch:
		out := &ast.TCPFlagsMatch{Range: cv.rng(m.span), Neg: m.Neg}
		if len(m.Syn) > 0 {
			// `tcp syn` is `tcp flags syn / fin|syn|rst|ack`; the implied
			// names point at the word "syn".
			r := cv.tokIdent(m.Syn).Range
			out.Short = true
			out.Flags = []ast.Ident{{Range: r, Name: "syn"}}
			for _, n := range []string{"fin", "syn", "rst", "ack"} {
				out.Mask = append(out.Mask, ast.Ident{Range: r, Name: n})
			}
			return out
		}
		for _, f := range m.Flags {
			out.Flags = append(out.Flags, cv.ident(f))
		}
		for _, f := range m.Mask {
			out.Mask = append(out.Mask, cv.ident(f))
		}
		return out
	case *portMatch:
		return &ast.PortMatch{Range: cv.rng(m.span), Proto: cv.tokIdentP(m.Proto), Key: cv.tokIdent(m.Key), Neg: m.Neg, Values: cv.values(m.Values)}
	case *fieldMatch:
		out := &ast.FieldMatch{Range: cv.rng(m.span), Name: cv.tokIdent([]lexer.Token{m.Head.Name}), Neg: m.Neg, Values: cv.values(m.Values)}
		if m.Head.Sub != nil {
			out.Sub = cv.tokIdentP([]lexer.Token{*m.Head.Sub})
		}
		return out
	case *ifaceMatch:
		return &ast.IfaceMatch{Range: cv.rng(m.span), Key: cv.tokIdent(m.Key), Neg: m.Neg, Values: cv.values(m.Values)}
	case *serviceMatch:
		return &ast.ServiceMatch{Range: cv.rng(m.span), Neg: m.Neg, Values: cv.values(m.Values)}
	case *icmpMatch:
		return &ast.ICMPMatch{Range: cv.rng(m.span), Proto: cv.tokIdent(m.Proto), Neg: m.Neg, Values: cv.values(m.Values)}
	case *ctMatch:
		return &ast.CtMatch{Range: cv.rng(m.span), Key: cv.tokIdent(m.Key), Neg: m.Neg, Values: cv.values(m.Values)}
	case *markMatch:
		out := &ast.MarkMatch{Range: cv.rng(m.span), Ct: m.Ct, Neg: m.Neg, Route: cv.identP(m.Route)}
		if m.Value != nil {
			out.Value = cv.value(m.Value)
		}
		return out
	case *familyMatch:
		return &ast.FamilyMatch{Range: cv.rng(m.span), Family: cv.ident(m.Family)}
	case *limitMatch:
		out := &ast.LimitMatch{Range: cv.rng(m.span), Over: m.Over, Rate: cv.value(m.Rate)}
		if m.Burst != nil {
			out.Burst = cv.value(m.Burst)
		}
		return out
	case *meterMatch:
		out := &ast.MeterMatch{Range: cv.rng(m.span), Name: cv.ident(m.Name), Per: cv.tokIdent(m.Per), Over: m.Over, Rate: cv.value(m.Rate)}
		if m.Mask != nil {
			out.Mask = cv.value(m.Mask)
		}
		if m.Burst != nil {
			out.Burst = cv.value(m.Burst)
		}
		return out
	case *connlimitMatch:
		out := &ast.ConnlimitMatch{Range: cv.rng(m.span), Over: m.Over, Count: cv.value(m.Count)}
		if m.Mask != nil {
			out.Mask = cv.value(m.Mask)
		}
		return out
	case *timeMatch:
		return &ast.TimeMatch{Range: cv.rng(m.span), Key: cv.tokIdent(m.Key), Neg: m.Neg, Values: cv.values(m.Values)}
	case *probabilityMatch:
		return &ast.ProbabilityMatch{Range: cv.rng(m.span), Value: cv.value(m.Value)}
	case *stringMatch:
		return &ast.StringMatch{Range: cv.rng(m.span), Neg: m.Neg, Text: cv.str(m.Text), Algo: cv.identP(m.Algo)}
	}
	panic(fmt.Sprintf("lang: unhandled match %T", m))
}

// Actions.

func (cv *converter) actions(as []action) []ast.Action {
	out := make([]ast.Action, 0, len(as))
	for _, a := range as {
		out = append(out, cv.action(a))
	}
	return out
}

func (cv *converter) action(a action) ast.Action {
	switch a := a.(type) {
	case *verdictAction:
		return &ast.Verdict{Range: cv.rng(a.span), Kind: cv.tokIdent(a.Kind), With: cv.identP(a.With)}
	case *jumpAction:
		return &ast.Jump{Range: cv.rng(a.span), Goto: cv.tokIdent(a.Kind).Name == "goto", Target: cv.ident(a.Target)}
	case *logAction:
		out := &ast.Log{Range: cv.rng(a.span), Prefix: cv.str(a.Prefix)}
		if a.Level != nil {
			out.Level = cv.value(a.Level)
		}
		for _, f := range a.Flags {
			out.Flags = append(out.Flags, cv.ident(f))
		}
		return out
	case *counterAction:
		return &ast.Counter{Range: cv.rng(a.span)}
	case *markSetAction:
		return &ast.MarkSet{Range: cv.rng(a.span), Ct: cv.tokIdent(a.Kind).Name != "mark", Value: cv.value(a.Value)}
	case *connmarkAction:
		out := &ast.Connmark{Range: cv.rng(a.span), Op: cv.tokIdent(a.Op)}
		if a.Mask != nil {
			out.Mask = cv.value(a.Mask)
		}
		return out
	case *routeAction:
		return &ast.RouteAction{Range: cv.rng(a.span), Name: cv.ident(a.Name)}
	case *natAction:
		out := &ast.NAT{Range: cv.rng(a.span), Kind: cv.tokIdent(a.Kind)}
		if a.To != nil {
			out.To = cv.value(a.To)
		}
		for _, f := range a.Flags {
			out.Flags = append(out.Flags, ast.Ident{Range: cv.rng(f.span), Name: f.Name})
		}
		return out
	case *simpleAction:
		return &ast.Simple{Range: cv.rng(a.span), Kind: cv.tokIdent(a.Kind)}
	case *headerSetAction:
		return &ast.HeaderSet{Range: cv.rng(a.span), Field: cv.tokIdent(a.Field), Value: cv.value(a.Value)}
	}
	panic(fmt.Sprintf("lang: unhandled action %T", a))
}

// isNameStart reports whether c can begin a name (a Word token).
func isNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
