package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
)

// linksFor gives ns the interfaces the routes of w name, with an address
// in each gateway's subnet, so that the routes can be installed.
func linksFor(t *testing.T, ns string, w *Want) {
	t.Helper()
	done := map[string]bool{}
	for _, r := range w.Routing.Routes {
		if r.Dev == "" || done[r.Dev] {
			continue
		}
		done[r.Dev] = true
		testnetns.Run(t, ns, "ip", "link", "add", r.Dev, "type", "veth", "peer", "name", r.Dev+"p")
		testnetns.Run(t, ns, "ip", "link", "set", r.Dev+"p", "up")
		testnetns.Run(t, ns, "ip", "link", "set", r.Dev, "up")
		for _, g := range w.Routing.Routes {
			if g.Dev != r.Dev || !g.Via.IsValid() {
				continue
			}
			b := g.Via.AsSlice()
			b[len(b)-1] ^= 0xfe
			a, _ := netip.AddrFromSlice(b)
			bits := 24
			if a.Is6() {
				bits = 64
			}
			args := []string{"ip", "addr", "add", netip.PrefixFrom(a, bits).String(), "dev", r.Dev}
			if a.Is6() {
				args = append(args, "nodad")
			}
			testnetns.Run(t, ns, args...)
		}
	}
}

// TestApplyExamples applies every example in a namespace: the plan
// afterwards has nothing to do, the kernel lists what `nft -f` of the
// script lists, and the routes' ip rules and routes are there.
func TestApplyExamples(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	paths, _ := filepath.Glob("../examples/*.fw")
	if len(paths) == 0 {
		t.Fatal("no examples")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			w := compilePath(t, path)
			ns := nsWithLinks(t)
			linksFor(t, ns, w)
			h := openHost(t, ns)
			p := mustApply(t, h, w, Options{})
			if len(p.Table) == 0 {
				t.Fatal("the first plan had no table changes")
			}
			mustBeEmpty(t, h, w)
			have, err := Read(h)
			if err != nil {
				t.Fatal(err)
			}
			ht, err := have.Listing()
			if err != nil {
				t.Fatal(err)
			}
			wt, err := w.Listing("")
			if err != nil {
				t.Fatal(err)
			}
			if ht.Text != wt.Text {
				t.Errorf("kernel listing differs from nft -f of the script:\n%s\nwant:\n%s", ht.Text, wt.Text)
			}
			// A record is believed after the generation moved only if the
			// policy, committed into a scratch namespace, fingerprints as
			// the live table: it must for every example.
			if fp, sfp := must(have.Fingerprint()), must(scratchFingerprint(w)); fp != sfp {
				t.Errorf("the applied table fingerprints %s, the same batch in a scratch namespace %s", fp, sfp)
			}
			if got, want := len(have.Routing.Rules), 2*len(w.Routes); got != want {
				t.Errorf("%d ip rules with proto 70, want %d", got, want)
			}
			if got, want := len(have.Routing.Routes), len(w.Routing.Routes); got != want {
				t.Errorf("%d routes with proto 70, want %d", got, want)
			}
		})
	}
}

// handScript and handBuild describe the same small ruleset, as an nft
// script and as google/nftables calls, for tests that need a ruleset known
// independently of the compiler. variant adds a counter rule, to make
// two rulesets that both drop icmp.
func handScript(variant int) []byte {
	extra := ""
	if variant == 1 {
		extra = "\t\ttcp dport 9 counter\n"
	}
	return fmt.Appendf(nil, `table inet fwc {}
delete table inet fwc
table inet fwc {
	chain filter_input {
		type filter hook input priority filter; policy accept;
%s		meta l4proto icmp drop
	}
}
`, extra)
}

func handBuild(variant int) BuildFunc {
	return func(c *nftables.Conn, _ *ir.Ruleset) error {
		tbl := batch.ResetTable(c, &nftables.Table{Family: nftables.TableFamilyINet, Name: "fwc"})
		pol := nftables.ChainPolicyAccept
		ch := c.AddChain(&nftables.Chain{Name: "filter_input", Table: tbl, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &pol})
		if variant == 1 {
			c.AddRule(&nftables.Rule{Table: tbl, Chain: ch, Exprs: []expr.Any{
				&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0, 9}},
				&expr.Counter{},
			}})
		}
		c.AddRule(&nftables.Rule{Table: tbl, Chain: ch, Exprs: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_ICMP}},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}})
		return nil
	}
}

