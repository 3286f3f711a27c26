package ir_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"

	"github.com/fwcproject/fwc/internal/irfixture"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// chain lowers rules written in one chain, the filter table's input chain
// unless table says otherwise (as "mangle postrouting"), and returns the
// lowered rules of that chain.
func chain(t *testing.T, where string, rules ...string) []*ir.Rule {
	t.Helper()
	rs := irfixture.Lower(t, "t.fw", policyText(where, rules...))
	return rs.Tables[0].Chains[0].Rules
}

func policyText(where string, rules ...string) string {
	table, hook, _ := strings.Cut(where, " ")
	if where == "" {
		table, hook = "filter", "input"
	}
	return "table " + table + " {\n\tchain " + hook + " {\n\t\t" + strings.Join(rules, "\n\t\t") + "\n\t}\n}\n"
}

func families(rules []*ir.Rule) string {
	var s []string
	for _, r := range rules {
		s = append(s, r.Family.String())
	}
	return strings.Join(s, " ")
}

func TestSplitFamilies(t *testing.T) {
	for _, tc := range []struct {
		name, where, rule string
		want              string
	}{
		{"neutral", "", "tcp dport 22 accept", "inet"},
		{"dual addresses", "", "saddr 10.0.0.1, fd00::1 accept", "ipv4 ipv6"},
		{"v4 address", "", "saddr 10.0.0.1 accept", "ipv4"},
		{"negated v4 list", "", "saddr != 10.0.0.0/8 drop", "ipv4"},
		{"negated list of both", "", "saddr != 10.0.0.0/8, fd00::/8 drop", "ipv4 ipv6"},
		{"icmp", "", "icmp type echo-request accept", "ipv4"},
		{"icmpv6", "", "icmpv6 type echo-request accept", "ipv6"},
		{"ttl", "mangle postrouting", "ttl set 9", "ipv4 ipv6"},
		{"host-prohibited", "", "reject with icmp-host-prohibited", "ipv4 ipv6"},
		{"port-unreachable", "", "reject with icmp-port-unreachable", "inet"},
	} {
		if got := families(chain(t, tc.where, tc.rule)); got != tc.want {
			t.Errorf("%s: families %q, want %q", tc.name, got, tc.want)
		}
	}
	// A negated IPv4 list in a rule of both families keeps the IPv4 part
	// for IPv4 and no condition for IPv6. The checker makes such a rule
	// IPv4 only, so the program is made by hand.
	tbl := &policy.Table{Name: "filter"}
	neg := &policy.AddrCond{Dir: policy.Src, Neg: true, Items: []policy.AddrItem{{Prefix: netip.MustParsePrefix("10.0.0.0/8")}}}
	tbl.Chains = []*policy.Chain{{Table: tbl, Name: "input", Hook: policy.Input, Policy: &policy.Verdict{Kind: policy.Drop},
		Rules: []*policy.Rule{{Family: policy.Both, Conds: []policy.Cond{neg}, Actions: []policy.Action{&policy.Verdict{Kind: policy.Drop}}}}}}
	low, ds := ir.Lower(&policy.Program{Tables: []*policy.Table{tbl}})
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	rs := low.Tables[0].Chains[0].Rules
	if len(rs) != 2 || len(rs[0].Matches) != 1 || len(rs[1].Matches) != 0 {
		t.Errorf("negated list: matches %d and %d, want 1 and 0", len(rs[0].Matches), len(rs[1].Matches))
	}
}

