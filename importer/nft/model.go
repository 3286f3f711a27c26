package nft

import "github.com/fwcproject/fwc/diag"

// File is a ruleset as nft would hold it after loading the input: the
// tables in creation order, each with its sets and chains. Both readers
// (ReadText, ReadJSON) produce it.
type File struct {
	Filename string
	Tables   []*Table
	// Sources holds the text of every file read (the input and what it
	// includes), by name, for rendering diagnostics and quoting rules.
	Sources map[string][]byte
}

// Table is one nft table.
type Table struct {
	Family string // ip, ip6, inet, arp, bridge, netdev
	Name   string
	Range  diag.Range // the table's name in its first declaration
	Chains []*Chain
	Sets   []*Set
	// Objects are the stateful objects and flowtables declared in the table
	// (counter, quota, limit, ct helper, flowtable, ...): kind and name.
	Objects []*Object
}

// Object is a named stateful object the model does not look into.
type Object struct {
	Kind, Name string
	Range      diag.Range
}

// Chain is one chain. A base chain has Hook set.
type Chain struct {
	Name  string
	Range diag.Range
	// Type, Hook and Priority are those of a base chain; Priority is the
	// number the kernel uses (named priorities such as "filter" and
	// "dstnat + 10" resolved), PriorityText as written.
	Type, Hook   string
	Priority     int
	PriorityText string
	Device       string
	BaseRange    diag.Range // the "type ... hook ... priority ..." statement
	Policy       string     // "accept", "drop" or "" (accept)
	PolicyRange  diag.Range
	Comment      string
	Rules        []*Rule
}

// Base tells whether the chain is attached to a hook.
func (c *Chain) Base() bool { return c.Hook != "" }

// Rule is one rule: its statements in order.
type Rule struct {
	Range   diag.Range // the whole rule
	Text    string     // the rule as written (one line)
	Stmts   []*Stmt
	Comment string
	// Bad is set when the reader could not read the rule completely (it
	// reported why); the converter keeps it as a comment.
	Bad bool
}

// StmtKind tells what a statement is.
type StmtKind int

const (
	StmtMatch   StmtKind = iota // Left Op Right
	StmtVerdict                 // Verdict [Target]
	StmtCounter
	StmtLog     // Opts: prefix, level, flags, group, ...
	StmtLimit   // Opts: rate (N/unit), over, burst, burst-unit, unit (packets or bytes)
	StmtReject  // Opts: type (icmp, icmpv6, icmpx, tcp), code
	StmtNAT     // Name snat, dnat, masquerade, redirect; Opts: family, addr, port, flags
	StmtMangle  // Left set Right
	StmtNotrack // notrack
	StmtVmap    // Left vmap Right (an anonymous set of key : verdict, or @map)
	StmtDynset  // Name (add, update, meter); Set; Left key; Opts timeout, size; Stmts inside
	StmtUnknown // Name: what the model does not know; the converter reports it
)

// Stmt is one statement of a rule.
type Stmt struct {
	Kind  StmtKind
	Range diag.Range
	// Name is the keyword of NAT, Dynset and Unknown statements.
	Name        string
	Left, Right *Expr
	// Op is the relation of a match: "==" (written or implicit), "!=",
	// "<", ">", "<=", ">="; Implicit tells it was not written (bitmask
	// fields then test "any of the bits").
	Op       string
	Implicit bool
	Verdict  string // accept, drop, return, continue, jump, goto, queue
	Target   string // the chain of jump and goto
	Set      string // the set a dynset statement updates (without "@")
	Opts     []Opt
	Stmts    []*Stmt
}

// Opt returns the value of the option called name, and whether it is set.
func (s *Stmt) Opt(name string) (Opt, bool) {
	for _, o := range s.Opts {
		if o.Name == name {
			return o, true
		}
	}
	return Opt{}, false
}

// Opt is a named option of a statement (log prefix, limit rate, ...).
type Opt struct {
	Name, Value string
	Expr        *Expr // a NAT address or port that is an expression
	Range       diag.Range
}

// ExprKind tells what an expression is.
type ExprKind int

const (
	ExprLit     ExprKind = iota // Text: a word, number, address, prefix, or a string when Quoted
	ExprField                   // Proto Name: "ip" "saddr", "meta" "iifname", "ct" "state", "fib" "daddr type"
	ExprRange                   // Args[0] - Args[1]
	ExprSet                     // an anonymous set { Args }: elements, or ExprMapElem for maps
	ExprSetRef                  // @Text
	ExprConcat                  // Args joined by "."
	ExprBinop                   // Args[0] Op Args[1]: "&", "|", "^", "<<", ">>"
	ExprList                    // Args joined by ",": a bitmask list (ct state a,b)
	ExprMapElem                 // Args[0] : Args[1]
	ExprVerdict                 // Text (accept, drop, jump, goto, ...) [Name: target]
)

// Expr is a value or a packet field.
type Expr struct {
	Kind   ExprKind
	Text   string
	Quoted bool
	Proto  string // of a field
	Name   string // of a field; the target of a verdict
	Op     string
	Args   []*Expr
	// Timeout and Comment of a set element, as written ("" none).
	Timeout, Comment string
	Range            diag.Range
}

// Set is a named set or map.
type Set struct {
	Name     string
	Range    diag.Range
	Map      bool     // a map (or verdict map)
	Type     []string // key type, concatenated parts ("ipv4_addr", "inet_service")
	Typeof   []*Expr  // key given by typeof: the fields
	DataType string   // of a map: "verdict", "ipv4_addr", ...
	Flags    []string // interval, timeout, dynamic, constant
	Timeout  string
	Size     string
	Elements []*Expr
	Comment  string
	// Other options (policy, auto-merge, counter, gc-interval): they do not
	// change what the set matches.
	Other []string
}

// HasFlag tells whether the set has flag f.
func (s *Set) HasFlag(f string) bool {
	for _, x := range s.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// Table returns the table of the given family and name, or nil.
func (f *File) Table(family, name string) *Table {
	for _, t := range f.Tables {
		if t.Family == family && t.Name == name {
			return t
		}
	}
	return nil
}

// Chain returns the chain called name, or nil.
func (t *Table) Chain(name string) *Chain {
	for _, c := range t.Chains {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Set returns the set or map called name, or nil.
func (t *Table) Set(name string) *Set {
	for _, s := range t.Sets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// FwcTable is the name of the inet table fwc's nft backend writes (its
// user chains are called TABLE_CHAIN there).
const FwcTable = "fwc"

// priorities are nft's named base chain priorities (for the ip, ip6 and
// inet families, which are what fwc imports).
var priorities = map[string]int{"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
