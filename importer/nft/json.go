package nft

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/internal/lines"
)

// ReadJSON reads the output of `nft -j list ruleset` (the schema of
// libnftables-json(5)) into the same model as ReadText. The top-level array
// is read one object at a time, so memory is the model plus one object.
// It never fails and never panics: what it cannot read is a diagnostic.
func ReadJSON(src []byte, filename string, opts Options) (*File, diag.Diagnostics) {
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = lines.DefaultMaxErrors
	}
	j := &jreader{src: src, file: filename, opts: opts, f: &File{Filename: filename, Sources: map[string][]byte{filename: src}}}
	j.read()
	return j.f, j.ds
}

type jnode struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	off  int
	s    string
	keys []string
	vals []*jnode
}

func (n *jnode) get(key string) *jnode {
	if n == nil || n.kind != 'o' {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

func (n *jnode) str(key string) string {
	if v := n.get(key); v != nil && (v.kind == 's' || v.kind == 'n' || v.kind == 'b') {
		return v.s
	}
	return ""
}

type jreader struct {
	src    []byte
	file   string
	opts   Options
	f      *File
	ds     diag.Diagnostics
	errs   int
	dec    *json.Decoder
	starts []int // byte offsets of line starts, built on first use
}

func (j *jreader) rng(off int) diag.Range {
	if j.starts == nil {
		j.starts = []int{0}
		for i, c := range j.src {
			if c == '\n' {
				j.starts = append(j.starts, i+1)
			}
		}
	}
	l := sort.Search(len(j.starts), func(i int) bool { return j.starts[i] > off }) - 1
	if l < 0 {
		l = 0
	}
	p := diag.Pos{Line: l + 1, Column: off - j.starts[l] + 1, Byte: off}
	e := p
	e.Column++
	e.Byte++
	return diag.Range{Filename: j.file, Start: p, End: e}
}

func (j *jreader) errorf(off int, format string, args ...any) bool {
	if j.errs >= j.opts.MaxErrors {
		return false
	}
	j.errs++
	j.ds.Add(diag.Error, CodeJSON, j.rng(off), fmt.Sprintf(format, args...), "")
	if j.errs >= j.opts.MaxErrors {
		j.ds.Add(diag.Error, lines.CodeTooMany, j.rng(off), "too many errors; the rest of the input is not read", "")
		return false
	}
	return true
}

// here is the offset where the next token starts.
func (j *jreader) here() int {
	o := int(j.dec.InputOffset())
	for o < len(j.src) && (j.src[o] == ' ' || j.src[o] == '\t' || j.src[o] == '\r' || j.src[o] == '\n' || j.src[o] == ',' || j.src[o] == ':') {
		o++
	}
	return o
}

const maxJSONDepth = 64

func (j *jreader) value(depth int) (*jnode, error) {
	off := j.here()
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)
	}
	t, err := j.dec.Token()
	if err != nil {
		return nil, err
	}
	n := &jnode{off: off}
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '{':
			n.kind = 'o'
			for j.dec.More() {
				koff := j.here()
				k, err := j.dec.Token()
				if err != nil {
					return nil, err
				}
				ks, ok := k.(string)
				if !ok {
					return nil, fmt.Errorf("object key expected at %d", koff)
				}
				c, err := j.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, ks)
				n.vals = append(n.vals, c)
			}
		case '[':
			n.kind = 'a'
			for j.dec.More() {
				c, err := j.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, c)
			}
		default:
			return nil, fmt.Errorf("unexpected %q", string(v))
		}
		if _, err := j.dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		n.kind, n.s = 's', v
	case json.Number:
		n.kind, n.s = 'n', v.String()
	case bool:
		n.kind, n.s = 'b', strconv.FormatBool(v)
	case nil:
		n.kind = 'z'
	}
	return n, nil
}

