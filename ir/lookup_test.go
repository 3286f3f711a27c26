package ir_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/irfixture"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// lookupOf returns the concatenated lookup of a merged rule: its match or
// its verdict map's key.
func lookupOf(r *ir.Rule) (*policy.ConcatCond, *ir.VerdictMap) {
	for _, m := range r.Matches {
		if c, ok := m.(*policy.ConcatCond); ok {
			return c, nil
		}
	}
	for _, a := range r.Actions {
		if vm, ok := a.(*ir.VerdictMap); ok {
			if c, ok := vm.Key.(*policy.ConcatCond); ok {
				return c, vm
			}
		}
	}
	return nil, nil
}

func keys(c *policy.ConcatCond) string {
	var s []string
	for _, k := range c.Keys {
		s = append(s, string(k))
	}
	return strings.Join(s, ".")
}

// TestMergeLookups: runs of rules that differ in several fields become one
// lookup in a set of tuples (one verdict) or a verdict map keyed by the
// tuples (several), with the fields in ipset's order.
func TestMergeLookups(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rules    []string
		want     int    // rules after the merge
		keys     string // of the first rule's lookup, "" for none
		elems    int
		isMap    bool
		interval bool
	}{
		{"address and port", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.0.0.2 tcp dport 80 accept",
			"saddr 10.0.0.3 tcp dport 443 accept",
		}, 1, "saddr.dport", 3, false, false},
		{"port before address in the source", []string{
			"tcp dport 22 daddr 10.0.0.1 accept",
			"tcp dport 80 daddr 10.0.0.2 accept",
			"tcp dport 443 daddr 10.0.0.3 accept",
		}, 1, "daddr.dport", 3, false, false},
		{"iif and address", []string{
			"iif eth0 saddr 10.0.0.0/24 accept",
			"iif eth1 saddr 10.0.1.0/24 accept",
			"iif eth2 saddr 10.0.2.0/24 accept",
		}, 1, "saddr.iif", 3, false, true},
		{"zone form", []string{
			"iif eth0 oif eth1 saddr 10.0.0.1 udp dport 53 accept",
			"iif eth1 oif eth0 saddr 10.0.1.1 udp dport 54 accept",
			"iif eth0 oif eth2 saddr 10.0.2.1 udp dport 55 accept",
		}, 1, "saddr.dport.iif.oif", 3, false, false},
		{"lists multiply", []string{
			"saddr 10.0.0.1, 10.0.0.2 tcp dport 22, 23 accept",
			"saddr 10.0.0.3 tcp dport 80 accept",
			"saddr 10.0.0.4 tcp dport 443 accept",
		}, 1, "saddr.dport", 6, false, false},
		{"verdicts", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.0.0.2 tcp dport 80 drop",
			"saddr 10.0.0.3 tcp dport 443 accept",
		}, 1, "saddr.dport", 3, true, false},
		{"verdicts with prefixes", []string{
			"saddr 10.0.0.0/24 tcp dport 22 accept",
			"saddr 10.0.1.0/24 tcp dport 22 drop",
			"saddr 10.0.2.0/24 tcp dport 80 accept",
		}, 1, "saddr.dport", 3, true, true},
		{"a pair stays", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.0.0.2 tcp dport 80 accept",
		}, 2, "", 0, false, false},
		{"one field is a one-field merge", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.0.0.2 tcp dport 22 accept",
			"saddr 10.0.0.3 tcp dport 22 accept",
		}, 1, "", 0, false, false},
		{"duplicate tuple in a set joins", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.0.0.2 tcp dport 80 accept",
			"saddr 10.0.0.1 tcp dport 22 accept",
		}, 1, "saddr.dport", 2, false, false},
		{"protocols differ", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.0.0.2 udp dport 80 accept",
			"saddr 10.0.0.3 tcp dport 443 accept",
		}, 3, "", 0, false, false},
		{"port ranges stay", []string{
			"saddr 10.0.0.1 tcp dport 22-23 accept",
			"saddr 10.0.0.2 tcp dport 80-81 accept",
			"saddr 10.0.0.3 tcp dport 443-444 accept",
		}, 3, "", 0, false, false},
		{"negation stays", []string{
			"saddr != 10.0.0.1 tcp dport 22 accept",
			"saddr != 10.0.0.2 tcp dport 80 accept",
			"saddr != 10.0.0.3 tcp dport 443 accept",
		}, 3, "", 0, false, false},
		{"stateful rules stay", []string{
			"saddr 10.0.0.1 tcp dport 22 limit 1/second accept",
			"saddr 10.0.0.2 tcp dport 80 limit 1/second accept",
			"saddr 10.0.0.3 tcp dport 443 limit 1/second accept",
		}, 3, "", 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := irfixture.Lower(t, "m.fw", policyText("filter forward", tc.rules...))
			m := ir.Merge(rs)
			got := m.Tables[0].Chains[0].Rules
			if len(got) != tc.want {
				t.Fatalf("%d rules after merge, want %d", len(got), tc.want)
			}
			c, vm := lookupOf(got[0])
			if tc.keys == "" {
				if c != nil {
					t.Fatalf("a lookup %s, want none", keys(c))
				}
				return
			}
			if c == nil {
				t.Fatalf("no lookup in %#v", got[0])
			}
			if k := keys(c); k != tc.keys {
				t.Errorf("keys %s, want %s", k, tc.keys)
			}
			if (vm != nil) != tc.isMap {
				t.Errorf("verdict map %v, want %v", vm != nil, tc.isMap)
			}
			if c.Set.IsInterval() != tc.interval {
				t.Errorf("interval %v, want %v (types %v)", c.Set.IsInterval(), tc.interval, c.Set.Type)
			}
			if vm != nil {
				if len(vm.Entries) != tc.elems {
					t.Errorf("%d map entries, want %d", len(vm.Entries), tc.elems)
				}
				if i := slices.IndexFunc(m.Sets, func(s *ir.Set) bool { return strings.HasPrefix(s.Name, "fwc_lookup") }); i >= 0 {
					t.Errorf("a verdict map declared set %s", m.Sets[i].Name)
				}
				return
			}
			i := slices.IndexFunc(m.Sets, func(s *ir.Set) bool { return s.Name == c.Set.Name })
			if i < 0 {
				t.Fatalf("set %q not declared", c.Set.Name)
			}
			if s := m.Sets[i]; len(s.Elements) != tc.elems || s.Interval != tc.interval || len(s.Type) != len(c.Keys) {
				t.Errorf("set %s: %d elements, interval %v, types %v; want %d, %v", s.Name, len(s.Elements), s.Interval, s.Type, tc.elems, tc.interval)
			}
			if c := got[0].Comment(128); c != "m.fw:3-5" {
				t.Errorf("comment %q", c)
			}
		})
	}
}