// TestPassThrough: a condition or action nothing in the family depends on
// is the lowered rule's as the checker made it; one that depends on the
// family is that family's copy.
func TestPassThrough(t *testing.T) {
	prog := irfixture.Program(t, "t.fw", policyText("", "tcp dport 22 ct state new saddr 10.0.0.1, fd00::1 log prefix \"x\" accept"))
	rs, ds := ir.Lower(prog)
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	src := prog.Tables[0].Chains[0].Rules[0]
	low := rs.Tables[0].Chains[0].Rules
	if len(low) != 2 {
		t.Fatalf("%d rules, want one per family", len(low))
	}
	for _, r := range low {
		for _, m := range r.Matches {
			shared := slices.Contains(src.Conds, m)
			_, isAddr := m.(*policy.AddrCond)
			if shared == isAddr {
				t.Errorf("%s: %T shared with the policy rule: %v", r.Family, m, shared)
			}
		}
		for i, a := range r.Actions {
			if a != src.Actions[i] {
				t.Errorf("%s: action %T is a copy", r.Family, a)
			}
		}
	}
}

func TestMergeKeepsOrder(t *testing.T) {
	rs := irfixture.Lower(t, "m.fw", policyText("",
		"tcp dport 22 accept",
		"tcp dport 80 accept",
		"tcp dport 443 accept",
		"saddr 10.0.0.1 accept",
		"saddr 10.0.0.2 drop",
		"saddr 10.0.0.3 drop",
		"saddr 10.0.0.1 drop # dead: must not join the map",
		"tcp dport 443 limit 1/second accept",
		"tcp dport 444 limit 1/second accept",
	))
	got := ir.Merge(rs).Tables[0].Chains[0].Rules
	if len(got) != 5 {
		t.Fatalf("%d rules after merge, want 5", len(got))
	}
	if p, ok := got[0].Matches[1].(*policy.PortCond); !ok || len(p.Ranges) != 3 {
		t.Errorf("ports not merged into one set: %#v", got[0].Matches)
	}
	if vm, ok := got[1].Actions[0].(*ir.VerdictMap); !ok || len(vm.Entries) != 3 {
		t.Errorf("addresses not merged into a verdict map: %#v", got[1].Actions)
	}
	if c := got[1].Comment(128); c != "m.fw:6-8" {
		t.Errorf("merged comment %q", c)
	}
	if len(rs.Tables[0].Chains[0].Rules) != 9 {
		t.Error("Merge changed its input")
	}
}

// TestMergeNewSets: two rules do not become a new anonymous set or verdict
// map (the kernel's cost of binding a set outweighs one rule saved); two
// that join values already in a set, or ct state bits, still merge; two
// whose port matches read different protocols do not.
func TestMergeNewSets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules []string
		want  int
	}{
		{"port pair", []string{"tcp dport 22 accept", "tcp dport 80 accept"}, 2},
		{"verdict pair", []string{"saddr 10.0.0.1 accept", "saddr 10.0.0.2 drop"}, 2},
		{"pair joining a set", []string{"tcp dport 22, 23 accept", "tcp dport 80 accept"}, 1},
		{"ct state pair", []string{"ct state established accept", "ct state related accept"}, 1},
		{"address triple", []string{"saddr 10.0.0.1 drop", "saddr 10.0.0.2 drop", "saddr 10.0.0.3 drop"}, 1},
		{"protocols of one port", []string{"tcp dport 53 accept", "udp dport 53 accept", "sctp dport 53 accept"}, 3},
		{"protocols of one port, verdicts", []string{"tcp dport 53 accept", "udp dport 53 drop", "sctp dport 53 accept"}, 3},
	} {
		rs := irfixture.Lower(t, "m.fw", policyText("", tc.rules...))
		if got := len(ir.Merge(rs).Tables[0].Chains[0].Rules); got != tc.want {
			t.Errorf("%s: %d rules after merge, want %d", tc.name, got, tc.want)
		}
	}
}

func TestProbabilities(t *testing.T) {
	var got []string
	for i := 0; i < 3; i++ {
		got = append(got, ir.FormatProbability(ir.Probability(i, 3)))
	}
	if s := strings.Join(got, " "); s != "0.33333333349 0.50000000000 1.00000000000" {
		t.Errorf("probabilities %s", s)
	}
}

