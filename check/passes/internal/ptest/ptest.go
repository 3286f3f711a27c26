// Package ptest builds checked policies by hand for pass tests, each rule,
// chain and route on its own source line, with `# want` comments that
// analysistest reads. It stands in for source files until tests can also
// be written as .fw testdata; it is test support only.
package ptest

import (
	"fmt"
	"reflect"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check/policy"
)

// File is the file name every built node claims.
const File = "test.fw"

// W is a want: the text after "# want", e.g. `FW1401 "oif"`.
type W string

// Builder builds one program.
type Builder struct {
	Prog *policy.Program
	file *ast.File
	line int
}

// New starts an empty program.
func New() *Builder {
	f := &ast.File{Range: ast.Range{Filename: File}}
	return &Builder{Prog: &policy.Program{Files: []*ast.File{f}}, file: f}
}

// Line returns the line the next node will be given.
func (b *Builder) Line() int { return b.line + 1 }

func (b *Builder) next(wants []W, comments []string) ast.Range {
	b.line++
	r := ast.Range{Filename: File, Start: ast.Pos{Line: b.line, Column: 1}, End: ast.Pos{Line: b.line, Column: 60}}
	for _, w := range wants {
		if w == "" {
			continue // no expectation
		}
		comments = append(comments, "# want "+string(w))
	}
	for i, text := range comments {
		b.file.Comments = append(b.file.Comments, &ast.Comment{
			Range: ast.Range{Filename: File, Start: ast.Pos{Line: b.line, Column: 60 + i}, End: ast.Pos{Line: b.line, Column: 60 + i + len(text)}},
			Text:  text,
		})
	}
	return r
}

// Comment puts a comment (a suppression, say) on a line of its own.
func (b *Builder) Comment(text string) { b.next(nil, []string{text}) }

// Table returns the table called name, adding it.
func (b *Builder) Table(name string) *policy.Table {
	for _, t := range b.Prog.Tables {
		if t.Name == name {
			return t
		}
	}
	t := &policy.Table{Name: name}
	b.Prog.Tables = append(b.Prog.Tables, t)
	return t
}

var prio = map[string]int{"raw": -300, "mangle": -150, "nat": -100, "filter": 0, "security": 50}

// Base adds base chain hook to t with policy pol ("accept", "drop" or "").
func (b *Builder) Base(t *policy.Table, hook policy.Hook, pol string, wants ...W) *policy.Chain {
	c := b.chain(t, string(hook), wants)
	c.Hook = hook
	c.Priority = prio[t.Name]
	if t.Name == "nat" && (hook == policy.Postrouting || hook == policy.Input) {
		c.Priority = 100
	}
	if pol != "" {
		id := &ast.Ident{Range: c.Decl.Range, Name: pol}
		c.Decl.Policy = id
		k := policy.Accept
		if pol == "drop" {
			k = policy.Drop
		}
		c.Policy = &policy.Verdict{At: policy.At{Node: id}, Kind: k}
	}
	return c
}

// Chain adds user chain name to t.
func (b *Builder) Chain(t *policy.Table, name string, wants ...W) *policy.Chain {
	return b.chain(t, name, wants)
}

func (b *Builder) chain(t *policy.Table, name string, wants []W) *policy.Chain {
	r := b.next(wants, nil)
	c := &policy.Chain{Table: t, Name: name, Decl: &ast.Chain{Range: r, Name: ast.Ident{Range: r, Name: name}}}
	t.Chains = append(t.Chains, c)
	return c
}

