package apply

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

const liveListing = `table inet fwc {
	set allow {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8, 192.0.2.1,
			     198.51.100.0/24 }
	}
	set meter {
		type ipv4_addr
		size 65535
		flags dynamic,timeout
		timeout 1m
		elements = { 203.0.113.9 expires 40s limit rate over 10/second burst 5 packets }
	}
	chain filter_input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		tcp dport 22 counter packets 12 bytes 720 accept
		tcp dport 80 accept
	}
	chain old {
		accept
	}
}
`

const wantListing = `table inet fwc {
	set allow {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8, 198.51.100.0/24, 203.0.113.0/24 }
	}
	set meter {
		type ipv4_addr
		size 65535
		flags dynamic,timeout
		timeout 1m
	}
	chain filter_input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
		tcp dport 443 accept
		tcp dport 22 counter packets 0 bytes 0 accept
	}
}
`

func TestParseAndDiff(t *testing.T) {
	have, want := parseTable(liveListing), parseTable(wantListing)
	if got := have.Sets[0].Elements; !slices.Equal(got, []string{"10.0.0.0/8", "192.0.2.1", "198.51.100.0/24"}) {
		t.Errorf("elements over two lines: %q", got)
	}
	if len(have.Sets[1].Elements) != 0 {
		t.Errorf("a dynamic set's elements are compared: %q", have.Sets[1].Elements)
	}
	var got []string
	for _, c := range diffTables(have, want) {
		got = append(got, c.String())
	}
	wantChanges := []string{
		"+ set allow: element 203.0.113.0/24",
		"- set allow: element 192.0.2.1",
		"~ chain filter_input: type filter hook input priority filter; policy drop; → type filter hook input priority filter; policy accept;",
		"+ rule in filter_input: tcp dport 443 accept",
		"- rule in filter_input: tcp dport 80 accept",
		"- chain old: 1 rules",
	}
	if !slices.Equal(got, wantChanges) {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantChanges, "\n"))
	}
	if d := diffTables(have, parseTable(liveListing)); len(d) != 0 {
		t.Errorf("a table differs from itself: %v", d)
	}
	if d := diffTables(&Table{}, &Table{}); len(d) != 0 {
		t.Errorf("two absent tables differ: %v", d)
	}
	if d := diffTables(have, &Table{}); len(d) != 1 || d[0].String() != "- table inet fwc" {
		t.Errorf("removing the table: %v", d)
	}
}

func TestRuleDiffMove(t *testing.T) {
	var got []string
	for _, c := range ruleDiff("c", []string{"a", "b", "c", "d"}, []string{"a", "c", "b", "d"}) {
		got = append(got, c.String())
	}
	// One of b and c moves: one removal and one addition.
	if len(got) != 2 || got[0][0] == got[1][0] {
		t.Errorf("moved rule: %q", got)
	}
}

func TestRoutingSteps(t *testing.T) {
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	rule := IPRule{Family: unix.AF_INET, Priority: 1000, Mark: 1, Mask: 0xff, Table: 10}
	route := IPRoute{Family: unix.AF_INET, Table: 10, Dst: p("0.0.0.0/0"), Via: a("10.1.0.2")}
	live := route
	live.Dev = "eth1" // the kernel adds the device
	have := Routing{Rules: []IPRule{rule}, Routes: []IPRoute{live}}

	if s := routingSteps(have, Routing{Rules: []IPRule{rule}, Routes: []IPRoute{route}}); len(s) != 0 {
		t.Errorf("steps for the same routing: %v", s)
	}
	moved := route
	moved.Via = a("10.1.0.3")
	s := routingSteps(have, Routing{Rules: []IPRule{rule}, Routes: []IPRoute{moved}})
	if len(s) != 2 || s[0].add || !s[1].add {
		t.Errorf("changed gateway: %v, want delete then add", s)
	}
	s = routingSteps(have, Routing{})
	if len(s) != 2 || s[0].rule == nil || s[1].route == nil || s[0].add || s[1].add {
		t.Errorf("removed route: %v, want the rule deleted, then the route", s)
	}
	s = routingSteps(Routing{}, have)
	if len(s) != 2 || s[0].route == nil || !s[0].add || s[1].rule == nil {
		t.Errorf("new route: %v, want the route added, then the rule", s)
	}
}

func TestWantRouting(t *testing.T) {
	w := WantRouting([]*policy.Route{
		{Mark: 1, Mask: 0xff, Table: 10, Routes: []policy.RouteEntry{{Dest: netip.MustParsePrefix("::/0"), Dev: "eth1"}}},
		{Mark: 2, Mask: 0xff, Table: 20, Priority: 5},
	})
	var prios []int
	for _, r := range w.Rules {
		prios = append(prios, r.Priority)
	}
	if !slices.Equal(prios, []int{DefaultPriority, DefaultPriority, 5, 5}) {
		t.Errorf("priorities %v", prios)
	}
	if len(w.Routes) != 1 || w.Routes[0].Family != unix.AF_INET6 {
		t.Errorf("routes %v", w.Routes)
	}
}

// ruleset compiles a policy without touching the kernel.
func ruleset(t *testing.T, src string) *ir.Ruleset {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.fw")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, ds, err := Compile([]string{path})
	if err != nil || ds.HasErrors() {
		t.Fatalf("%v %v", err, ds)
	}
	return c.Ruleset
}