func (j *jreader) read() {
	if bytes.IndexByte(j.src, 0) >= 0 {
		j.ds.Add(diag.Error, lines.CodeBinary, j.rng(bytes.IndexByte(j.src, 0)), "binary data in an nft JSON file", "")
		return
	}
	j.dec = json.NewDecoder(bytes.NewReader(j.src))
	j.dec.UseNumber()
	fail := func(err error) {
		var se *json.SyntaxError
		off := j.here()
		if errors.As(err, &se) {
			off = int(se.Offset) - 1
			for off >= 0 && off < len(j.src) && (j.src[off] == ' ' || j.src[off] == '\t' || j.src[off] == '\n' || j.src[off] == '\r') {
				off++
			}
		}
		if off < 0 {
			off = 0
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			j.errorf(len(j.src), "the JSON ends early (truncated?)")
			return
		}
		j.errorf(off, "%v", err)
	}
	t, err := j.dec.Token()
	if err != nil {
		j.errorf(0, "not nft JSON: %v", err)
		return
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		j.errorf(0, "not nft JSON: the input must be an object with an \"nftables\" array")
		return
	}
	found := false
	for j.dec.More() {
		koff := j.here()
		k, err := j.dec.Token()
		if err != nil {
			fail(err)
			return
		}
		if k != "nftables" {
			if _, err := j.value(1); err != nil {
				fail(err)
				return
			}
			continue
		}
		found = true
		t, err := j.dec.Token()
		if err != nil {
			fail(err)
			return
		}
		if d, ok := t.(json.Delim); !ok || d != '[' {
			j.errorf(koff, "\"nftables\" must be an array")
			return
		}
		for j.dec.More() {
			n, err := j.value(1)
			if err != nil {
				fail(err)
				return
			}
			j.object(n)
			if j.errs >= j.opts.MaxErrors {
				return
			}
		}
		if _, err := j.dec.Token(); err != nil {
			fail(err)
			return
		}
	}
	if !found {
		j.errorf(0, "not nft JSON: no \"nftables\" array")
	}
}

// object takes one element of the nftables array.
func (j *jreader) object(n *jnode) {
	if n.kind != 'o' || len(n.keys) != 1 {
		j.errorf(n.off, "an object with one key (table, chain, set, rule, ...) expected")
		return
	}
	kind, v := n.keys[0], n.vals[0]
	switch kind {
	case "metainfo":
	case "table":
		if j.table(v, true) == nil {
			j.errorf(v.off, "a table needs family and name")
		}
	case "chain":
		t := j.table(v, false)
		if t == nil {
			return
		}
		name := v.str("name")
		c := t.Chain(name)
		if c == nil {
			c = &Chain{Name: name, Range: j.rng(v.off)}
			t.Chains = append(t.Chains, c)
		}
		c.Type, c.Hook, c.Policy, c.Device = v.str("type"), v.str("hook"), v.str("policy"), v.str("dev")
		if c.Hook != "" {
			c.BaseRange = j.rng(v.off)
			c.PolicyRange = c.BaseRange
			if p := v.get("prio"); p != nil {
				c.PriorityText = p.s
				c.Priority, _ = strconv.Atoi(p.s)
			}
		}
		c.Comment = v.str("comment")
	case "set", "map":
		t := j.table(v, false)
		if t == nil {
			return
		}
		s := &Set{Name: v.str("name"), Range: j.rng(v.off), Map: kind == "map"}
		switch ty := v.get("type"); {
		case ty == nil:
		case ty.kind == 's':
			s.Type = []string{ty.s}
		case ty.kind == 'a':
			for _, x := range ty.vals {
				s.Type = append(s.Type, x.s)
			}
		}
		if m := v.get("map"); m != nil {
			s.DataType = m.s
		}
		if fl := v.get("flags"); fl != nil {
			for _, x := range listOf(fl) {
				s.Flags = append(s.Flags, x.s)
			}
		}
		s.Timeout, s.Size, s.Comment = v.str("timeout"), v.str("size"), v.str("comment")
		if s.Timeout != "" {
			s.Timeout += "s"
		}
		if el := v.get("elem"); el != nil {
			for _, x := range listOf(el) {
				if e := j.elem(x); e != nil {
					s.Elements = append(s.Elements, e)
				}
			}
		}
		t.Sets = append(t.Sets, s)
	case "rule":
		t := j.table(v, false)
		if t == nil {
			return
		}
		c := t.Chain(v.str("chain"))
		if c == nil {
			j.errorf(v.off, "rule of chain %q, which the input does not declare", v.str("chain"))
			return
		}
		r := &Rule{Range: j.rng(v.off), Comment: v.str("comment")}
		r.Text = j.ruleText(v)
		for _, x := range listOf(v.get("expr")) {
			s := j.stmt(x)
			if s == nil {
				r.Bad = true
				break
			}
			r.Stmts = append(r.Stmts, s)
		}
		c.Rules = append(c.Rules, r)
	default:
		// counters, quotas, limits, ct helpers, flowtables, elements of
		// "add element" objects: kept by kind and name.
		if t := j.table(v, false); t != nil {
			t.Objects = append(t.Objects, &Object{Kind: kind, Name: v.str("name"), Range: j.rng(v.off)})
		}
	}
}