func handWant(t testing.TB, variant int) *Want {
	t.Helper()
	return NewWant(&ir.Ruleset{}, handScript(variant), nil)
}

// TestApplyBatch applies through the netlink batch: the result lists as
// nft lists the same script, so the plan afterwards is empty.
func TestApplyBatch(t *testing.T) {
	t.Parallel()
	ns := testnetns.New(t)
	h := openHost(t, ns)
	for _, v := range []int{0, 1, 0} {
		w := handWant(t, v)
		mustApply(t, h, w, Options{Build: handBuild(v)})
		mustBeEmpty(t, h, w)
	}
}

// TestOutsideChange: a table added by someone else between plan and apply
// is detected and nothing is applied, on both paths.
func TestOutsideChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts Options
	}{{"batch", Options{Build: handBuild(0)}}, {"nft", Options{Script: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			ns := testnetns.New(t)
			h := openHost(t, ns)
			p := plan(t, h, handWant(t, 0))
			testnetns.Run(t, ns, "nft", "add", "table", "inet", "other")
			before := testnetns.Ruleset(t, ns)
			out, err := Apply(h, p, tc.opts)
			if out != batch.NotApplied || !errors.Is(err, ErrGenerationChanged) {
				t.Fatalf("apply after an outside change: %v, %v; want not applied, generation changed", out, err)
			}
			if after := testnetns.Ruleset(t, ns); after != before {
				t.Errorf("ruleset changed:\n%s\nwas:\n%s", after, before)
			}
		})
	}
}

const foreignTables = `table ip nat {
	chain DOCKER {
	}
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local counter jump DOCKER
	}
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 172.17.0.0/16 oifname != "docker0" counter masquerade
	}
}
table ip filter {
	chain DOCKER-USER {
		counter return
	}
	chain FORWARD {
		type filter hook forward priority filter; policy drop;
		counter jump DOCKER-USER
	}
}
table inet kube-proxy {
	set cluster-ips {
		type ipv4_addr
		elements = { 10.96.0.1, 10.96.0.10 }
	}
	chain services {
		ip daddr @cluster-ips counter accept
	}
}
`

// TestForeignTables: docker and kube-proxy tables stay byte-identical
// through apply, re-apply and rollback.
func TestForeignTables(t *testing.T) {
	t.Parallel()
	ns := testnetns.New(t)
	h := openHost(t, ns)
	path := filepath.Join(t.TempDir(), "foreign.nft")
	if err := os.WriteFile(path, []byte(foreignTables), 0o644); err != nil {
		t.Fatal(err)
	}
	testnetns.Run(t, ns, "nft", "-f", path)
	foreign := func() string {
		var b strings.Builder
		for _, tb := range []string{"ip nat", "ip filter", "inet kube-proxy"} {
			b.WriteString(testnetns.Run(t, ns, append([]string{"nft", "list", "table"}, strings.Fields(tb)...)...))
		}
		return b.String()
	}
	want := foreign()
	check := func(step string) {
		t.Helper()
		if got := foreign(); got != want {
			t.Errorf("after %s, foreign tables changed:\n%s\nwant:\n%s", step, got, want)
		}
	}
	have, err := Read(h)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, h, handWant(t, 0), Options{Build: handBuild(0)})
	check("apply")
	mustApply(t, h, handWant(t, 1), Options{Script: true})
	check("re-apply")
	mustApply(t, h, compilePath(t, "../examples/sets.fw"), Options{})
	check("re-apply with backend/nft's Build")
	if err := Rollback(&Pending{NetNS: h.NetNS, Routing: have.Routing}); err != nil {
		t.Fatal(err)
	}
	check("rollback")
	if after, _ := Read(h); must(after.Fingerprint()) != "" {
		t.Errorf("rollback to no fwc table left one")
	}
}

const twoRoutes = `
zone far { net 198.51.100.0/24 }
route via_a { mark 0x1/0xff; table 10; default via 10.1.0.2 dev up_a; 203.0.113.0/24 dev up_a }
route via_b { mark 0x2/0xff; table 20; default via 10.2.0.2 dev up_b; default via fd00:2::2 dev up_b }
from self to far tcp dport 80 route via_a
from self to far route via_b
`

