package ast

import (
	"sort"
	"sync"

	"github.com/fwcproject/fwc/diag"
)

// FieldMatch is a simple match of one packet or connection field, written
// `NAME [SUB] [!=] VALUE[, VALUE...]`, that has no grammar of its own: the
// parser reads it generically and package policy's field registry
// (policy/field.go) gives it a meaning. Adding such a match is one row there
// and one row per backend, not a new node here.
//
//	addrtype dst local, broadcast
//	pkttype != broadcast
//	length 0-128
type FieldMatch struct {
	diag.Range
	Name   Ident
	Sub    *Ident // nil when the field takes no sub-keyword
	Neg    bool
	Values []Value
}

func (*FieldMatch) matchNode() {}

// The parser must know which words name a generic field, and which fields
// take a sub-keyword, to read `addrtype dst local` as field addrtype, sub
// dst, value local but `pkttype broadcast length 0-128` as two matches.
// Package policy owns the field table and declares this syntax from it at
// init (policy imports ast; the parser may not import policy, a later stage).
var fieldSyntax struct {
	sync.RWMutex
	m map[string][]string // name -> sub-keywords (nil: takes none)
}

// DeclareField records that name is a generic field with the given
// sub-keywords (none: the values follow the name). Called by package policy.
func DeclareField(name string, subs ...string) {
	fieldSyntax.Lock()
	defer fieldSyntax.Unlock()
	if fieldSyntax.m == nil {
		fieldSyntax.m = map[string][]string{}
	}
	fieldSyntax.m[name] = append(fieldSyntax.m[name], subs...)
}

// FieldSyntax reports whether name is a declared generic field and whether
// it takes a sub-keyword.
func FieldSyntax(name string) (known, hasSub bool) {
	fieldSyntax.RLock()
	defer fieldSyntax.RUnlock()
	subs, ok := fieldSyntax.m[name]
	return ok, len(subs) > 0
}

// FieldNames returns the declared generic field names, sorted.
func FieldNames() []string {
	fieldSyntax.RLock()
	defer fieldSyntax.RUnlock()
	out := make([]string, 0, len(fieldSyntax.m))
	for n := range fieldSyntax.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// FieldSubs returns the sub-keywords declared for name.
func FieldSubs(name string) []string {
	fieldSyntax.RLock()
	defer fieldSyntax.RUnlock()
	return append([]string(nil), fieldSyntax.m[name]...)
}
