package apply

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestCrossLayer builds a namespace whose policy routing disagrees with a
// policy's marks in each of the four ways CrossLayer reports, and one way
// it agrees, and checks that exactly the disagreements are reported:
//
//   - mark 0x1 goes to table 10 by the policy's own route (fwc's rule, not
//     yet installed: CrossLayer sees the host as apply will leave it), and
//     table 10 routes out of eth1, where rp_filter is strict;
//   - mark 0x2 is set by the policy, and a host rule sends it to table 20,
//     which has a route to one network but no default;
//   - mark 0x4 is set and no ip rule selects it;
//   - mark 0x8 is set and tested by the policy itself: a flag, not a route;
//   - a host rule for fwmark 0x40 selects a mark nothing sets;
//   - the route's IPv6 ip rule looks up a table without an IPv6 default.
func TestCrossLayer(t *testing.T) {
	ns := testnetns.New(t)
	for _, dev := range []string{"eth1", "eth2"} {
		testnetns.Run(t, ns, "ip", "link", "add", dev, "type", "veth", "peer", "name", dev+"p")
		testnetns.Run(t, ns, "ip", "link", "set", dev+"p", "up")
		testnetns.Run(t, ns, "ip", "link", "set", dev, "up")
	}
	testnetns.Run(t, ns, "ip", "addr", "add", "10.10.1.2/24", "dev", "eth1")
	testnetns.Run(t, ns, "ip", "addr", "add", "10.10.2.2/24", "dev", "eth2")
	testnetns.Run(t, ns, "ip", "rule", "add", "fwmark", "0x2", "table", "20", "priority", "2000")
	testnetns.Run(t, ns, "ip", "route", "add", "192.0.2.0/24", "via", "10.10.2.1", "dev", "eth2", "table", "20")
	testnetns.Run(t, ns, "ip", "rule", "add", "fwmark", "0x40/0xf0", "table", "30", "priority", "3000")
	testnetns.Run(t, ns, "ip", "route", "add", "default", "via", "10.10.2.1", "dev", "eth2", "table", "30")
	testnetns.Run(t, ns, "sysctl", "-qw", "net.ipv4.conf.eth1.rp_filter=1", "net.ipv4.conf.eth2.rp_filter=2", "net.ipv4.conf.all.rp_filter=0")

	src := `route uplink { mark 0x1; table 10; default via 10.10.1.1 dev eth1 }
table mangle {
	chain prerouting {
		iif eth0 tcp dport 80 route uplink
		iif eth0 tcp dport 443 mark set 0x2
		iif eth0 tcp dport 25 mark set 0x4
		iif eth0 tcp dport 22 mark set 0x8
	}
}
table filter {
	chain forward {
		mark 0x8 accept
	}
}
`
	path := filepath.Join(t.TempDir(), "p.fw")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, ds, err := Compile([]string{path})
	if err != nil || ds.HasErrors() {
		t.Fatalf("%v %v", err, ds)
	}
	w := c.Want()
	h, err := Open(testnetns.Path(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	fs, err := CrossLayer(h, w.Ruleset, w)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Kind+": "+f.Text)
	}
	want := []string{
		"mark-unrouted: mark 0x4/0xffffffff set at p.fw:6 selects no ip rule",
		"rule-unmarked: ip rule priority 3000 fwmark 0x40/0xf0 lookup 30: nothing in the policy sets that mark",
		"table-no-default: table 20, looked up by ip rule priority 2000 fwmark 0x2/0xffffffff lookup 20 for the policy's marks, has no default route",
		"rp-filter-strict: rp_filter is strict (1) on eth1, where table 10 sends the packets the policy marks",
		// The route's ip rule is installed for both families, its
		// default route is IPv4's only: marked IPv6 goes on to main.
		"table-no-default: table 10, looked up by ip -6 rule priority 10000 fwmark 0x1/0xffffffff lookup 10",
	}
	for _, wnt := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, wnt) }) {
			t.Errorf("missing %q in\n%s", wnt, strings.Join(got, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d findings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}
