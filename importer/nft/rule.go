package nft

import (
	"regexp"
	"strings"

	"github.com/fwcproject/fwc/diag"
)

// ruleParser reads the statements of one rule from its tokens.
type ruleParser struct {
	p     *parser
	ts    []token
	i     int
	rule  *Rule
	depth int
	bad   bool
	// fields lets a value be a field ("ct mark set meta mark").
	fields bool
}

func (r *ruleParser) peek() token {
	if r.i < len(r.ts) {
		return r.ts[r.i]
	}
	end := diag.Range{}
	if len(r.ts) > 0 {
		end = r.ts[len(r.ts)-1].rng
		end.Start = end.End
	}
	return token{kind: tEOF, rng: end}
}

func (r *ruleParser) take() token {
	t := r.peek()
	if r.i < len(r.ts) {
		r.i++
	}
	return t
}

func (r *ruleParser) is(words ...string) bool {
	t := r.peek()
	if t.kind != tWord && t.kind != tPunct {
		return false
	}
	for _, w := range words {
		if t.text == w {
			return true
		}
	}
	return false
}

func (r *ruleParser) fail(t token, format string, args ...any) {
	if !r.bad {
		r.p.errorf(CodeSyntax, t.rng, format, args...)
	}
	r.bad = true
	if r.rule != nil {
		r.rule.Bad = true
	}
}

func (r *ruleParser) parse() {
	for r.i < len(r.ts) && !r.bad {
		if r.peek().kind == tBad {
			r.bad, r.rule.Bad = true, true
			return
		}
		s := r.stmt()
		if s != nil {
			r.rule.Stmts = append(r.rule.Stmts, s)
			if s.Kind == StmtUnknown {
				return
			}
		}
	}
}

var verdicts = map[string]bool{"accept": true, "drop": true, "return": true, "continue": true}

// unknownStmts are statements the model does not look into: the rule is
// kept whole as an unknown statement from there on.
var unknownStmts = map[string]bool{
	"queue": true, "dup": true, "fwd": true, "tproxy": true, "synproxy": true, "xt": true, "flow": true,
	"quota": true, "secmark": true, "osf": true, "socket": true, "numgen": true, "jhash": true,
	"symhash": true, "rt": true, "ipsec": true, "exthdr": true, "tunnel": true, "last": true,
	"set": true, "synproxy;": true,
}

func (r *ruleParser) unknown(t token) *Stmt {
	end := r.ts[len(r.ts)-1].rng
	r.i = len(r.ts)
	return &Stmt{Kind: StmtUnknown, Name: t.text, Range: t.rng.Through(end)}
}