func TestLowerNilAndBadJump(t *testing.T) {
	if rs, ds := ir.Lower(nil); rs == nil || len(ds) != 0 {
		t.Error("nil program")
	}
	// The checker refuses such a jump, so the program is made by hand.
	other := &policy.Chain{Table: &policy.Table{Name: "nat"}, Name: "x"}
	tbl := &policy.Table{Name: "filter"}
	tbl.Chains = []*policy.Chain{{Table: tbl, Name: "input", Hook: policy.Input, Policy: &policy.Verdict{Kind: policy.Drop},
		Rules: []*policy.Rule{{Actions: []policy.Action{&policy.Jump{Target: other}}}}}}
	_, ds := ir.Lower(&policy.Program{Tables: []*policy.Table{tbl}})
	if len(ds) != 1 || ds[0].Code != "FW2000" {
		t.Errorf("jump to another table: %v", ds)
	}
}

// A zone's networks and the rule's own address of the same direction
// become one match on their intersection; an empty one drops the rule (a
// lint pass reports it, FW1103; fixtures are checked without lint).
func TestIntersectAddrs(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []string
		want string // ir.Addrs of the one match, "" for no rule
	}{
		{"host in zone", []string{"192.168.172.0/24"}, []string{"192.168.172.131"}, "192.168.172.131"},
		{"zone in list", []string{"10.0.0.0/8", "fd00::/8"}, []string{"10.1.0.0/16"}, "10.1.0.0/16"},
		{"range cut", []string{"10.0.0.0/30"}, []string{"10.0.0.2-10.0.0.9"}, "10.0.0.2-10.0.0.3"},
		{"disjoint", []string{"10.0.0.0/8"}, []string{"192.168.1.1"}, ""},
	} {
		rules := chain(t, "", "saddr "+strings.Join(tc.a, ", ")+" saddr "+strings.Join(tc.b, ", ")+" accept")
		got := ""
		for _, r := range rules {
			if r.Family != ir.IPv4 {
				continue
			}
			if len(r.Matches) != 1 {
				t.Fatalf("%s: %d matches, want one", tc.name, len(r.Matches))
			}
			got = ir.Addrs(r.Matches[0].(*policy.AddrCond).Items)
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCommentSameLine(t *testing.T) {
	r := &ir.Rule{Pos: []ir.Pos{{File: "a.fw", Line: 18}, {File: "a.fw", Line: 18}, {File: "a.fw", Line: 19}, {File: "a.fw", Line: 30}}}
	if c := r.Comment(128); c != "a.fw:18-19,30" {
		t.Errorf("comment %q", c)
	}
}

// TestCommentNames: rule positions name files relative to the root file's
// directory, however the root was named; a file the root's directory
// cannot reach keeps its name.
func TestCommentNames(t *testing.T) {
	for _, tc := range []struct{ root, file, want string }{
		{"/etc/fwc/host.fw", "/etc/fwc/host.fw", "host.fw"},
		{"/etc/fwc/host.fw", "/etc/fwc/inc/zones.fw", "inc/zones.fw"},
		{"/etc/fwc/host.fw", "/etc/common.fw", "../common.fw"},
		{"examples/host.fw", "examples/host.fw", "host.fw"},
		{"host.fw", "host.fw", "host.fw"},
		{"host.fw", "/srv/common.fw", "/srv/common.fw"},
	} {
		p := irfixture.Program(t, tc.file, "table filter {\n\tchain input {\n\t\ttcp dport 22 accept\n\t}\n}\n")
		p.Files = []*ast.File{{Range: diag.Range{Filename: tc.root}}}
		rs, _ := ir.Lower(p)
		r := rs.Tables[0].Chains[0].Rules[0]
		if got := r.Comment(128); got != tc.want+":3" {
			t.Errorf("root %s, rule in %s: comment %q, want %q", tc.root, tc.file, got, tc.want+":3")
		}
		if r.Pos[0].Range.Filename != tc.file {
			t.Errorf("root %s: the rule's range names %q, want the file as loaded, %q", tc.root, r.Pos[0].Range.Filename, tc.file)
		}
	}
}
