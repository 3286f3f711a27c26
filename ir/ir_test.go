package ir_test

import (
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"

	"github.com/fwcproject/fwc/ir"
	sample "github.com/fwcproject/fwc/ir/irtest"
	"github.com/fwcproject/fwc/policy"
)

func input(rules ...*policy.Rule) *policy.Program {
	t := &policy.Table{Name: "filter"}
	c := &policy.Chain{Table: t, Name: "input", Hook: policy.Input, Policy: &policy.Verdict{Kind: policy.Drop}, Rules: rules}
	t.Chains = []*policy.Chain{c}
	return &policy.Program{Tables: []*policy.Table{t}}
}

func lower(t *testing.T, rules ...*policy.Rule) []*ir.Rule {
	t.Helper()
	rs, ds := ir.Lower(input(rules...))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	return rs.Tables[0].Chains[0].Rules
}

func families(rules []*ir.Rule) string {
	var s []string
	for _, r := range rules {
		s = append(s, r.Family.String())
	}
	return strings.Join(s, " ")
}

func TestSplitFamilies(t *testing.T) {
	b := &sample.Builder{File: "t.fw"}
	v6only := b.R(sample.C(sample.Saddr("fd00::1")), sample.Accept)
	v6only.Family = policy.IPv4 // `family ipv4` with only IPv6 addresses: nothing left
	for _, tc := range []struct {
		name string
		rule *policy.Rule
		want string
	}{
		{"neutral", b.R(sample.C(sample.TCP, sample.Dport(22)), sample.Accept), "inet"},
		{"dual addresses", b.R(sample.C(sample.Saddr("10.0.0.1", "fd00::1")), sample.Accept), "ipv4 ipv6"},
		{"v4 address", b.R(sample.C(sample.Saddr("10.0.0.1")), sample.Accept), "ipv4"},
		{"negated v4 list holds for v6", b.R(sample.C(sample.NotSaddr("10.0.0.0/8")), sample.Drop), "ipv4 ipv6"},
		{"icmp", b.R(sample.C(&policy.ICMPCond{Types: []policy.ICMPType{{Type: 8, Code: -1}}}), sample.Accept), "ipv4"},
		{"icmpv6", b.R(sample.C(&policy.ICMPCond{V6: true, Types: []policy.ICMPType{{Type: 128, Code: -1}}}), sample.Accept), "ipv6"},
		{"family restriction", v6only, ""},
		{"ttl", b.R(sample.C(), &policy.SetTTL{Value: 9}), "ipv4 ipv6"},
		{"host-prohibited", b.R(sample.C(), sample.Reject("icmp-host-prohibited")), "ipv4 ipv6"},
		{"port-unreachable", b.R(sample.C(), sample.Reject("icmp-port-unreachable")), "inet"},
	} {
		if got := families(lower(t, tc.rule)); got != tc.want {
			t.Errorf("%s: families %q, want %q", tc.name, got, tc.want)
		}
	}
	// The negated list keeps the IPv4 part for IPv4 and no condition for IPv6.
	rs := lower(t, b.R(sample.C(sample.NotSaddr("10.0.0.0/8")), sample.Drop))
	if len(rs[0].Matches) != 1 || len(rs[1].Matches) != 0 {
		t.Errorf("negated list: matches %d and %d, want 1 and 0", len(rs[0].Matches), len(rs[1].Matches))
	}
}

func TestMergeKeepsOrder(t *testing.T) {
	b := &sample.Builder{File: "m.fw"}
	rs, _ := ir.Lower(input(
		b.R(sample.C(sample.TCP, sample.Dport(22)), sample.Accept),
		b.R(sample.C(sample.TCP, sample.Dport(80)), sample.Accept),
		b.R(sample.C(sample.TCP, sample.Dport(443)), sample.Accept),
		b.R(sample.C(sample.Saddr("10.0.0.1")), sample.Accept),
		b.R(sample.C(sample.Saddr("10.0.0.2")), sample.Drop),
		b.R(sample.C(sample.Saddr("10.0.0.3")), sample.Drop),
		b.R(sample.C(sample.Saddr("10.0.0.1")), sample.Drop), // dead: must not join the map
		b.R(sample.C(sample.TCP, sample.Dport(443), &policy.LimitCond{Rate: policy.Rate{Count: 1, Unit: 1e9}}), sample.Accept),
		b.R(sample.C(sample.TCP, sample.Dport(444), &policy.LimitCond{Rate: policy.Rate{Count: 1, Unit: 1e9}}), sample.Accept),
	))
	got := ir.Merge(rs).Tables[0].Chains[0].Rules
	if len(got) != 5 {
		t.Fatalf("%d rules after merge, want 5", len(got))
	}
	if p, ok := got[0].Matches[1].(*ir.Port); !ok || len(p.Ranges) != 3 {
		t.Errorf("ports not merged into one set: %#v", got[0].Matches)
	}
	if vm, ok := got[1].Actions[0].(*ir.VerdictMap); !ok || len(vm.Entries) != 3 {
		t.Errorf("addresses not merged into a verdict map: %#v", got[1].Actions)
	}
	if c := got[1].Comment(128); c != "m.fw:4-6" {
		t.Errorf("merged comment %q", c)
	}
	if len(rs.Tables[0].Chains[0].Rules) != 9 {
		t.Error("Merge changed its input")
	}
}