func (r *ruleParser) stmt() *Stmt {
	t := r.peek()
	if t.kind != tWord {
		if t.kind == tPunct && t.text == "@" {
			// A lookup with no field: not nft.
			r.fail(t, "unexpected %q", t.text)
			return nil
		}
		if t.kind == tString {
			r.fail(t, "unexpected string %q", t.text)
			return nil
		}
	}
	switch {
	case verdicts[t.text]:
		r.take()
		return &Stmt{Kind: StmtVerdict, Verdict: t.text, Range: t.rng}
	case t.text == "jump" || t.text == "goto":
		r.take()
		n := r.take()
		if n.kind != tWord && n.kind != tString {
			r.fail(t, "%s needs a chain", t.text)
			return nil
		}
		return &Stmt{Kind: StmtVerdict, Verdict: t.text, Target: n.text, Range: t.rng.Through(n.rng)}
	case t.text == "counter":
		r.take()
		s := &Stmt{Kind: StmtCounter, Range: t.rng}
		for r.is("packets", "bytes", "name") {
			r.take()
			s.Range = s.Range.Through(r.take().rng)
		}
		return s
	case t.text == "comment":
		r.take()
		c := r.take()
		if c.kind != tString && c.kind != tWord {
			r.fail(t, "comment needs a string")
			return nil
		}
		r.rule.Comment = c.text
		return nil
	case t.text == "log":
		return r.log()
	case t.text == "limit":
		return r.limit()
	case t.text == "reject":
		return r.reject()
	case t.text == "snat" || t.text == "dnat" || t.text == "masquerade" || t.text == "redirect":
		return r.nat()
	case t.text == "notrack":
		r.take()
		return &Stmt{Kind: StmtNotrack, Range: t.rng}
	case t.text == "meter":
		return r.meter()
	case t.text == "add" || t.text == "update" || t.text == "delete":
		if r.i+1 < len(r.ts) && r.ts[r.i+1].text == "@" {
			return r.dynset()
		}
	case unknownStmts[t.text]:
		return r.unknown(t)
	}
	left := r.expr()
	if left == nil {
		return nil
	}
	switch {
	case r.is("set"):
		r.take()
		r.fields = true
		v := r.value(false)
		r.fields = false
		if v == nil {
			return nil
		}
		return &Stmt{Kind: StmtMangle, Left: left, Right: v, Range: left.Range.Through(v.Range)}
	case r.is("vmap"):
		r.take()
		v := r.value(true)
		if v == nil {
			return nil
		}
		return &Stmt{Kind: StmtVmap, Left: left, Right: v, Range: left.Range.Through(v.Range)}
	case r.is("map"):
		return r.unknown(r.peek())
	}
	if left.Kind == ExprField && left.Proto == "ct" && left.Name == "count" {
		// "ct count [over] N": the connections of the key, at most N (or
		// more than N with over).
		op := "<="
		if r.is("over") {
			r.take()
			op = ">"
		}
		v := r.take()
		if v.kind != tWord {
			r.fail(v, "ct count needs a number")
			return nil
		}
		return &Stmt{Kind: StmtMatch, Left: left, Op: op, Right: &Expr{Kind: ExprLit, Text: v.text, Range: v.rng}, Range: left.Range.Through(v.rng)}
	}
	op, implicit := "==", true
	if r.is("==", "!=", "<", ">", "<=", ">=", "eq", "ne", "lt", "gt", "le", "ge") {
		o := r.take().text
		op = map[string]string{"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}[o]
		if op == "" {
			op = o
		}
		implicit = false
	}
	if r.peek().kind == tEOF {
		r.fail(r.peek(), "a value is missing after %s", exprText(left))
		return nil
	}
	v := r.value(false)
	if v == nil {
		return nil
	}
	s := &Stmt{Kind: StmtMatch, Left: left, Op: op, Implicit: implicit, Right: v, Range: left.Range.Through(v.Range)}
	// "tcp flags syn / fin,syn,rst,ack": the flags under a mask.
	if r.is("/") {
		r.take()
		m := r.value(false)
		if m == nil {
			return nil
		}
		s.Left = &Expr{Kind: ExprBinop, Op: "&", Args: []*Expr{left, m}, Range: left.Range}
		s.Implicit = false
		s.Range = s.Range.Through(m.Range)
	}
	return s
}

func exprText(e *Expr) string {
	switch e.Kind {
	case ExprField:
		if e.Proto == "meta" && bareMeta[e.Name] {
			return e.Name
		}
		return e.Proto + " " + e.Name
	case ExprLit:
		return e.Text
	}
	return "the expression"
}

// payloadProtos are the headers whose fields a rule can name.
var payloadProtos = map[string]bool{
	"ip": true, "ip6": true, "tcp": true, "udp": true, "udplite": true, "sctp": true, "dccp": true,
	"icmp": true, "icmpv6": true, "igmp": true, "th": true, "ah": true, "esp": true, "comp": true,
	"ether": true, "vlan": true, "arp": true, "gre": true, "vxlan": true, "geneve": true, "dst": true,
	"hbh": true, "rt": true, "frag": true, "mh": true, "srh": true,
}

// bareMeta are the meta keys nft writes without "meta".
var bareMeta = map[string]bool{
	"iifname": true, "oifname": true, "iif": true, "oif": true, "mark": true, "skuid": true, "skgid": true,
	"iiftype": true, "oiftype": true, "rtclassid": true, "ibrname": true, "obrname": true, "ibriport": true,
	"obriport": true, "pkttype": true, "cpu": true, "iifgroup": true, "oifgroup": true, "cgroup": true,
	"nftrace": true, "priority": true, "l4proto": true, "nfproto": true, "length": true, "day": true,
	"hour": true, "time": true, "random": true, "secpath": true, "ipsec": true,
}

// primaryField reads a packet field: "ip saddr", "meta l4proto",
// "iifname", "ct state", "ct original saddr", "fib daddr type".
func (r *ruleParser) primaryField() *Expr {
	t := r.peek()
	if t.kind != tWord {
		return nil
	}
	switch {
	case payloadProtos[t.text]:
		r.take()
		n := r.peek()
		if n.kind != tWord {
			r.fail(n, "a field of %s is expected", t.text)
			return nil
		}
		r.take()
		// "tcp option", "ip option": header options, and "ip6 hbh" etc.
		// take more words; kept as one name for the converter to refuse.
		name := n.text
		end := n.rng
		if name == "option" {
			for r.peek().kind == tWord && r.i < len(r.ts) && !verdicts[r.peek().text] {
				nt := r.take()
				name += " " + nt.text
				end = nt.rng
				if len(strings.Fields(name)) >= 3 {
					break
				}
			}
		}
		return &Expr{Kind: ExprField, Proto: t.text, Name: name, Range: t.rng.Through(end)}
	case t.text == "meta":
		r.take()
		n := r.take()
		if n.kind != tWord {
			r.fail(n, "a meta key is expected")
			return nil
		}
		return &Expr{Kind: ExprField, Proto: "meta", Name: n.text, Range: t.rng.Through(n.rng)}
	case bareMeta[t.text]:
		r.take()
		return &Expr{Kind: ExprField, Proto: "meta", Name: t.text, Range: t.rng}
	case t.text == "ct":
		r.take()
		n := r.take()
		if n.kind != tWord {
			r.fail(n, "a ct key is expected")
			return nil
		}
		name, end := n.text, n.rng
		if (name == "original" || name == "reply") && r.peek().kind == tWord {
			k := r.take()
			name += " " + k.text
			end = k.rng
		}
		return &Expr{Kind: ExprField, Proto: "ct", Name: name, Range: t.rng.Through(end)}
	case t.text == "fib":
		r.take()
		var words []string
		end := t.rng
		for r.peek().kind == tWord || r.is(".") {
			w := r.take()
			words = append(words, w.text)
			end = w.rng
			if w.text == "type" || w.text == "oif" || w.text == "oifname" {
				break
			}
		}
		return &Expr{Kind: ExprField, Proto: "fib", Name: strings.Join(words, " "), Range: t.rng.Through(end)}
	}
	return nil
}

// expr reads the left side of a match or mangle: fields joined by "."
// (a concatenation) and binary operations.
func (r *ruleParser) expr() *Expr {
	t := r.peek()
	e := r.primaryField()
	if e == nil {
		if r.bad {
			return nil
		}
		if t.kind == tWord && unknownFieldWords[t.text] {
			r.unknown(t)
			return nil
		}
		r.fail(t, "%q is not a statement or field nft has", t.text)
		return nil
	}
	for r.is(".") {
		r.take()
		f := r.primaryField()
		if f == nil {
			r.fail(r.peek(), "a field is expected after \".\"")
			return nil
		}
		if e.Kind != ExprConcat {
			e = &Expr{Kind: ExprConcat, Args: []*Expr{e}, Range: e.Range}
		}
		e.Args = append(e.Args, f)
		e.Range = e.Range.Through(f.Range)
	}
	for r.is("&", "|", "^", "<<", ">>", "and", "or", "xor") {
		op := r.take().text
		if m, ok := map[string]string{"and": "&", "or": "|", "xor": "^"}[op]; ok {
			op = m
		}
		v := r.operand()
		if v == nil {
			return nil
		}
		e = &Expr{Kind: ExprBinop, Op: op, Args: []*Expr{e, v}, Range: e.Range.Through(v.Range)}
	}
	return e
}

var unknownFieldWords = map[string]bool{"osf": true, "socket": true, "numgen": true, "jhash": true, "symhash": true, "ipsec": true, "tunnel": true, "exthdr": true}

// operand is a value after a binary operator: a word or a parenthesized
// value ("(fin|syn|rst|ack)").
func (r *ruleParser) operand() *Expr {
	if r.is("(") {
		open := r.take()
		r.depth++
		if r.depth > maxExprDepth {
			r.fail(open, "expression nested too deep")
			return nil
		}
		v := r.value(false)
		r.depth--
		if v == nil {
			return nil
		}
		if !r.is(")") {
			r.fail(r.peek(), "\")\" expected")
			return nil
		}
		r.take()
		return v
	}
	t := r.take()
	if t.kind != tWord && t.kind != tString {
		r.fail(t, "a value is expected, not %q", t.text)
		return nil
	}
	return &Expr{Kind: ExprLit, Text: t.text, Quoted: t.kind == tString, Range: t.rng}
}

// value reads a value: a word, a string, a set { ... }, @set, a range
// a-b, a concatenation a . b, a binary operation a|b, and (outside braces)
// a comma list a,b of bitmask values.
func (r *ruleParser) value(inBraces bool) *Expr {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxExprDepth {
		r.fail(r.peek(), "expression nested too deep")
		return nil
	}
	e := r.concat()
	if e == nil || inBraces {
		return e
	}
	for r.is(",") {
		r.take()
		v := r.concat()
		if v == nil {
			return nil
		}
		if e.Kind != ExprList {
			e = &Expr{Kind: ExprList, Args: []*Expr{e}, Range: e.Range}
		}
		e.Args = append(e.Args, v)
		e.Range = e.Range.Through(v.Range)
	}
	return e
}

func (r *ruleParser) concat() *Expr {
	e := r.rangeExpr()
	for e != nil && r.is(".") {
		r.take()
		v := r.rangeExpr()
		if v == nil {
			return nil
		}
		if e.Kind != ExprConcat {
			e = &Expr{Kind: ExprConcat, Args: []*Expr{e}, Range: e.Range}
		}
		e.Args = append(e.Args, v)
		e.Range = e.Range.Through(v.Range)
	}
	return e
}

func (r *ruleParser) rangeExpr() *Expr {
	e := r.binop()
	if e != nil && r.is("-") {
		r.take()
		v := r.binop()
		if v == nil {
			return nil
		}
		e = &Expr{Kind: ExprRange, Args: []*Expr{e, v}, Range: e.Range.Through(v.Range)}
	}
	return e
}

func (r *ruleParser) binop() *Expr {
	e := r.primary()
	for e != nil && r.is("|", "&", "^") {
		op := r.take().text
		v := r.primary()
		if v == nil {
			return nil
		}
		e = &Expr{Kind: ExprBinop, Op: op, Args: []*Expr{e, v}, Range: e.Range.Through(v.Range)}
	}
	return e
}

func (r *ruleParser) primary() *Expr {
	t := r.peek()
	switch {
	case t.kind == tBad:
		// Reported where it was made (an undefined $NAME, say).
		r.bad = true
		if r.rule != nil {
			r.rule.Bad = true
		}
		return nil
	case t.kind == tPunct && t.text == "{":
		return r.setExpr()
	case t.kind == tPunct && t.text == "@":
		r.take()
		n := r.take()
		if n.kind != tWord && n.kind != tString {
			r.fail(t, "@ needs a set name")
			return nil
		}
		return &Expr{Kind: ExprSetRef, Text: n.text, Range: t.rng.Through(n.rng)}
	case t.kind == tPunct && t.text == "(":
		return r.operand()
	case t.kind == tWord && (verdicts[t.text] || t.text == "jump" || t.text == "goto"):
		r.take()
		e := &Expr{Kind: ExprVerdict, Text: t.text, Range: t.rng}
		if t.text == "jump" || t.text == "goto" {
			n := r.take()
			if n.kind != tWord && n.kind != tString {
				r.fail(t, "%s needs a chain", t.text)
				return nil
			}
			e.Name = n.text
			e.Range = e.Range.Through(n.rng)
		}
		return e
	case r.fields && t.kind == tWord && payloadProtos[t.text] && r.i+1 < len(r.ts) && r.ts[r.i+1].kind == tWord:
		// A field as a value: "ct mark set meta mark", "meta mark set ct mark".
		if f := r.primaryField(); f != nil {
			return f
		}
		return nil
	case r.fields && t.kind == tWord && (t.text == "meta" || t.text == "ct" || bareMeta[t.text]):
		return r.primaryField()
	case t.kind == tWord, t.kind == tString:
		r.take()
		return &Expr{Kind: ExprLit, Text: t.text, Quoted: t.kind == tString, Range: t.rng}
	}
	r.fail(t, "a value is expected, not %q", t.text)
	return nil
}

// setExpr reads "{ elem, elem, ... }"; an element may be "key : data",
// and carry "timeout T", "expires T", "comment S", "counter ...".
func (r *ruleParser) setExpr() *Expr {
	open := r.take()
	e := &Expr{Kind: ExprSet, Range: open.rng}
	for {
		if r.is("}") {
			e.Range = e.Range.Through(r.take().rng)
			return e
		}
		if r.peek().kind == tEOF {
			r.fail(open, "the set is not closed: \"}\" missing")
			return nil
		}
		el := r.value(true)
		if el == nil {
			return nil
		}
		if r.is(":") {
			r.take()
			d := r.value(true)
			if d == nil {
				return nil
			}
			el = &Expr{Kind: ExprMapElem, Args: []*Expr{el, d}, Range: el.Range.Through(d.Range)}
		}
		for r.is("timeout", "expires", "comment", "counter", "packets", "bytes") {
			k := r.take()
			if k.text == "counter" {
				continue
			}
			v := r.take()
			switch k.text {
			case "timeout":
				el.Timeout = v.text
			case "comment":
				el.Comment = v.text
			}
		}
		e.Args = append(e.Args, el)
		if r.is(",") {
			r.take()
			continue
		}
		if !r.is("}") {
			r.fail(r.peek(), "\",\" or \"}\" expected in a set, not %q", r.peek().text)
			return nil
		}
	}
}

func (r *ruleParser) log() *Stmt {
	t := r.take()
	s := &Stmt{Kind: StmtLog, Range: t.rng}
	for r.is("prefix", "level", "flags", "group", "snaplen", "queue-threshold") {
		k := r.take()
		v := r.take()
		if v.kind == tEOF {
			r.fail(k, "log %s needs a value", k.text)
			return nil
		}
		val := v.text
		if k.text == "flags" {
			// "flags tcp sequence,options", "flags ip options", "flags all"
			if v.text == "tcp" || v.text == "ip" {
				var parts []string
				for r.peek().kind == tWord && (r.is("sequence", "options")) {
					parts = append(parts, r.take().text)
					if !r.is(",") {
						break
					}
					r.take()
				}
				val = v.text + " " + strings.Join(parts, ",")
			}
		}
		s.Opts = append(s.Opts, Opt{Name: k.text, Value: val, Range: k.rng.Through(v.rng)})
		s.Range = s.Range.Through(v.rng)
	}
	return s
}

func (r *ruleParser) limit() *Stmt {
	t := r.take()
	s := &Stmt{Kind: StmtLimit, Range: t.rng}
	if r.is("name") {
		r.take()
		n := r.take()
		s.Opts = append(s.Opts, Opt{Name: "name", Value: n.text, Range: n.rng})
		return s
	}
	if !r.is("rate") {
		r.fail(r.peek(), "limit rate expected")
		return nil
	}
	r.take()
	if r.is("over") {
		o := r.take()
		s.Opts = append(s.Opts, Opt{Name: "over", Range: o.rng})
	} else if r.is("until") {
		r.take()
	}
	v := r.take()
	if v.kind != tWord {
		r.fail(v, "limit rate needs a rate, not %q", v.text)
		return nil
	}
	rate, unit := v.text, "packets"
	end := v.rng
	if !strings.Contains(rate, "/") {
		u := r.take()
		if u.kind != tWord || !strings.Contains(u.text, "/") {
			r.fail(v, "limit rate %q not understood", v.text)
			return nil
		}
		rate, unit, end = v.text+" "+u.text, "bytes", u.rng
	}
	s.Opts = append(s.Opts, Opt{Name: "rate", Value: rate, Range: v.rng.Through(end)}, Opt{Name: "unit", Value: unit})
	s.Range = s.Range.Through(end)
	if r.is("burst") {
		r.take()
		b := r.take()
		bu := "packets"
		if r.is("packets", "bytes", "kbytes", "mbytes") {
			bu = r.take().text
		}
		s.Opts = append(s.Opts, Opt{Name: "burst", Value: b.text, Range: b.rng}, Opt{Name: "burst-unit", Value: bu})
		s.Range = s.Range.Through(b.rng)
	}
	return s
}

func (r *ruleParser) reject() *Stmt {
	t := r.take()
	s := &Stmt{Kind: StmtReject, Range: t.rng}
	if !r.is("with") {
		return s
	}
	r.take()
	k := r.take()
	switch k.text {
	case "tcp":
		if !r.is("reset") {
			r.fail(r.peek(), "reject with tcp reset expected")
			return nil
		}
		e := r.take()
		s.Opts = append(s.Opts, Opt{Name: "type", Value: "tcp reset", Range: k.rng.Through(e.rng)})
		s.Range = s.Range.Through(e.rng)
	case "icmp", "icmpv6", "icmp6", "icmpx":
		if r.is("type") {
			r.take()
		}
		c := r.take()
		if c.kind != tWord {
			r.fail(c, "reject with %s needs a type", k.text)
			return nil
		}
		s.Opts = append(s.Opts, Opt{Name: "type", Value: k.text, Range: k.rng}, Opt{Name: "code", Value: c.text, Range: c.rng})
		s.Range = s.Range.Through(c.rng)
	default:
		r.fail(k, "reject with %q not understood", k.text)
		return nil
	}
	return s
}

// natTargetRE is a word of a NAT target: addresses (IPv6 too), ports.
var natTargetRE = regexp.MustCompile(`^[0-9a-fA-F.:/-]+$`)

var natFlagWords = map[string]bool{"random": true, "fully-random": true, "persistent": true}

func (r *ruleParser) nat() *Stmt {
	t := r.take()
	s := &Stmt{Kind: StmtNAT, Name: t.text, Range: t.rng}
	if r.is("ip", "ip6") {
		f := r.take()
		s.Opts = append(s.Opts, Opt{Name: "family", Value: f.text, Range: f.rng})
	}
	if r.is("to") {
		r.take()
		// The target, as text: an address, address:port, [v6]:port,
		// a range, or :port for redirect and masquerade.
		var b strings.Builder
		var rng diag.Range
		for r.peek().kind == tWord && natTargetRE.MatchString(r.peek().text) || r.is(":", "-", "[", "]", "ip", "ip6", "map", "numgen", "jhash", "symhash") {
			if r.is("ip", "ip6", "map", "numgen", "jhash", "symhash") {
				return r.unknown(t)
			}
			x := r.take()
			b.WriteString(x.text)
			if rng.IsZero() {
				rng = x.rng
			} else {
				rng = rng.Through(x.rng)
			}
		}
		if b.Len() == 0 {
			if r.is("$", "@", "{") || r.peek().kind != tEOF {
				return r.unknown(t)
			}
			r.fail(r.peek(), "%s to needs a target", t.text)
			return nil
		}
		s.Opts = append(s.Opts, Opt{Name: "to", Value: b.String(), Range: rng})
		s.Range = s.Range.Through(rng)
	}
	for r.peek().kind == tWord && natFlagWords[r.peek().text] {
		f := r.take()
		s.Opts = append(s.Opts, Opt{Name: "flag", Value: f.text, Range: f.rng})
		s.Range = s.Range.Through(f.rng)
		if r.is(",") {
			r.take()
		}
	}
	return s
}

// meter NAME [size N] { KEY [timeout T] STMT }
func (r *ruleParser) meter() *Stmt {
	t := r.take()
	n := r.take()
	if n.kind != tWord && n.kind != tString {
		r.fail(t, "meter needs a name")
		return nil
	}
	s := &Stmt{Kind: StmtDynset, Name: "meter", Set: n.text, Range: t.rng}
	if r.is("size") {
		r.take()
		z := r.take()
		s.Opts = append(s.Opts, Opt{Name: "size", Value: z.text, Range: z.rng})
	}
	return r.dynBody(s)
}

// add|update|delete @SET { KEY [timeout T] [STMT...] }
func (r *ruleParser) dynset() *Stmt {
	t := r.take()
	r.take() // @
	n := r.take()
	s := &Stmt{Kind: StmtDynset, Name: t.text, Set: n.text, Range: t.rng}
	return r.dynBody(s)
}

func (r *ruleParser) dynBody(s *Stmt) *Stmt {
	if !r.is("{") {
		r.fail(r.peek(), "\"{\" expected after %s", s.Name)
		return nil
	}
	open := r.take()
	// The key: fields, possibly with a mask ("ip saddr and 255.255.255.0").
	k := r.expr()
	if k == nil {
		return nil
	}
	s.Left = k
	if r.is("timeout") {
		r.take()
		v := r.take()
		s.Opts = append(s.Opts, Opt{Name: "timeout", Value: v.text, Range: v.rng})
	}
	// Statements inside, up to the closing brace.
	end := r.i
	depth := 1
	for end < len(r.ts) && depth > 0 {
		switch r.ts[end].text {
		case "{":
			depth++
		case "}":
			depth--
		}
		if depth > 0 {
			end++
		}
	}
	if end >= len(r.ts) {
		r.fail(open, "\"}\" missing")
		return nil
	}
	inner := &ruleParser{p: r.p, ts: r.ts[r.i:end], rule: &Rule{}, depth: r.depth}
	inner.parse()
	if inner.bad {
		r.bad = true
		r.rule.Bad = true
		return nil
	}
	s.Stmts = inner.rule.Stmts
	r.i = end + 1
	s.Range = s.Range.Through(r.ts[end].rng)
	return s
}