// TestMergeLookupOrder: a run of a verdict map ends before a rule whose
// tuple overlaps an earlier one's (first match would decide, which a map
// cannot say), and lookups never reach across a rule of another shape.
func TestMergeLookupOrder(t *testing.T) {
	rs := irfixture.Lower(t, "m.fw", policyText("filter forward",
		"saddr 10.0.0.0/24 tcp dport 22 accept",
		"saddr 10.0.1.0/24 tcp dport 80 drop",
		"saddr 10.0.2.0/24 tcp dport 443 accept",
		"saddr 10.0.1.7 tcp dport 80 accept # inside the second: must stay after the map",
		"saddr 10.0.9.1 tcp dport 25 accept",
		"saddr 10.0.9.2 tcp dport 26 accept",
		"ct state new accept",
		"saddr 10.0.9.3 tcp dport 27 drop",
	))
	got := ir.Merge(rs).Tables[0].Chains[0].Rules
	var shapes []string
	for _, r := range got {
		c, vm := lookupOf(r)
		switch {
		case vm != nil:
			shapes = append(shapes, "map"+strings.Repeat("+", len(vm.Entries)))
		case c != nil:
			shapes = append(shapes, "set"+strings.Repeat("+", len(c.Set.Elements)))
		default:
			shapes = append(shapes, "rule")
		}
	}
	if s := strings.Join(shapes, " "); s != "map+++ set+++ rule rule" {
		t.Errorf("merged into %s, want map+++ set+++ rule rule", s)
	}
}

