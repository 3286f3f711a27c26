// Package check is fwc's checker: it resolves names, gives values types,
// expands zones, services and balances into ordered rules of netfilter's
// base chains (package policy), and runs the lint passes over the result.
//
// It sits after lang (which parses) and before ir (which lowers per family).
package check

import (
	"fmt"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// Options tune a check.
type Options struct {
	// Backends the user will translate to ("nft", "iptables", "ip6tables");
	// the capability pass reports constructs these cannot express.
	Backends []string
	// Severity overrides the default severity of lint codes.
	Severity map[string]diag.Severity
	// Disable drops lint findings with these codes.
	Disable map[string]bool
	// NoLint skips the lint passes (names and types are still checked).
	NoLint bool
	// ErrorsOnly runs only the lint passes that can report errors (and
	// what they require): what translate and apply need before they emit
	// anything. The passes that only warn, such as the packet-space
	// analyses of shadowed and redundant rules, are fwc check's.
	ErrorsOnly bool
	// Passes are the lint passes to run; nil means all of them
	// (passes.All). Tests of one pass name it.
	Passes []*analysis.Analyzer
}

// Check checks one policy made of files (a root and its includes) and
// returns the typed program. The program is usable for lowering only when
// the diagnostics hold no error.
func Check(files []*ast.File, opts Options) (*policy.Program, diag.Diagnostics) {
	c := newChecker(files)
	c.collect()
	c.declare()
	c.lower()
	ds := c.diags
	if !opts.NoLint {
		// Lint what did check, even when something else did not, so that
		// one run shows every problem. A rule that failed is not in the
		// program (and its chain is marked incomplete), so no pass sees a
		// half-checked rule.
		ds = append(ds, lint(c.prog, opts, c.failed)...)
	}
	return c.prog, ds
}

type checker struct {
	prog  *policy.Program
	diags diag.Diagnostics

	defines  map[string]*ast.Define
	zones    map[string]*policy.Zone
	services map[string]*policy.Service
	sets     map[string]*policy.Set
	routes   map[string]*policy.Route
	balances map[string]*ast.Balance
	tables   map[string]*policy.Table

	// first declarations by kind and name, for duplicate reports.
	seen map[string]map[string]ast.Node
	// defining is the stack of defines being expanded, against cycles.
	defining []string

	// decls in source order across files.
	decls []ast.Decl

	// tainted holds the declarations ("zone lan", "set x") that failed to
	// check, or whose name was declared twice: a rule that uses one fails
	// with it, silently (the declaration's error is the report).
	tainted map[string]bool
	// usedTainted is set by a lookup of a tainted declaration; checking
	// clears it.
	usedTainted bool
	// incomplete holds "table/chain" for the chains a failed rule was
	// meant for; lower marks them at the end.
	incomplete map[string]bool
	// incompleteAll: rules of an unknown table were left out, so any
	// chain may lack some.
	incompleteAll bool
	// errors is the number of errors among the first counted diags.
	errors, counted int
	// failed are the source ranges of the declarations and rules that
	// failed to check: no lint finding is reported in them or citing them.
	failed []diag.Range
}

func newChecker(files []*ast.File) *checker {
	return &checker{
		prog:     &policy.Program{Files: files},
		defines:  map[string]*ast.Define{},
		zones:    map[string]*policy.Zone{},
		services: map[string]*policy.Service{},
		sets:     map[string]*policy.Set{},
		routes:   map[string]*policy.Route{},
		balances: map[string]*ast.Balance{},
		tables:   map[string]*policy.Table{},
		seen:     map[string]map[string]ast.Node{},

		tainted:    map[string]bool{},
		incomplete: map[string]bool{},
	}
}

// errorCount is the number of errors reported so far. Diagnostics are only
// ever appended, so it counts the new ones since its last call: checking
// every rule stays linear in the policy.
func (c *checker) errorCount() int {
	for ; c.counted < len(c.diags); c.counted++ {
		if c.diags[c.counted].Severity == diag.Error {
			c.errors++
		}
	}
	return c.errors
}

// checking starts checking one declaration or rule; the returned function
// reports whether it failed: an error was reported meanwhile, or it used a
// declaration that had failed.
func (c *checker) checking() (failed func() bool) {
	n := c.errorCount()
	c.usedTainted = false
	return func() bool { return c.errorCount() > n || c.usedTainted }
}

// fail records that the declaration or rule n failed to check.
func (c *checker) fail(n ast.Node) {
	if n != nil {
		c.failed = append(c.failed, n.Span())
	}
}

// use records a lookup of the declaration of kind and name.
func (c *checker) use(kind, name string) {
	if c.tainted[kind+" "+name] {
		c.usedTainted = true
	}
}

func (c *checker) errorf(code string, n ast.Node, format string, args ...any) *diag.Diagnostic {
	return c.diags.Add(diag.Error, code, n.Span(), fmt.Sprintf(format, args...), "")
}

func (c *checker) warnf(code string, n ast.Node, format string, args ...any) *diag.Diagnostic {
	return c.diags.Add(diag.Warning, code, n.Span(), fmt.Sprintf(format, args...), "")
}

// claim records a declaration of kind and name; it reports a duplicate and
// returns false when the name is taken.
func (c *checker) claim(kind string, name ast.Ident, n ast.Node) bool {
	m := c.seen[kind]
	if m == nil {
		m = map[string]ast.Node{}
		c.seen[kind] = m
	}
	if prev, dup := m[name.Name]; dup {
		c.tainted[kind+" "+name.Name] = true
		c.fail(n)
		d := c.errorf(codeDuplicate, name, "%s %q is already declared", kind, name.Name)
		d.Related = append(d.Related, diag.Related{Message: "first declared here", Range: prev.Span()})
		return false
	}
	m[name.Name] = n
	return true
}

// unknown reports an unknown name of kind, suggesting a close one.
func (c *checker) unknown(kind string, n ast.Node, name string, candidates []string) {
	d := c.errorf(codeUnknown, n, "unknown %s %q", kind, name)
	if s := suggest(name, candidates); s != "" {
		d.Summary += fmt.Sprintf("; did you mean %q?", s)
	}
}

// collect gathers declarations from every file, in order.
func (c *checker) collect() {
	for _, f := range c.prog.Files {
		c.decls = append(c.decls, f.Decls...)
	}
	// Defines first, so $refs anywhere can use defines declared later.
	for _, d := range c.decls {
		if d, ok := d.(*ast.Define); ok && c.claim("define", d.Name, d) {
			c.defines[d.Name.Name] = d
		}
	}
}

// declare checks declarations that rules refer to: sets, zones, services,
// routes, and the tables' chains (without their rules).
func (c *checker) declare() {
	for _, d := range c.decls {
		switch d := d.(type) {
		case *ast.Set:
			if c.claim("set", d.Name, d) {
				failed := c.checking()
				s := c.checkSet(d)
				if failed() {
					c.tainted["set "+s.Name] = true
					c.fail(d)
				}
				c.sets[s.Name] = s
				c.prog.Sets = append(c.prog.Sets, s)
			}
		case *ast.Zone:
			if d.Name.Name == "self" || d.Name.Name == "any" {
				c.errorf(codeDuplicate, d.Name, "zone %q is predeclared", d.Name.Name)
				continue
			}
			if c.claim("zone", d.Name, d) {
				failed := c.checking()
				z := c.checkZone(d)
				if failed() {
					c.tainted["zone "+z.Name] = true
					c.fail(d)
				}
				c.zones[z.Name] = z
				c.prog.Zones = append(c.prog.Zones, z)
			}
		case *ast.Service:
			if c.claim("service", d.Name, d) {
				failed := c.checking()
				s := c.checkService(d)
				if failed() {
					c.tainted["service "+s.Name] = true
					c.fail(d)
				}
				c.services[s.Name] = s
				c.prog.Services = append(c.prog.Services, s)
			}
		case *ast.Route:
			if c.claim("route", d.Name, d) {
				failed := c.checking()
				r := c.checkRoute(d)
				if failed() {
					c.tainted["route "+r.Name] = true
					c.fail(d)
				}
				c.routes[r.Name] = r
				c.prog.Routes = append(c.prog.Routes, r)
			}
		case *ast.Sysctl:
			if c.claim("sysctl", d.Key, d) {
				if s := c.checkSysctl(d); s != nil {
					c.prog.Sysctls = append(c.prog.Sysctls, s)
				} else {
					c.fail(d)
				}
			}
		case *ast.Balance:
			if c.claim("balance", d.Name, d) {
				c.balances[d.Name.Name] = d
			}
		case *ast.Table:
			c.declareTable(d)
		}
	}
}

func (c *checker) table(name string) *policy.Table {
	t := c.tables[name]
	if t == nil {
		t = &policy.Table{Name: name}
		c.tables[name] = t
	}
	return t
}

func (c *checker) declareTable(d *ast.Table) {
	known := false
	for _, n := range tableOrder {
		known = known || n == d.Name.Name
	}
	if !known {
		c.unknownTable(d.Name)
		// Its rules were meant for chains of some table: every chain
		// may lack them.
		c.incompleteAll = true
		return
	}
	t := c.table(d.Name.Name)
	for _, ch := range d.Chains {
		if !c.claim("chain in table "+t.Name, ch.Name, ch) {
			c.failedIn(t.Name, ch.Name.Name) // its rules are left out
			continue
		}
		pc := &policy.Chain{Table: t, Name: ch.Name.Name, Decl: ch}
		if h, ok := hooks[ch.Name.Name]; ok {
			pc.Hook = h
			pc.Priority = stdPriority(t.Name, h)
			if ch.Priority != nil {
				if n, ok := c.signedNumber(ch.Priority, -1000, 1000); ok {
					pc.Priority = n
				}
			}
			pc.Policy = &policy.Verdict{Kind: policy.Accept}
			if ch.Policy != nil {
				switch ch.Policy.Name {
				case "accept":
				case "drop":
					pc.Policy.Kind = policy.Drop
				default:
					c.errorf(codeBadChain, ch.Policy, "a chain policy is accept or drop, not %q", ch.Policy.Name)
				}
			}
		} else {
			if ch.Policy != nil {
				c.errorf(codeBadChain, ch.Policy, "user chain %q cannot have a policy; only base chains (named after a hook) have one", ch.Name.Name)
			}
			if ch.Priority != nil {
				c.errorf(codeBadChain, ch.Priority, "user chain %q cannot have a priority", ch.Name.Name)
			}
		}
		t.Chains = append(t.Chains, pc)
	}
}

func (c *checker) unknownTable(n ast.Ident) {
	c.unknown("table", n, n.Name, tableOrder)
	c.diags[len(c.diags)-1].Code = codeBadTable
}