const oneRoute = `
zone far { net 198.51.100.0/24 }
route via_a { mark 0x1/0xff; table 10; default via 10.1.0.2 dev up_a; 203.0.113.0/24 dev up_a }
from self to far tcp dport 80 route via_a
`

// TestRoutes: ip rules and routes for both families; re-applying adds no
// duplicates; removing a route removes its rules and routes; a failing
// routing step undoes the others and puts the previous table back.
func TestRoutes(t *testing.T) {
	t.Parallel()
	// Without a cache the plan compares nft listings and a failed routing
	// step puts the listed table back; with one, after the first apply, it
	// compares scripts and puts the last script back.
	t.Run("listings", func(t *testing.T) { testRoutes(t, false) })
	t.Run("cached", func(t *testing.T) { testRoutes(t, true) })
}

func testRoutes(t *testing.T, cached bool) {
	ns := nsWithLinks(t)
	router := func(dev, a4, a6 string) {
		testnetns.Run(t, ns, "ip", "link", "add", dev, "type", "veth", "peer", "name", dev+"p")
		testnetns.Run(t, ns, "ip", "link", "set", dev+"p", "up")
		testnetns.Run(t, ns, "ip", "link", "set", dev, "up")
		testnetns.Run(t, ns, "ip", "addr", "add", a4, "dev", dev)
		testnetns.Run(t, ns, "ip", "addr", "add", a6, "dev", dev, "nodad")
	}
	router("up_a", "10.1.0.1/24", "fd00:1::1/64")
	router("up_b", "10.2.0.1/24", "fd00:2::1/64")
	h := openHost(t, ns)
	if cached {
		h.Cache = t.TempDir()
	}

	routing := func() string {
		return testnetns.Run(t, ns, "ip", "-4", "rule", "show", "proto", "70") +
			testnetns.Run(t, ns, "ip", "-6", "rule", "show", "proto", "70") +
			testnetns.Run(t, ns, "ip", "-4", "route", "show", "table", "all", "proto", "70") +
			testnetns.Run(t, ns, "ip", "-6", "route", "show", "table", "all", "proto", "70")
	}
	two := compileSrc(t, twoRoutes)
	mustApply(t, h, two, Options{})
	first := routing()
	for _, want := range []string{
		"10000:\tfrom all fwmark 0x1/0xff lookup 10 proto 70",
		"10001:\tfrom all fwmark 0x2/0xff lookup 20 proto 70",
		"default via 10.1.0.2 dev up_a table 10",
		"203.0.113.0/24 dev up_a table 10",
		"default via 10.2.0.2 dev up_b table 20",
		"default via fd00:2::2 dev up_b table 20",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("missing %q in\n%s", want, first)
		}
	}
	if n := strings.Count(first, "proto 70"); n != 4 {
		t.Errorf("%d ip rules, want 4 (2 routes × 2 families):\n%s", n, first)
	}

	// Re-apply: nothing to do; and a policy change that leaves routes alone
	// touches no route.
	mustBeEmpty(t, h, two)
	two2 := compileSrc(t, twoRoutes+"table filter { chain input { tcp dport 7 drop } }\n")
	p := mustApply(t, h, two2, Options{})
	if len(p.Routing) != 0 {
		t.Errorf("routing steps for an unchanged routing: %v", p.Routing)
	}
	if got := routing(); got != first {
		t.Errorf("re-apply changed routing:\n%s\nwas:\n%s", got, first)
	}

	// A routing step that fails: a route to a missing device.
	before := testnetns.Ruleset(t, ns)
	bad := compileSrc(t, twoRoutes+"route via_c { mark 0x3/0xff; table 30; default via 10.3.0.2 dev nowhere }\nfrom self to far udp dport 53 route via_c\n")
	bp := plan(t, h, bad)
	if bp.Have.listed == cached {
		t.Errorf("plan of a changed policy: listed the table %v, with a cache %v", bp.Have.listed, cached)
	}
	out, err := Apply(h, bp, Options{})
	var re *RoutingError
	if out != batch.NotApplied || !errors.As(err, &re) || re.Undo != nil {
		t.Fatalf("apply with a missing device: %v, %v; want not applied, routing undone", out, err)
	}
	if got := routing(); got != first {
		t.Errorf("failed apply left routing changed:\n%s\nwas:\n%s", got, first)
	}
	if got := testnetns.Ruleset(t, ns); got != before {
		t.Errorf("failed apply left the ruleset changed:\n%s\nwas:\n%s", got, before)
	}

	// Removing via_b removes its rules (both families) and routes.
	one := compileSrc(t, oneRoute)
	mustApply(t, h, one, Options{})
	mustBeEmpty(t, h, one)
	got := routing()
	if strings.Contains(got, "lookup 20") || strings.Contains(got, "table 20") {
		t.Errorf("via_b's rules or routes are still there:\n%s", got)
	}
	if n := strings.Count(got, "lookup 10"); n != 2 {
		t.Errorf("%d rules for via_a, want 2:\n%s", n, got)
	}
	// Routes fwc does not own are left alone.
	if !slices.Contains(strings.Split(testnetns.Run(t, ns, "ip", "-4", "route"), "\n"), "10.1.0.0/24 dev up_a proto kernel scope link src 10.1.0.1 ") {
		t.Errorf("kernel route gone:\n%s", testnetns.Run(t, ns, "ip", "-4", "route"))
	}
}