// Rule appends a rule to c. Items are policy.Cond and policy.Action
// values (given source positions on the rule's line), W wants, a
// policy.Family, a policy.Origin, or a string comment for the line.
func (b *Builder) Rule(c *policy.Chain, items ...any) *policy.Rule {
	var wants []W
	var comments []string
	for _, it := range items {
		switch it := it.(type) {
		case W:
			wants = append(wants, it)
		case string:
			comments = append(comments, it)
		}
	}
	rng := b.next(wants, comments)
	r := &policy.Rule{Src: &ast.Rule{Range: rng}, Family: policy.Both}
	col := 3
	at := func(x any) {
		f := reflect.ValueOf(x).Elem().FieldByName("At")
		if !f.IsValid() {
			panic(fmt.Sprintf("ptest: %T has no At", x))
		}
		if f.Interface().(policy.At).Node == nil {
			n := &ast.Ident{Range: rng}
			n.Start.Column, n.End.Column = col, col+4
			f.Set(reflect.ValueOf(policy.At{Node: n}))
		}
		col += 5
	}
	for _, it := range items {
		switch it := it.(type) {
		case policy.Cond:
			at(it)
			r.Conds = append(r.Conds, it)
		case policy.Action:
			at(it)
			r.Actions = append(r.Actions, it)
		case policy.Family:
			r.Family = it
		case policy.Origin:
			r.Origin = it
		case W, string:
		default:
			panic(fmt.Sprintf("ptest: unknown rule item %T", it))
		}
	}
	c.Rules = append(c.Rules, r)
	return r
}

// Route adds a route binding mark/mask to table with n default routes.
func (b *Builder) Route(name string, mark, mask, table uint32, n int, wants ...W) *policy.Route {
	rng := b.next(wants, nil)
	r := &policy.Route{Name: name, Mark: mark, Mask: mask, Table: table,
		Decl: &ast.Route{Range: rng, Name: ast.Ident{Range: rng, Name: name}}}
	for i := 0; i < n; i++ {
		r.Routes = append(r.Routes, policy.RouteEntry{Dev: fmt.Sprintf("eth%d", i)})
	}
	b.Prog.Routes = append(b.Prog.Routes, r)
	return r
}

// Shorthands for common conditions and actions.

func Accept() *policy.Verdict { return &policy.Verdict{Kind: policy.Accept} }
func Drop() *policy.Verdict   { return &policy.Verdict{Kind: policy.Drop} }
func Reject() *policy.Verdict { return &policy.Verdict{Kind: policy.Reject} }
func Return() *policy.Verdict { return &policy.Verdict{Kind: policy.Return} }
func Log(prefix string) *policy.Log {
	return &policy.Log{Prefix: prefix, Level: 4}
}
func Jump(c *policy.Chain) *policy.Jump { return &policy.Jump{Target: c} }
func Goto(c *policy.Chain) *policy.Jump { return &policy.Jump{Target: c, Goto: true} }

func Iif(names ...string) *policy.IfaceCond { return iface(policy.Src, names) }
func Oif(names ...string) *policy.IfaceCond { return iface(policy.Dst, names) }
func NotOif(names ...string) *policy.IfaceCond {
	c := iface(policy.Dst, names)
	c.Neg = true
	return c
}
func iface(d policy.Dir, names []string) *policy.IfaceCond {
	c := &policy.IfaceCond{Dir: d}
	for _, n := range names {
		w := len(n) > 0 && n[len(n)-1] == '*'
		if w {
			n = n[:len(n)-1]
		}
		c.Ifaces = append(c.Ifaces, policy.Iface{Name: n, Wildcard: w})
	}
	return c
}

func Proto(ps ...policy.Proto) *policy.ProtoCond { return &policy.ProtoCond{Protos: ps} }
func TCP() *policy.ProtoCond                     { return Proto(policy.ProtoTCP) }
func UDP() *policy.ProtoCond                     { return Proto(policy.ProtoUDP) }
func Dport(ports ...uint16) *policy.PortCond {
	c := &policy.PortCond{Dir: policy.Dst}
	for _, p := range ports {
		c.Ranges = append(c.Ranges, policy.PortRange{Lo: p, Hi: p})
	}
	return c
}
func Ct(bits uint32) *policy.CtStateCond { return &policy.CtStateCond{Bits: bits} }
func ICMPv6(types ...uint8) *policy.ICMPCond {
	c := &policy.ICMPCond{V6: true}
	for _, t := range types {
		c.Types = append(c.Types, policy.ICMPType{Type: t, Code: -1})
	}
	return c
}
func SetMark(v uint32) *policy.SetMark { return &policy.SetMark{Value: v, Mask: 0xffffffff} }
func RouteMark(r *policy.Route) *policy.SetMark {
	return &policy.SetMark{Value: r.Mark, Mask: r.Mask, Route: r}
}