// ruleText is the rule's JSON object on one line, for the comment that
// keeps a rule that is not imported.
func (j *jreader) ruleText(v *jnode) string {
	var b strings.Builder
	writeJSON(&b, v, 0)
	return b.String()
}

func writeJSON(b *strings.Builder, n *jnode, depth int) {
	if b.Len() > 4096 || depth > maxJSONDepth {
		return
	}
	switch n.kind {
	case 'o':
		b.WriteByte('{')
		for i, k := range n.keys {
			if k == "handle" || k == "family" || k == "table" || k == "chain" {
				continue
			}
			if b.Len() > 0 && b.String()[b.Len()-1] != '{' {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "%q: ", k)
			writeJSON(b, n.vals[i], depth+1)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, x := range n.vals {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, x, depth+1)
		}
		b.WriteByte(']')
	case 's':
		fmt.Fprintf(b, "%q", n.s)
	case 'z':
		b.WriteString("null")
	default:
		b.WriteString(n.s)
	}
}

func listOf(n *jnode) []*jnode {
	if n == nil {
		return nil
	}
	if n.kind == 'a' {
		return n.vals
	}
	return []*jnode{n}
}

func (j *jreader) table(v *jnode, create bool) *Table {
	fam, name := v.str("family"), v.str("table")
	if create {
		name = v.str("name")
	}
	if fam == "" || name == "" {
		if !create {
			j.errorf(v.off, "family and table expected")
		}
		return nil
	}
	if t := j.f.Table(fam, name); t != nil {
		return t
	}
	if !create {
		j.errorf(v.off, "table %s %s is not declared before its contents", fam, name)
		return nil
	}
	t := &Table{Family: fam, Name: name, Range: j.rng(v.off)}
	j.f.Tables = append(j.f.Tables, t)
	return t
}

// elem reads a set element: a value, {"elem": {"val": V, "timeout": N}},
// or a map element [KEY, DATA].
func (j *jreader) elem(n *jnode) *Expr {
	if n.kind == 'a' && len(n.vals) == 2 {
		k, d := j.elem(n.vals[0]), j.expr(n.vals[1])
		if k == nil || d == nil {
			return nil
		}
		return &Expr{Kind: ExprMapElem, Args: []*Expr{k, d}, Range: j.rng(n.off)}
	}
	if e := n.get("elem"); e != nil {
		x := j.expr(e.get("val"))
		if x == nil {
			return nil
		}
		if t := e.str("timeout"); t != "" {
			x.Timeout = t + "s"
		}
		x.Comment = e.str("comment")
		return x
	}
	return j.expr(n)
}

var jsonVerdicts = map[string]bool{"accept": true, "drop": true, "return": true, "continue": true, "jump": true, "goto": true}

