package policy

import (
	"slices"
	"sort"
	"strings"

	"github.com/fwcproject/fwc/ast"
)

// This file is the registry of simple fields: matches written
// `NAME [SUB] [!=] VALUE[, VALUE...]` whose values are numbers (named or
// not). A new such match is one row of fieldTable here, one row in each
// backend's field table (backend/nft/field.go, backend/restore/field.go),
// a row of package limits if a backend cannot test it (or some of its
// values), and one row of docs/language.md: the grammar reads it generically
// (ast.FieldMatch), the checker types its values from the row, the packet
// space treats it as unmodelled ("may not match"), and IR carries the
// condition as is.

// FieldKind is how a field's values are written.
type FieldKind int

const (
	// FieldEnum values are names from Field.Names (or, where Numeric is
	// set, numbers too).
	FieldEnum FieldKind = iota
	// FieldInt values are numbers or ranges LO-HI within [Min, Max].
	FieldInt
	// FieldString values are quoted strings of 1 to Max bytes
	// (FieldCond.Strings).
	FieldString
)

// Field describes one simple field.
type Field struct {
	Name string
	// Subs are the sub-keywords the name needs (addrtype src|dst); nil:
	// the values follow the name.
	Subs []string
	Kind FieldKind
	// Names maps the names a FieldEnum value may take to their numbers.
	Names map[string]uint64
	// Min and Max bound the numbers (FieldInt, or FieldEnum with Numeric).
	Min, Max uint64
	// Numeric lets a FieldEnum value also be written as a number.
	Numeric bool
	// Family is the address family the field exists in; a rule using it
	// is that family's only. Both (or 0): either.
	Family Family
	// Hooks, if set, are the only hooks whose packets carry the field; a
	// match in a chain that only other hooks reach is an error (FW1404).
	Hooks []Hook
	// PerFamily: the field lies in a different place for IPv4 and IPv6
	// (dscp), so a rule for both families becomes one rule per family.
	PerFamily bool
	// Summary says in a few words what the field is, for messages.
	Summary string
}

// FieldCond matches a simple field. The values are intervals of the
// field's numbers (a name is an interval of one); Neg: the field is none of
// them.
type FieldCond struct {
	At
	Field  *Field
	Sub    string // the sub-keyword, "" when the field takes none
	Neg    bool
	Values []Interval
	// Strings are the values of a FieldString field (Values is nil).
	Strings []string
}

// Interval is the numbers Lo to Hi, inclusive.
type Interval struct{ Lo, Hi uint64 }

func (*FieldCond) cond() {}

// Key names the field with its sub-keyword ("addrtype dst", "pkttype"):
// the key of the backends' field tables.
func (c *FieldCond) Key() string {
	if c.Sub == "" {
		return c.Field.Name
	}
	return c.Field.Name + " " + c.Sub
}

// NameOf returns the name of number n of an enum field, or "" if it has none.
func (f *Field) NameOf(n uint64) string {
	best := ""
	for name, v := range f.Names {
		// Several names may share a number (a synonym); the shortest,
		// then the first in order, is the one printed.
		if v == n && (best == "" || len(name) < len(best) || len(name) == len(best) && name < best) {
			best = name
		}
	}
	return best
}

// NameList returns the field's value names, sorted (for did-you-mean).
func (f *Field) NameList() []string {
	out := make([]string, 0, len(f.Names))
	for n := range f.Names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// HasSub reports whether s is one of the field's sub-keywords.
func (f *Field) HasSub(s string) bool { return slices.Contains(f.Subs, s) }

// LookupField returns the field called name with sub-keyword sub ("" for
// a field without), or nil. Several rows may share a name when their
// sub-keywords differ (ct direction, ct zone): each has its own type.
func LookupField(name, sub string) *Field {
	for _, f := range fieldTable {
		if f.Name == name && (sub == "" && len(f.Subs) == 0 || f.HasSub(sub)) {
			return f
		}
	}
	return nil
}

// FieldSubs returns every sub-keyword of the rows called name, and whether
// there is such a row.
func FieldSubs(name string) ([]string, bool) {
	var subs []string
	known := false
	for _, f := range fieldTable {
		if f.Name == name {
			known = true
			subs = append(subs, f.Subs...)
		}
	}
	return subs, known
}

// Fields returns every registered field, by name.
func Fields() []*Field {
	out := slices.Clone(fieldTable)
	slices.SortStableFunc(out, func(a, b *Field) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func init() {
	for _, f := range fieldTable {
		ast.DeclareField(f.Name, f.Subs...)
	}
}

// rtnTypes are the kernel's route types (RTN_*), as fib and addrtype
// report an address's type.
var rtnTypes = map[string]uint64{
	"unspec": 0, "unicast": 1, "local": 2, "broadcast": 3, "anycast": 4, "multicast": 5,
	"blackhole": 6, "unreachable": 7, "prohibit": 8, "throw": 9, "nat": 10, "xresolve": 11,
}

// dscpNames are the class selectors and per-hop behaviours (RFC 2474,
// 2597, 3246).
var dscpNames = map[string]uint64{
	"cs0": 0, "cs1": 8, "cs2": 16, "cs3": 24, "cs4": 32, "cs5": 40, "cs6": 48, "cs7": 56,
	"af11": 10, "af12": 12, "af13": 14, "af21": 18, "af22": 20, "af23": 22,
	"af31": 26, "af32": 28, "af33": 30, "af41": 34, "af42": 36, "af43": 38, "ef": 46,
}

// fieldTable: one row per simple field.
var fieldTable = []*Field{
	{Name: "addrtype", Subs: []string{"src", "dst"}, Kind: FieldEnum, Names: rtnTypes,
		Summary: "the type of route the kernel has for the address"},
	{Name: "pkttype", Kind: FieldEnum, Names: map[string]uint64{"unicast": 0, "host": 0, "broadcast": 1, "multicast": 2, "otherhost": 3},
		Summary: "the link-layer class of the packet"},
	{Name: "ttl", Kind: FieldInt, Min: 0, Max: 255, Family: IPv4, Summary: "the IPv4 time to live"},
	{Name: "hoplimit", Kind: FieldInt, Min: 0, Max: 255, Family: IPv6, Summary: "the IPv6 hop limit"},
	{Name: "ct", Subs: []string{"direction"}, Kind: FieldEnum, Names: map[string]uint64{"original": 0, "reply": 1},
		Summary: "the direction of the packet in its connection"},
	{Name: "ct", Subs: []string{"zone"}, Kind: FieldInt, Min: 0, Max: 65535, Summary: "the conntrack zone of the connection"},
	{Name: "dscp", Kind: FieldEnum, Names: dscpNames, Numeric: true, Min: 0, Max: 63, PerFamily: true,
		Summary: "the differentiated services code point (the high 6 bits of the IPv4 TOS or IPv6 traffic class)"},
	{Name: "ct", Subs: []string{"helper"}, Kind: FieldString, Max: 15, Summary: "the name of the connection's helper, such as \"ftp\""},
	{Name: "owner", Subs: []string{"uid", "gid"}, Kind: FieldInt, Min: 0, Max: 0xffffffff,
		Hooks: []Hook{Output, Postrouting}, Summary: "owner (the user or group of the local socket that sent it)"},
	{Name: "length", Kind: FieldInt, Min: 0, Max: 65535, Summary: "the packet's length in bytes, from its IP header on"},
}