// TestNoopReapply: re-applying an unchanged policy reads and writes
// nothing: the ruleset generation does not move.
func TestNoopReapply(t *testing.T) {
	t.Parallel()
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	w := compileSrc(t, "table filter { chain input { tcp dport 7 drop } }\n")
	mustApply(t, h, w, Options{})
	g0, err := h.Batch().Generation()
	if err != nil {
		t.Fatal(err)
	}
	p := plan(t, h, w)
	if out, err := Apply(h, p, Options{}); !p.Empty() || out != batch.Applied || err != nil {
		t.Fatalf("re-apply: empty plan %v, %v, %v", p.Empty(), out, err)
	}
	if g1, _ := h.Batch().Generation(); g1 != g0 {
		t.Errorf("re-apply of an unchanged policy moved the generation from %d to %d", g0, g1)
	}
}

// TestFingerprint: the same script loaded in two namespaces has the same
// fingerprint (hash sets list their elements in different orders); an added
// rule or element changes it. (TestPlanCache moves counters.)
func TestFingerprint(t *testing.T) {
	t.Parallel()
	w := compilePath(t, "../examples/sets.fw")
	var fps []string
	var hosts []*Host
	for range 2 {
		ns := testnetns.New(t)
		h := openHost(t, ns)
		mustApply(t, h, w, Options{})
		fp, err := fingerprint(h.nft, 0)
		if err != nil || fp == "" {
			t.Fatalf("fingerprint: %q %v", fp, err)
		}
		fps = append(fps, fp)
		hosts = append(hosts, h)
	}
	if fps[0] != fps[1] {
		t.Errorf("same script, fingerprints %s and %s", fps[0], fps[1])
	}
	ns := strings.TrimPrefix(hosts[1].NetNS, "/run/netns/")
	testnetns.Run(t, ns, "nft", "add", "rule", "inet", "fwc", "filter_output", "counter")
	fpAdded, _ := fingerprint(hosts[1].nft, 0)
	if fpAdded == fps[0] {
		t.Errorf("an added rule did not change the fingerprint")
	}
	testnetns.Run(t, ns, "nft", "add", "element", "inet", "fwc", "whitelist", "{ 192.0.2.0/24 }")
	if fp, _ := fingerprint(hosts[1].nft, 0); fp == fpAdded {
		t.Errorf("an added element did not change the fingerprint")
	}
}

