package ast

import "github.com/fwcproject/fwc/diag"

// Value is a value as written: *Lit, *Ref, *List, *BinOp or *Concat. The
// checker gives it a type from where it stands.
type Value interface {
	Node
	valueNode()
}

// LitKind says what a literal token looked like.
type LitKind int

const (
	Number   LitKind = iota // 22, 0x4000, 0.5, -100
	IPv4                    // 10.0.0.1, 10.0.0.0/8
	IPv6                    // fd00::1, fd00::/64; written [fd00::1] before a port
	Duration                // 30s, 3d, 1h
	String                  // "text" (Text holds the unquoted string)
	Word                    // an identifier: tcp, echo-request, eth0, default
)

func (k LitKind) String() string {
	switch k {
	case Number:
		return "number"
	case IPv4:
		return "IPv4 address"
	case IPv6:
		return "IPv6 address"
	case Duration:
		return "duration"
	case String:
		return "string"
	case Word:
		return "name"
	}
	return "literal"
}

// Lit is a single token. For String, Text is unquoted; for IPv6 written in
// brackets, Text is without the brackets and Bracketed is set.
type Lit struct {
	diag.Range
	Kind      LitKind
	Text      string
	Bracketed bool
}

// Ref refers to a named set (@name) or a define ($name).
type Ref struct {
	diag.Range
	Sigil byte // '@' or '$'
	Name  string
}

// List is a braced list: { a, b, c }.
type List struct {
	diag.Range
	Elems []Value
}

// BinOp joins two values with "-" (a range: 1000-2000, 10.0.0.1-10.0.0.9),
// "/" (protocol/port, mark/mask, type/code, count/unit) or ":" (address:port).
// "-" binds tighter than "/" and ":", which associate to the left, so
// 1.2.3.4:1000-2000 is 1.2.3.4 : (1000-2000).
type BinOp struct {
	diag.Range
	Left  Value
	Op    string
	Right Value
}

// Concat is a concatenation for sets of pairs: 10.0.0.1 . 80.
type Concat struct {
	diag.Range
	Parts []Value
}

func (*Lit) valueNode()    {}
func (*Ref) valueNode()    {}
func (*List) valueNode()   {}
func (*BinOp) valueNode()  {}
func (*Concat) valueNode() {}