// TestMergeNewSets: two rules do not become a new anonymous set or verdict
// map (the kernel's cost of binding a set outweighs one rule saved); two
// that join values already in a set, or ct state bits, still merge.
func TestMergeNewSets(t *testing.T) {
	b := &sample.Builder{File: "m.fw"}
	for _, tc := range []struct {
		name  string
		rules []*policy.Rule
		want  int
	}{
		{"port pair", []*policy.Rule{
			b.R(sample.C(sample.TCP, sample.Dport(22)), sample.Accept),
			b.R(sample.C(sample.TCP, sample.Dport(80)), sample.Accept),
		}, 2},
		{"verdict pair", []*policy.Rule{
			b.R(sample.C(sample.Saddr("10.0.0.1")), sample.Accept),
			b.R(sample.C(sample.Saddr("10.0.0.2")), sample.Drop),
		}, 2},
		{"pair joining a set", []*policy.Rule{
			b.R(sample.C(sample.TCP, sample.Dport(22, 23)), sample.Accept),
			b.R(sample.C(sample.TCP, sample.Dport(80)), sample.Accept),
		}, 1},
		{"ct state pair", []*policy.Rule{
			b.R(sample.C(sample.Ct(policy.CtEstablished)), sample.Accept),
			b.R(sample.C(sample.Ct(policy.CtRelated)), sample.Accept),
		}, 1},
		{"address triple", []*policy.Rule{
			b.R(sample.C(sample.Saddr("10.0.0.1")), sample.Drop),
			b.R(sample.C(sample.Saddr("10.0.0.2")), sample.Drop),
			b.R(sample.C(sample.Saddr("10.0.0.3")), sample.Drop),
		}, 1},
	} {
		rs, _ := ir.Lower(input(tc.rules...))
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
	b := &sample.Builder{File: "j.fw"}
	other := &policy.Chain{Table: &policy.Table{Name: "nat"}, Name: "x"}
	_, ds := ir.Lower(input(b.R(sample.C(), &policy.Jump{Target: other})))
	if len(ds) != 1 || ds[0].Code != "FW2000" {
		t.Errorf("jump to another table: %v", ds)
	}
}

// A zone's networks and the rule's own address of the same direction
// become one match on their intersection; an empty one drops the rule.
func TestIntersectAddrs(t *testing.T) {
	b := &sample.Builder{File: "t.fw"}
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
		rules := lower(t, b.R(sample.C(sample.Saddr(tc.a...), sample.Saddr(tc.b...)), sample.Accept))
		got := ""
		for _, r := range rules {
			if r.Family != ir.IPv4 {
				continue
			}
			if len(r.Matches) != 1 {
				t.Fatalf("%s: %d matches, want one", tc.name, len(r.Matches))
			}
			got = ir.Addrs(r.Matches[0].(*ir.Addr).Items)
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
		b := &sample.Builder{File: tc.file}
		p := input(b.R(sample.C(sample.TCP, sample.Dport(22)), sample.Accept))
		p.Files = []*ast.File{{Range: diag.Range{Filename: tc.root}}}
		rs, _ := ir.Lower(p)
		r := rs.Tables[0].Chains[0].Rules[0]
		if got := r.Comment(128); got != tc.want+":1" {
			t.Errorf("root %s, rule in %s: comment %q, want %q", tc.root, tc.file, got, tc.want+":1")
		}
		if r.Pos[0].Range.Filename != tc.file {
			t.Errorf("root %s: the rule's range names %q, want the file as loaded, %q", tc.root, r.Pos[0].Range.Filename, tc.file)
		}
	}
}
