package graph_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/internal/graph"
	"github.com/fwcproject/fwc/policy"
)

// build makes one filter table from a description: "input>a,b" is base chain
// input (a hook name) with one rule jumping to a and one to b; "a>>b" is
// user chain a with a goto to b.
func build(desc ...string) (*policy.Program, map[string]*policy.Chain) {
	t := &policy.Table{Name: "filter"}
	chains := map[string]*policy.Chain{}
	get := func(name string) *policy.Chain {
		if c := chains[name]; c != nil {
			return c
		}
		c := &policy.Chain{Table: t, Name: name}
		switch policy.Hook(name) {
		case policy.Prerouting, policy.Input, policy.Forward, policy.Output, policy.Postrouting:
			c.Hook = policy.Hook(name)
		}
		chains[name] = c
		t.Chains = append(t.Chains, c)
		return c
	}
	for _, d := range desc {
		from, to, _ := strings.Cut(d, ">")
		c := get(from)
		isGoto := strings.HasPrefix(to, ">")
		to = strings.TrimPrefix(to, ">")
		if to == "" {
			continue
		}
		for _, target := range strings.Split(to, ",") {
			c.Rules = append(c.Rules, &policy.Rule{Actions: []policy.Action{&policy.Jump{Goto: isGoto, Target: get(target)}}})
		}
	}
	return &policy.Program{Tables: []*policy.Table{t}}, chains
}

func TestGraph(t *testing.T) {
	p, c := build("input>a", "a>>b", "forward>b", "b>", "orphan>b", "x>y", "y>x", "self>self", "output>", "b>z", "z>b")
	var g *graph.Graph
	probe := &analysis.Analyzer{Name: "probe", Requires: []*analysis.Analyzer{graph.Analyzer}, Run: func(p *analysis.Pass) (any, error) {
		g = p.ResultOf[graph.Analyzer].(*graph.Graph)
		return nil, nil
	}}
	if ds := analysis.Run(p, []*analysis.Analyzer{probe}, analysis.Options{}); len(ds) != 0 {
		t.Fatalf("unexpected diagnostics: %v", ds)
	}
	hooks := func(name string) string {
		var s []string
		for _, h := range g.Hooks[c[name]].Hooks() {
			s = append(s, string(h))
		}
		return strings.Join(s, ",")
	}
	for name, want := range map[string]string{
		"input": "input", "a": "input", "b": "input,forward", "z": "input,forward",
		"forward": "forward", "output": "output", "orphan": "", "x": "", "self": "",
	} {
		if got := hooks(name); got != want {
			t.Errorf("hooks(%s) = %q, want %q", name, got, want)
		}
	}
	if g.Reachable(c["orphan"]) || !g.Reachable(c["a"]) {
		t.Errorf("Reachable wrong")
	}
	if n := len(g.Bases[c["b"]]); n != 2 {
		t.Errorf("Bases(b) has %d chains, want 2", n)
	}
	path := g.Path(c["input"], c["z"])
	var names []string
	for _, e := range path {
		names = append(names, e.From.Name+"->"+e.To.Name)
		if e.From.Rules[e.Index] != e.Rule {
			t.Errorf("edge index wrong")
		}
	}
	if got := strings.Join(names, " "); got != "input->a a->b b->z" {
		t.Errorf("Path(input, z) = %q", got)
	}
	if !path[1].Jump.Goto || path[0].Jump.Goto {
		t.Errorf("goto flags wrong")
	}
	if g.Path(c["forward"], c["a"]) != nil || len(g.Path(c["input"], c["input"])) != 0 || g.Path(c["input"], c["input"]) == nil {
		t.Errorf("Path edge cases wrong")
	}
	onCycle := map[string]bool{"x": true, "y": true, "self": true, "b": true, "z": true}
	for name, ch := range c {
		if g.OnCycle(ch) != onCycle[name] {
			t.Errorf("OnCycle(%s) = %v", name, !onCycle[name])
		}
	}
	if len(g.Cycles) != 3 {
		t.Fatalf("got %d cycles, want 3", len(g.Cycles))
	}
	for _, cyc := range g.Cycles {
		for i, e := range cyc {
			if next := cyc[(i+1)%len(cyc)]; e.To != next.From {
				t.Errorf("cycle not closed: %s->%s then %s", e.From.Name, e.To.Name, next.From.Name)
			}
		}
	}
}

func TestGraphDeepChainNoStackOverflow(t *testing.T) {
	var desc []string
	desc = append(desc, "input>c0")
	for i := 0; i < 20000; i++ {
		desc = append(desc, "c"+strconv.Itoa(i)+">c"+strconv.Itoa(i+1))
	}
	p, c := build(desc...)
	g := graph.New(p)
	if !g.Hooks[c["c20000"]].Has(policy.Input) || len(g.Cycles) != 0 {
		t.Errorf("deep chain: wrong reachability or cycles")
	}
}

func TestNilProgram(t *testing.T) {
	if g := graph.New(nil); g.Reachable(nil) || len(g.Cycles) != 0 {
		t.Errorf("nil program gives facts")
	}
}