// TestMergeLookupAccept: a backend that cannot hold a lookup (Accept)
// keeps the rules, and one without verdict maps keeps rules whose
// verdicts differ.
func TestMergeLookupAccept(t *testing.T) {
	src := policyText("filter forward",
		"saddr 10.0.0.1 tcp dport 22 accept",
		"saddr 10.0.0.2 tcp dport 80 accept",
		"saddr 10.0.0.3 tcp dport 443 accept",
		"saddr 10.0.0.4 tcp dport 22 drop",
		"saddr 10.0.0.5 tcp dport 80 accept",
		"saddr 10.0.0.6 tcp dport 443 drop",
	)
	rs := irfixture.Lower(t, "m.fw", src)
	none := ir.MergeWith(rs, ir.MergeOptions{Lookups: true, Accept: func([]policy.Key, []policy.SetType, bool) bool { return false }})
	if n := len(none.Tables[0].Chains[0].Rules); n != 6 {
		t.Errorf("Accept refusing: %d rules, want 6", n)
	}
	sets := ir.MergeWith(rs, ir.MergeOptions{Lookups: true})
	if n := len(sets.Tables[0].Chains[0].Rules); n != 3 {
		t.Errorf("lookups without maps: %d rules, want 3 (the accepts as one set, passing over a drop of another address)", n)
	}
}

// TestMergeLookupKeyLength: a lookup whose key would not fit the kernel's
// registers (64 bytes: two IPv6 addresses, a port and both interface
// names take 68) is not made; nft aborts on such a rule.
func TestMergeLookupKeyLength(t *testing.T) {
	rs := irfixture.Lower(t, "m.fw", policyText("filter forward",
		"iif eth0 oif eth1 saddr 2001:db8::1 daddr 2001:db8:1::1 tcp dport 22 accept",
		"iif eth1 oif eth2 saddr 2001:db8::2 daddr 2001:db8:1::2 tcp dport 23 accept",
		"iif eth2 oif eth0 saddr 2001:db8::3 daddr 2001:db8:1::3 tcp dport 24 accept",
	))
	for _, r := range ir.Merge(rs).Tables[0].Chains[0].Rules {
		if c, _ := lookupOf(r); c != nil {
			t.Errorf("a lookup of %s, longer than 64 bytes", keys(c))
		}
	}
}

// TestMergeLookupGaps: a run passes over rules that share no packet with
// the members after them, which then follow the merged rule in their
// order; a member that meets a rule passed over stays after it, and so do
// the rules after it that meet it; a rule with a limit is passed over only
// when a match before the limit, one iptables tests first, shows it.
func TestMergeLookupGaps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules []string
		want  string // the merged chain: the set's source lines, then the others'
	}{
		{"disjoint rules between", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"iif eth0 saddr 10.9.0.1 drop",
			"saddr 10.0.0.2 tcp dport 80 accept",
			"saddr 10.0.0.0/8 udp dport 53 drop",
			"saddr 10.0.0.3 tcp dport 443 accept",
		}, "set(3,5,7) 4 6"},
		{"a rule between that meets one", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.0.0.2 tcp dport 80 accept",
			"saddr 10.0.0.0/24 tcp dport 443 drop",
			"saddr 10.0.0.3 tcp dport 443 accept",
			"saddr 10.0.0.4 tcp dport 25 accept",
			"saddr 10.0.0.3 tcp dport 443, 25 accept",
		}, "set(3,4,7) 5 6,8"},
		{"a stateful rule disjoint only after its limit", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.0.0.2 tcp dport 80 accept",
			"limit 10/second saddr 10.9.0.1 drop",
			"saddr 10.0.0.3 tcp dport 443 accept",
		}, "3 4 5 6"},
		{"a stateful rule disjoint by a port before its limit", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.0.0.2 tcp dport 80 accept",
			"tcp dport 25 limit 10/second drop",
			"saddr 10.0.0.3 tcp dport 443 accept",
		}, "3 4 5 6"},
		{"a stateful rule disjoint by an address before its limit", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.0.0.2 tcp dport 80 accept",
			"saddr 10.9.0.1 limit 10/second drop",
			"saddr 10.0.0.3 tcp dport 443 accept",
		}, "set(3,4,6) 5"},
		{"a log between", []string{
			"saddr 10.0.0.1 tcp dport 22 accept",
			"saddr 10.8.0.1 log prefix \"x\"",
			"saddr 10.0.0.2 tcp dport 80 accept",
			"saddr 10.0.0.3 tcp dport 443 accept",
		}, "set(3,5,6) 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := irfixture.Lower(t, "m.fw", policyText("filter forward", tc.rules...))
			var got []string
			for _, r := range ir.Merge(rs).Tables[0].Chains[0].Rules {
				var lines []string
				for _, p := range r.Pos {
					lines = append(lines, strconv.Itoa(p.Line))
				}
				if c, _ := lookupOf(r); c != nil {
					got = append(got, "set("+strings.Join(lines, ",")+")")
				} else {
					got = append(got, strings.Join(lines, ","))
				}
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("merged into %s, want %s", s, tc.want)
			}
		})
	}
}