func (j *jreader) expr(n *jnode) *Expr {
	if n == nil {
		j.errorf(0, "an expression is missing")
		return nil
	}
	r := j.rng(n.off)
	switch n.kind {
	case 's':
		if strings.HasPrefix(n.s, "@") {
			return &Expr{Kind: ExprSetRef, Text: n.s[1:], Range: r}
		}
		return &Expr{Kind: ExprLit, Text: n.s, Range: r}
	case 'n', 'b':
		return &Expr{Kind: ExprLit, Text: n.s, Range: r}
	case 'a':
		e := &Expr{Kind: ExprList, Range: r}
		for _, x := range n.vals {
			a := j.expr(x)
			if a == nil {
				return nil
			}
			e.Args = append(e.Args, a)
		}
		return e
	case 'o':
	default:
		j.errorf(n.off, "an expression expected")
		return nil
	}
	if len(n.keys) != 1 {
		j.errorf(n.off, "an expression object has one key")
		return nil
	}
	k, v := n.keys[0], n.vals[0]
	switch k {
	case "payload":
		return &Expr{Kind: ExprField, Proto: v.str("protocol"), Name: v.str("field"), Range: r}
	case "meta":
		return &Expr{Kind: ExprField, Proto: "meta", Name: v.str("key"), Range: r}
	case "ct":
		name := v.str("key")
		if d := v.str("dir"); d != "" {
			name = d + " " + name
		}
		return &Expr{Kind: ExprField, Proto: "ct", Name: name, Range: r}
	case "fib":
		var fl []string
		for _, x := range listOf(v.get("flags")) {
			fl = append(fl, x.s)
		}
		return &Expr{Kind: ExprField, Proto: "fib", Name: strings.Join(fl, " . ") + " " + v.str("result"), Range: r}
	case "prefix":
		return &Expr{Kind: ExprLit, Text: v.str("addr") + "/" + v.str("len"), Range: r}
	case "range", "concat", "set", "&", "|", "^", "<<", ">>":
		e := &Expr{Range: r}
		switch k {
		case "range":
			e.Kind = ExprRange
		case "concat":
			e.Kind = ExprConcat
		case "set":
			e.Kind = ExprSet
		default:
			e.Kind, e.Op = ExprBinop, k
		}
		for _, x := range listOf(v) {
			var a *Expr
			if k == "set" {
				a = j.elem(x)
			} else {
				a = j.expr(x)
			}
			if a == nil {
				return nil
			}
			e.Args = append(e.Args, a)
		}
		if (e.Kind == ExprRange || e.Kind == ExprBinop) && len(e.Args) != 2 {
			j.errorf(n.off, "%s takes two operands", k)
			return nil
		}
		return e
	case "elem":
		return j.elem(n)
	}
	if jsonVerdicts[k] {
		return &Expr{Kind: ExprVerdict, Text: k, Name: v.str("target"), Range: r}
	}
	// Expressions the model does not know (numgen, hash, osf, socket,
	// exthdr, tcp option, ...) make the statement unknown.
	return &Expr{Kind: ExprField, Proto: k, Name: "", Range: r}
}