// TestPlanCache: with a cache directory, the plan after an apply needs no
// listing from nft: the fingerprint matches the one recorded.
func TestPlanCache(t *testing.T) {
	t.Parallel()
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	w := compileSrc(t, "table filter { chain output { counter } }\n")
	mustApply(t, h, w, Options{})
	p := plan(t, h, w)
	if !p.Empty() || p.Have.table != nil {
		t.Errorf("plan after apply: empty %v, listed the table %v", p.Empty(), p.Have.table != nil)
	}
	// Counters move: still nothing to do, still no listing.
	testnetns.Do(t, ns, func() {
		c, err := net.Dial("udp", "127.0.0.1:9")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte("fwc"))
		c.Close()
	})
	if l := testnetns.Run(t, ns, "nft", "list", "chain", "inet", "fwc", "filter_output"); strings.Contains(l, "counter packets 0 ") {
		t.Fatalf("the counter did not move:\n%s", l)
	}
	p = plan(t, h, w)
	if !p.Empty() || p.Have.table != nil {
		t.Errorf("plan after traffic: empty %v, listed %v", p.Empty(), p.Have.table != nil)
	}
	if p.Have.fp != nil {
		t.Errorf("the generation did not move, yet the plan read the fingerprint")
	}
	// Someone adds another table: the generation moves, the fingerprint
	// shows fwc's table is as it was.
	testnetns.Run(t, ns, "nft", "add", "table", "ip", "other")
	p = plan(t, h, w)
	if !p.Empty() || p.Have.table != nil || p.Have.fp == nil {
		t.Errorf("plan after another table: empty %v, listed %v, fingerprint read %v", p.Empty(), p.Have.table != nil, p.Have.fp != nil)
	}
	// Someone changes fwc's table: the plan sees it.
	testnetns.Run(t, ns, "nft", "add", "rule", "inet", "fwc", "filter_output", "tcp", "dport", "9", "drop")
	p = plan(t, h, w)
	if len(p.Table) != 1 || p.Table[0].String() != "- rule in filter_output: tcp dport 9 drop" {
		t.Errorf("plan after an outside change: %v", p.Table)
	}
}

// TestPlanScripts: after an apply recorded in the cache, the plan of a
// changed policy compares the two scripts and reads nothing of the table;
// once the record cannot vouch for the table (the generation moved, changed
// by someone else, a record whose script was altered, a large table) it
// compares nft's listings again.
func TestPlanScripts(t *testing.T) {
	t.Parallel()
	const head = "table filter { chain input policy drop {\n"
	const tail = "udp dport 53 drop\n} }\n"
	// Both versions from one path: rule comments carry it.
	versions := func(t *testing.T, rules string) (*Want, *Want, string) {
		path := filepath.Join(t.TempDir(), "policy.fw")
		at := func(src string) *Want {
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			return compilePath(t, path)
		}
		line := strings.Count(head+rules, "\n") + 1
		add := fmt.Sprintf("rule in filter_input: udp dport 53 drop comment \"policy.fw:%d\"", line)
		return at(head + rules + "} }\n"), at(head + rules + tail), add
	}
	changes := func(p *Plan) []string {
		var out []string
		for _, c := range p.Table {
			out = append(out, c.String())
		}
		return out
	}
	setup := func(t *testing.T) (string, *Host, *Want, *Want, string) {
		ns := nsWithLinks(t)
		h := openHost(t, ns)
		h.Cache = t.TempDir()
		w1, w2, add := versions(t, "tcp dport 22 accept\n")
		mustApply(t, h, w1, Options{})
		return ns, h, w1, w2, add
	}

	t.Run("recorded", func(t *testing.T) {
		ns, h, w1, w2, add := setup(t)
		want := []string{"+ " + add}
		p := plan(t, h, w2)
		if got := changes(p); p.Have.listed || p.Have.fp != nil || !slices.Equal(got, want) {
			t.Errorf("plan: %q, listed %v, fingerprint read %v; want %q and no read", got, p.Have.listed, p.Have.fp != nil, want)
		}
		// The generation moves (another table): the record of w1 is no
		// longer believed for another policy (only the kernel can vouch,
		// and it can for want's own script only): listings are compared.
		testnetns.Run(t, ns, "nft", "add", "table", "ip", "other")
		p = plan(t, h, w2)
		if got := changes(p); !p.Have.listed || !slices.Equal(got, want) {
			t.Errorf("plan after another table: %q, listed %v; want %q from listings", got, p.Have.listed, want)
		}
		// Applying it records the new script: nothing left to do.
		if out, err := Apply(h, p, Options{}); out != batch.Applied || err != nil {
			t.Fatalf("apply: %v, %v", out, err)
		}
		if p := plan(t, h, w2); !p.Empty() || p.Have.listed {
			t.Errorf("plan after apply: %q, listed %v", changes(p), p.Have.listed)
		}
		// And back: the plan removes the rule, still without a read.
		if p := plan(t, h, w1); !slices.Equal(changes(p), []string{"- " + add}) || p.Have.listed {
			t.Errorf("plan back: %q, listed %v", changes(p), p.Have.listed)
		}
	})

	t.Run("changed by someone else", func(t *testing.T) {
		ns, h, _, w2, add := setup(t)
		testnetns.Run(t, ns, "nft", "add", "rule", "inet", "fwc", "filter_input", "udp", "dport", "9", "drop")
		p := plan(t, h, w2)
		got := changes(p)
		if !p.Have.listed || !slices.Equal(got, []string{"+ " + add, "- rule in filter_input: udp dport 9 drop"}) {
			t.Errorf("plan: %q, listed %v; want the outside rule removed and port 53's added, from listings", got, p.Have.listed)
		}
	})

	t.Run("script altered", func(t *testing.T) {
		_, h, _, w2, add := setup(t)
		path := h.scriptPath()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(data), "dport 22", "dport 23", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		if p := plan(t, h, w2); !p.Have.listed || !slices.Equal(changes(p), []string{"+ " + add}) {
			t.Errorf("plan: %q, listed %v; want the rule added, from listings", changes(p), p.Have.listed)
		}
	})

	t.Run("large table", func(t *testing.T) {
		ns := nsWithLinks(t)
		h := openHost(t, ns)
		h.Cache = t.TempDir()
		var b strings.Builder
		for i := range maxFingerprintRules + 1 {
			// The counters keep the rules apart (no merge into a set).
			fmt.Fprintf(&b, "saddr 10.%d.%d.1 tcp dport 22 counter accept\n", i/256, i%256)
		}
		w1, w2, add := versions(t, b.String())
		want := []string{"+ " + add}
		mustApply(t, h, w1, Options{})
		var a applied
		if data, err := os.ReadFile(h.appliedPath()); err != nil || json.Unmarshal(data, &a) != nil || a.Fingerprint != "" || a.Sum != w1.Sum {
			t.Fatalf("record of a large table: %+v (%v); want the sum and no fingerprint", a, err)
		}
		if p := plan(t, h, w2); p.Have.listed || !slices.Equal(changes(p), want) {
			t.Errorf("plan: %.300q, listed %v; want %q without a read", changes(p), p.Have.listed, want)
		}
		testnetns.Run(t, ns, "nft", "add", "table", "ip", "other")
		if p := plan(t, h, w2); !p.Have.listed || !slices.Equal(changes(p), want) {
			t.Errorf("plan after the generation moved: %.300q, listed %v; want %q from listings", changes(p), p.Have.listed, want)
		}
		// The listings show the table is w1's: that is recorded, and the
		// next plans need no listing.
		if p := plan(t, h, w1); !p.Empty() || !p.Have.listed {
			t.Errorf("plan of the loaded policy after the generation moved: %.300q, listed %v; want nothing to do, from listings", changes(p), p.Have.listed)
		}
		for _, w := range []*Want{w1, w2} {
			if p := plan(t, h, w); p.Have.listed || p.Empty() != (w == w1) {
				t.Errorf("plan after the listings matched: %.300q, listed %v; want no listing", changes(p), p.Have.listed)
			}
		}
	})
}