func TestEvaluateSSH(t *testing.T) {
	office := SSHConnection{Client: netip.MustParseAddr("10.1.2.3"), ClientPort: 50000, Server: netip.MustParseAddr("10.0.0.1"), ServerPort: 22}
	other := office
	other.Client = netip.MustParseAddr("192.0.2.7")
	v6 := office
	v6.Client, v6.Server = netip.MustParseAddr("2001:db8::7"), netip.MustParseAddr("2001:db8::1")
	for _, tc := range []struct {
		name string
		src  string
		conn SSHConnection
		want Fate
		why  string
	}{
		{"office allowed", "table filter { chain input policy drop { saddr 10.0.0.0/8 tcp dport 22 accept } }", office, Accepted, ""},
		{"others dropped by policy", "table filter { chain input policy drop { saddr 10.0.0.0/8 tcp dport 22 accept } }", other, Dropped, "policy drop"},
		{"established accepted", "table filter { chain input policy drop { ct state established, related accept } }", other, Accepted, ""},
		{"explicit drop", "table filter { chain input { tcp dport 22 drop } }", office, Dropped, "p.fw:1"},
		{"other port", "table filter { chain input { tcp dport 2222 drop } }", office, Accepted, ""},
		{"rate limit", "table filter { chain input policy drop { tcp dport 22 limit 5/second accept } }", office, Undecided, "policy drop"},
		{"ipv4-only accept", "table filter { chain input policy drop { saddr 10.0.0.0/8 accept } }", v6, Dropped, "policy drop"},
		{"user chain", "table filter { chain input policy drop { tcp dport 22 jump s }\n chain s { saddr != 10.0.0.0/8 return\n accept } }", office, Accepted, ""},
		{"user chain return", "table filter { chain input policy drop { tcp dport 22 jump s }\n chain s { saddr != 10.0.0.0/8 return\n accept } }", other, Dropped, "policy drop"},
		{"set", "set ok : ipv4_net { elements { 10.0.0.0/8 } }\ntable filter { chain input policy drop { saddr @ok accept } }", office, Accepted, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fate, why := SSHCheck(nil, ruleset(t, tc.src+"\n"), tc.conn)
			if fate != tc.want || !strings.Contains(why, tc.why) {
				t.Errorf("got %v (%s), want %v (%s)", fate, why, tc.want, tc.why)
			}
		})
	}
}

func TestParseSSHConnection(t *testing.T) {
	c, err := ParseSSHConnection("::ffff:192.0.2.7 50123 ::ffff:10.0.0.1 22")
	if err != nil || c.Client != netip.MustParseAddr("192.0.2.7") || c.ClientPort != 50123 || c.ServerPort != 22 {
		t.Errorf("%+v %v", c, err)
	}
	for _, bad := range []string{"", "1.2.3.4 1 5.6.7.8", "x 1 5.6.7.8 22", "1.2.3.4 99999 5.6.7.8 22"} {
		if _, err := ParseSSHConnection(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestParseObjects: the table's own lines and objects of every kind are
// parsed apart from sets and chains, named by kind and name (each kind has
// its own namespace), and compared.
func TestParseObjects(t *testing.T) {
	const live = `table inet fwc {
	flags dormant

	set c1 {
		type ipv4_addr
	}

	counter c1 {
	}

	ct helper c1 {
		type "ftp" protocol tcp
		l3proto inet
	}

	ct timeout c1 {
		protocol tcp
		l3proto ip
		policy = { established : 100 }
	}

	quota q1 {
		over 25 mbytes
	}

	chain filter_input {
		type filter hook input priority filter; policy accept;
	}
}
`
	const want = `table inet fwc {
	set c1 {
		type ipv4_addr
	}

	quota q1 {
		over 30 mbytes
	}

	chain filter_input {
		type filter hook input priority filter; policy accept;
	}
}
`
	var got []string
	for _, c := range diffTables(parseTable(live), parseTable(want)) {
		got = append(got, c.String())
	}
	wantChanges := []string{
		"~ table inet fwc: flags dormant → (none)",
		"~ quota q1: over 25 mbytes → over 30 mbytes",
		"- counter c1",
		"- ct helper c1: type \"ftp\" protocol tcp; l3proto inet",
		"- ct timeout c1: protocol tcp; l3proto ip; policy = { established : 100 }",
	}
	if !slices.Equal(got, wantChanges) {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantChanges, "\n"))
	}
	if d := diffTables(parseTable(want), parseTable(live)); len(d) != 5 || d[0].String() != "~ table inet fwc: (none) → flags dormant" {
		t.Errorf("the other way: %v", d)
	}
}

// TestNftPath: nft is taken from the first of the fixed directories that
// holds a root-owned executable only root can write, in a directory only
// root can write; others are refused and named.
func TestNftPath(t *testing.T) {
	testnetns.Require(t) // root, for root-owned files
	mk := func(dirMode, mode os.FileMode) string {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "nft"), []byte("#!/bin/sh\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(d, "nft"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, dirMode); err != nil {
			t.Fatal(err)
		}
		return d
	}
	writable, openDir, good := mk(0o755, 0o777), mk(0o777, 0o755), mk(0o755, 0o755)
	defer func(d []string) { nftDirs = d }(nftDirs)
	nftDirs = []string{t.TempDir(), writable, openDir, good}
	if p, err := nftPath(); err != nil || p != filepath.Join(good, "nft") {
		t.Errorf("nftPath: %q, %v; want %s", p, err, filepath.Join(good, "nft"))
	}
	nftDirs = []string{writable, openDir}
	if _, err := nftPath(); err == nil || !strings.Contains(err.Error(), filepath.Join(writable, "nft")) || !strings.Contains(err.Error(), filepath.Join(openDir, "nft")) {
		t.Errorf("nftPath with no trusted nft: %v", err)
	}
	nftDirs = []string{t.TempDir()}
	if _, err := nftPath(); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("nftPath with no nft: %v", err)
	}
}