func (j *jreader) stmt(n *jnode) *Stmt {
	if n == nil || n.kind != 'o' || len(n.keys) != 1 {
		j.errorf(offOf(n), "a statement is an object with one key")
		return nil
	}
	k, v := n.keys[0], n.vals[0]
	r := j.rng(n.off)
	switch k {
	case "match":
		l, rt := j.expr(v.get("left")), j.expr(v.get("right"))
		if l == nil || rt == nil {
			return nil
		}
		op := v.str("op")
		s := &Stmt{Kind: StmtMatch, Left: l, Right: rt, Op: op, Range: r}
		if op == "in" {
			s.Op, s.Implicit = "==", true
		}
		if rt.Kind == ExprList {
			s.Implicit = true
		}
		return s
	case "accept", "drop", "return", "continue":
		return &Stmt{Kind: StmtVerdict, Verdict: k, Range: r}
	case "jump", "goto":
		return &Stmt{Kind: StmtVerdict, Verdict: k, Target: v.str("target"), Range: r}
	case "counter":
		return &Stmt{Kind: StmtCounter, Range: r}
	case "notrack":
		return &Stmt{Kind: StmtNotrack, Range: r}
	case "log":
		s := &Stmt{Kind: StmtLog, Range: r}
		for _, o := range []string{"prefix", "level", "group", "snaplen", "queue-threshold"} {
			if x := v.str(o); x != "" {
				s.Opts = append(s.Opts, Opt{Name: o, Value: x, Range: r})
			}
		}
		for _, x := range listOf(v.get("flags")) {
			s.Opts = append(s.Opts, Opt{Name: "flags", Value: x.s, Range: r})
		}
		return s
	case "limit":
		s := &Stmt{Kind: StmtLimit, Range: r}
		unit := v.str("rate_unit")
		rate := v.str("rate") + "/" + v.str("per")
		if unit != "" && unit != "packets" {
			rate = v.str("rate") + " " + unit + "/" + v.str("per")
			unit = "bytes"
		} else {
			unit = "packets"
		}
		s.Opts = append(s.Opts, Opt{Name: "rate", Value: rate, Range: r}, Opt{Name: "unit", Value: unit})
		if v.str("inv") == "true" {
			s.Opts = append(s.Opts, Opt{Name: "over", Range: r})
		}
		if b := v.str("burst"); b != "" && b != "0" {
			bu := v.str("burst_unit")
			if bu == "" {
				bu = "packets"
			}
			s.Opts = append(s.Opts, Opt{Name: "burst", Value: b, Range: r}, Opt{Name: "burst-unit", Value: bu})
		}
		return s
	case "reject":
		s := &Stmt{Kind: StmtReject, Range: r}
		switch t := v.str("type"); t {
		case "":
		case "tcp reset":
			s.Opts = append(s.Opts, Opt{Name: "type", Value: t, Range: r})
		default:
			s.Opts = append(s.Opts, Opt{Name: "type", Value: t, Range: r}, Opt{Name: "code", Value: v.str("expr"), Range: r})
		}
		return s
	case "snat", "dnat", "masquerade", "redirect":
		s := &Stmt{Kind: StmtNAT, Name: k, Range: r}
		if f := v.str("family"); f != "" {
			s.Opts = append(s.Opts, Opt{Name: "family", Value: f, Range: r})
		}
		addr, port := v.get("addr"), v.get("port")
		to := ""
		if addr != nil {
			a := j.expr(addr)
			if a == nil || !natText(a, &to) {
				return &Stmt{Kind: StmtUnknown, Name: k, Range: r}
			}
			if strings.Contains(to, ":") && port != nil {
				to = "[" + to + "]"
			}
		}
		if port != nil {
			p := j.expr(port)
			pt := ""
			if p == nil || !natText(p, &pt) {
				return &Stmt{Kind: StmtUnknown, Name: k, Range: r}
			}
			to += ":" + pt
		}
		if to != "" {
			s.Opts = append(s.Opts, Opt{Name: "to", Value: to, Range: r})
		}
		for _, x := range listOf(v.get("flags")) {
			s.Opts = append(s.Opts, Opt{Name: "flag", Value: x.s, Range: r})
		}
		return s
	case "mangle":
		l, rt := j.expr(v.get("key")), j.expr(v.get("value"))
		if l == nil || rt == nil {
			return nil
		}
		return &Stmt{Kind: StmtMangle, Left: l, Right: rt, Range: r}
	case "vmap":
		l := j.expr(v.get("key"))
		d := v.get("data")
		if l == nil || d == nil {
			j.errorf(n.off, "vmap needs key and data")
			return nil
		}
		rt := j.expr(d)
		if rt == nil {
			return nil
		}
		return &Stmt{Kind: StmtVmap, Left: l, Right: rt, Range: r}
	case "ct count":
		op := "<="
		if v.str("inv") == "true" {
			op = ">"
		}
		return &Stmt{Kind: StmtMatch, Left: &Expr{Kind: ExprField, Proto: "ct", Name: "count", Range: r}, Op: op, Right: &Expr{Kind: ExprLit, Text: v.str("val"), Range: r}, Range: r}
	case "set", "meter":
		s := &Stmt{Kind: StmtDynset, Name: v.str("op"), Set: strings.TrimPrefix(v.str("set"), "@"), Range: r}
		key := v.get("elem")
		if k == "meter" {
			s.Name, s.Set, key = "meter", v.str("name"), v.get("key")
			if z := v.str("size"); z != "" {
				s.Opts = append(s.Opts, Opt{Name: "size", Value: z, Range: r})
			}
		}
		if key != nil && key.get("elem") != nil {
			if t := key.get("elem").str("timeout"); t != "" {
				s.Opts = append(s.Opts, Opt{Name: "timeout", Value: t + "s", Range: r})
			}
			key = key.get("elem").get("val")
		}
		s.Left = j.expr(key)
		if s.Left == nil {
			return nil
		}
		for _, x := range listOf(v.get("stmt")) {
			in := j.stmt(x)
			if in == nil {
				return nil
			}
			s.Stmts = append(s.Stmts, in)
		}
		return s
	}
	return &Stmt{Kind: StmtUnknown, Name: k, Range: r}
}

// natText writes a NAT address or port expression as nft text.
func natText(e *Expr, out *string) bool {
	switch e.Kind {
	case ExprLit:
		*out += e.Text
		return true
	case ExprRange:
		a, b := "", ""
		if natText(e.Args[0], &a) && natText(e.Args[1], &b) {
			*out += a + "-" + b
			return true
		}
	}
	return false
}

func offOf(n *jnode) int {
	if n == nil {
		return 0
	}
	return n.off
}