// TestEncodeAhead: a batch encoded in the background while planning is the
// one Apply sends, once; without Encode, Apply encodes it itself. The
// encoding starts once the plan knows the table is replaced whole: not
// for an incremental apply, which encodes only the rules it adds.
func TestEncodeAhead(t *testing.T) {
	t.Parallel()
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	w := compileSrc(t, "table filter { chain input policy drop {\ntcp dport 22 accept\n} }\n")
	w.Encode()
	p := plan(t, h, w)
	enc := w.enc
	if enc == nil {
		t.Fatal("planning a new table did not start the encoding")
	}
	if out, err := Apply(h, p, Options{}); out != batch.Applied || err != nil {
		t.Fatalf("apply: %v: %v", out, err)
	}
	w2 := compileSrc(t, "table filter { chain input policy drop {\ntcp dport 2222 accept\n} }\n")
	w2.Encode()
	if p := plan(t, h, w2); w2.enc != nil {
		inc, why := p.Incremental()
		t.Errorf("an incremental plan (%v, %s) started encoding the whole batch", inc, why)
	}
	if w.enc != nil {
		t.Error("the encoded batch was kept after it was sent")
	}
	select {
	case <-enc.done:
	default:
		t.Error("Apply did not wait for the background encoding")
	}
	mustBeEmpty(t, h, w)
	if l := testnetns.Run(t, ns, "nft", "list", "chain", "inet", "fwc", "filter_input"); !strings.Contains(l, "tcp dport 22 accept") {
		t.Errorf("the rule is not in the kernel:\n%s", l)
	}
}
