package graph

import (
	"slices"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/policy"
)

// Analyzer computes a *Graph.
var Analyzer = analysis.WithDoc(doc, &analysis.Analyzer{
	Name: "graph",
	Run:  func(p *analysis.Pass) (any, error) { return New(p.Program), nil },
})

// Edge is one jump or goto.
type Edge struct {
	From  *policy.Chain
	Rule  *policy.Rule // the calling rule, in From
	Index int          // Rule's index in From.Rules
	Jump  *policy.Jump // the action; Jump.Goto tells goto from jump
	To    *policy.Chain
}

// HookSet is a set of hooks.
type HookSet uint8

var hookOrder = []policy.Hook{policy.Prerouting, policy.Input, policy.Forward, policy.Output, policy.Postrouting}

// Of returns the set holding hooks.
func Of(hooks ...policy.Hook) HookSet {
	var s HookSet
	for _, h := range hooks {
		if i := slices.Index(hookOrder, h); i >= 0 {
			s |= 1 << i
		}
	}
	return s
}

// Has reports whether h is in s.
func (s HookSet) Has(h policy.Hook) bool { return s&Of(h) != 0 }

// Hooks lists s in packet-path order: prerouting, input, forward, output,
// postrouting.
func (s HookSet) Hooks() []policy.Hook {
	var out []policy.Hook
	for i, h := range hookOrder {
		if s&(1<<i) != 0 {
			out = append(out, h)
		}
	}
	return out
}

// Graph is the call graph of every table of a program.
type Graph struct {
	// Out holds the edges leaving a chain, in rule order; In those entering
	// it, in table and rule order.
	Out, In map[*policy.Chain][]*Edge
	// Hooks holds, for every chain, the hooks whose base chains reach it
	// (a base chain reaches itself). A chain absent or with an empty set is
	// unreachable.
	Hooks map[*policy.Chain]HookSet
	// Bases holds, for every chain, the base chains that reach it, in table
	// order.
	Bases map[*policy.Chain][]*policy.Chain
	// Cycles holds one cycle per strongly connected component that loops
	// (several chains, or one chain that jumps to itself): the edges in
	// call order, the last one returning to Cycles[i][0].From.
	Cycles [][]*Edge

	parent map[*policy.Chain]map[*policy.Chain]*Edge // base → chain → edge into chain
	comp   map[*policy.Chain]int
	loops  map[int]bool
}

// New computes the graph of p; p may be nil.
func New(p *policy.Program) *Graph {
	g := &Graph{
		Out:    map[*policy.Chain][]*Edge{},
		In:     map[*policy.Chain][]*Edge{},
		Hooks:  map[*policy.Chain]HookSet{},
		Bases:  map[*policy.Chain][]*policy.Chain{},
		parent: map[*policy.Chain]map[*policy.Chain]*Edge{},
		comp:   map[*policy.Chain]int{},
		loops:  map[int]bool{},
	}
	if p == nil {
		return g
	}
	for _, t := range p.Tables {
		for _, c := range t.Chains {
			for i, r := range c.Rules {
				for _, a := range r.Actions {
					if j, ok := a.(*policy.Jump); ok && j.Target != nil {
						e := &Edge{From: c, Rule: r, Index: i, Jump: j, To: j.Target}
						g.Out[c] = append(g.Out[c], e)
						g.In[j.Target] = append(g.In[j.Target], e)
					}
				}
			}
		}
		for _, c := range t.Chains {
			if c.IsBase() {
				g.reach(c)
			}
		}
		g.sccs(t)
	}
	return g
}

// reach walks breadth-first from base chain b, so that Path is shortest.
func (g *Graph) reach(b *policy.Chain) {
	par := map[*policy.Chain]*Edge{b: nil}
	g.parent[b] = par
	queue := []*policy.Chain{b}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		g.Hooks[c] |= Of(b.Hook)
		g.Bases[c] = append(g.Bases[c], b)
		for _, e := range g.Out[c] {
			if _, seen := par[e.To]; !seen {
				par[e.To] = e
				queue = append(queue, e.To)
			}
		}
	}
}

// Reachable reports whether some base chain reaches c.
func (g *Graph) Reachable(c *policy.Chain) bool { return g.Hooks[c] != 0 }

// Path returns a shortest call path from base chain base to c: the edges in
// call order, empty when c is base, nil when base does not reach c.
func (g *Graph) Path(base, c *policy.Chain) []*Edge {
	par := g.parent[base]
	if _, ok := par[c]; !ok {
		return nil
	}
	path := []*Edge{}
	for e := par[c]; e != nil; e = par[e.From] {
		path = append(path, e)
	}
	slices.Reverse(path)
	return path
}

// OnCycle reports whether c lies on a jump loop.
func (g *Graph) OnCycle(c *policy.Chain) bool {
	i, ok := g.comp[c]
	return ok && g.loops[i]
}

// sccs runs Tarjan's algorithm over t's chains (iteratively, so a deep
// chain of jumps cannot exhaust the stack) and records a cycle per looping
// component.
func (g *Graph) sccs(t *policy.Table) {
	index := map[*policy.Chain]int{}
	low := map[*policy.Chain]int{}
	onStack := map[*policy.Chain]bool{}
	var stack []*policy.Chain
	next := 0
	type frame struct {
		c *policy.Chain
		i int
	}
	for _, root := range t.Chains {
		if _, done := index[root]; done {
			continue
		}
		work := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(work) > 0 {
			f := &work[len(work)-1]
			if f.i < len(g.Out[f.c]) {
				w := g.Out[f.c][f.i].To
				f.i++
				if _, seen := index[w]; !seen {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					work = append(work, frame{w, 0})
				} else if onStack[w] {
					low[f.c] = min(low[f.c], index[w])
				}
				continue
			}
			c := f.c
			work = work[:len(work)-1]
			if len(work) > 0 {
				p := work[len(work)-1].c
				low[p] = min(low[p], low[c])
			}
			if low[c] != index[c] {
				continue
			}
			id := len(g.comp) + 1
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				g.comp[w] = id
				if w == c {
					break
				}
			}
			if cyc := g.cycleIn(c, id); cyc != nil {
				g.loops[id] = true
				g.Cycles = append(g.Cycles, cyc)
			}
		}
	}
}

// cycleIn finds a shortest cycle through c inside component id, or nil.
func (g *Graph) cycleIn(c *policy.Chain, id int) []*Edge {
	par := map[*policy.Chain]*Edge{}
	queue := []*policy.Chain{c}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, e := range g.Out[x] {
			if g.comp[e.To] != id {
				continue
			}
			if e.To == c {
				path := []*Edge{e}
				for p := par[x]; p != nil; p = par[p.From] {
					path = append(path, p)
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := par[e.To]; !seen {
				par[e.To] = e
				queue = append(queue, e.To)
			}
		}
	}
	return nil
}
