package apply

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// incrV1 is the policy the incremental tests start from: a counted rule
// (loopback), a meter (filled by packets; its entries live an hour, the
// rate's unit, far longer than any run of the test), a rule with an
// anonymous set, a named set and rules around the one they change.
const incrV1 = `set admin_ports : port {
	elements { 22, 8443 }
}

table filter {
	chain input policy drop {
		udp dport 9 meter probes per saddr over 100000/hour burst 1000 drop
		iif lo counter accept
		ct state established, related accept
	}
}

from any to self tcp dport { 80, 443 } accept
from any to self tcp dport @admin_ports accept
from any to self tcp dport 25 log prefix "smtp " accept
from any to self tcp dport 110 log prefix "pop " accept
from any to self tcp dport 143 log prefix "imap " accept
`

// incrV2 is incrV1 edited: a comment and a blank line at the top (every
// line moves), one rule changed (25 → 587), two added (one with an
// anonymous set, one using the named set), one element added to the named
// set.
var incrV2 = "# moved down\n\n" + strings.NewReplacer(
	"elements { 22, 8443 }", "elements { 22, 8443, 9100 }",
	`tcp dport 25 log prefix "smtp "`, `tcp dport 587 log prefix "submission "`,
	`tcp dport 143 log prefix "imap " accept`, `tcp dport 143 log prefix "imap " accept`+
		"\nfrom any to self tcp dport { 993, 995 } log prefix \"imaps \" accept"+
		"\nfrom any to self udp dport @admin_ports log prefix \"admin \" accept",
).Replace(incrV1)

var (
	counterRe2 = regexp.MustCompile(`iifname "lo" counter packets ([0-9]+) bytes ([0-9]+) accept`)
	handleRe   = regexp.MustCompile(`(?m)^\s*(.*?) # handle ([0-9]+)$`)
)

// handlesOf maps the rules of the live table (without comments and
// counter values) to their handles.
func handlesOf(t *testing.T, ns string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range handleRe.FindAllStringSubmatch(testnetns.Run(t, ns, "nft", "-a", "list", "table", "inet", "fwc"), -1) {
		r := ruleKey(counterRe.ReplaceAllString(m[1], "counter"))
		if strings.HasPrefix(r, "chain ") || strings.HasPrefix(r, "set ") || strings.HasPrefix(r, "table ") {
			continue
		}
		out[r] = m[2]
	}
	return out
}

// writePolicy writes src to path and compiles it.
func writePolicy(t *testing.T, path, src string) *Want {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return compilePath(t, path)
}

// TestIncrementalApply: a changed policy whose table was made by fwc's
// last apply is applied as the difference. Moving every line changes no
// rule; the changed and added rules are the only rules the batch adds,
// the element the only element; every other rule keeps its handle and its
// counter, and the meter the element packets put in it. The table is then
// what a fresh load of the new script makes.
func TestIncrementalApply(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	path := filepath.Join(t.TempDir(), "policy.fw")
	w1 := writePolicy(t, path, incrV1)
	p := mustApply(t, h, w1, Options{})
	if inc, _ := p.Incremental(); inc {
		t.Fatal("the first apply claims to be incremental")
	}
	testnetns.Do(t, ns, func() {
		// A listener, so that no port-unreachable fails the writes.
		l, err := net.ListenPacket("udp", "127.0.0.1:9")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		c, err := net.Dial("udp", "127.0.0.1:9")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for range 3 {
			if _, err := c.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
		}
	})
	before := testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc")
	c := counterRe2.FindStringSubmatch(before)
	if c == nil || c[1] == "0" {
		t.Fatalf("the loopback rule counted nothing:\n%s", before)
	}
	meter := testnetns.Run(t, ns, "nft", "list", "set", "inet", "fwc", "meter_probes")
	if !strings.Contains(meter, "127.0.0.1") {
		t.Fatalf("the meter holds no element for 127.0.0.1:\n%s", meter)
	}
	hs1 := handlesOf(t, ns)
	if len(hs1) < 8 {
		t.Fatalf("found the handles of %d rules: %v", len(hs1), hs1)
	}

	w2 := writePolicy(t, path, incrV2)
	p = plan(t, h, w2)
	if inc, why := p.Incremental(); !inc {
		t.Fatalf("the plan is a full replace: %s", why)
	}
	var got []string
	for _, ch := range p.Table {
		got = append(got, ch.String())
	}
	want := []string{
		"+ set admin_ports: element 9100",
		`+ rule in filter_input: tcp dport 587 log prefix "submission " accept comment "policy.fw:17"`,
		`- rule in filter_input: tcp dport 25 log prefix "smtp " accept comment "policy.fw:15"`,
		`+ rule in filter_input: tcp dport { 993, 995 } log prefix "imaps " accept comment "policy.fw:20"`,
		`+ rule in filter_input: udp dport @admin_ports log prefix "admin " accept comment "policy.fw:21"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// One element message, one rule deleted, three added, one of them
	// with its anonymous set and its elements.
	if n := len(p.incr.msgs); n != 7 {
		t.Fatalf("the incremental batch has %d messages, want 7", n)
	}
	if out, err := Apply(h, p, Options{}); out != batch.Applied || err != nil {
		t.Fatalf("apply: %v: %v", out, err)
	}

	after := testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc")
	if c2 := counterRe2.FindStringSubmatch(after); c2 == nil || c2[1] != c[1] || c2[2] != c[2] {
		t.Fatalf("the loopback rule's counter went from %v to %v", c, c2)
	}
	if meter := testnetns.Run(t, ns, "nft", "list", "set", "inet", "fwc", "meter_probes"); !strings.Contains(meter, "127.0.0.1") {
		t.Fatalf("the meter lost its element:\n%s", meter)
	}
	hs2 := handlesOf(t, ns)
	for r, hd := range hs1 {
		if r == `tcp dport 25 log prefix "smtp " accept` {
			if _, ok := hs2[r]; ok {
				t.Errorf("the rule removed is still there")
			}
			continue
		}
		if hs2[r] != hd {
			t.Errorf("rule %q: handle %s, was %s", r, hs2[r], hd)
		}
	}
	// The same table as a fresh load of the new script, comments aside.
	wt, err := w2.Listing("")
	if err != nil {
		t.Fatal(err)
	}
	if d := diffTables(parseTable(after), wt); len(d) != 0 {
		t.Fatalf("the table differs from the new script's: %v", d)
	}
	mustBeEmpty(t, h, w2)

	// Only lines moved: nothing to apply, and the record takes the new
	// positions.
	w3 := writePolicy(t, path, "\n\n"+incrV2)
	if p := plan(t, h, w3); !p.Empty() {
		t.Fatalf("moving lines makes a plan: %v", p.Table)
	}
	if p := plan(t, h, w3); p.Have.last == nil || p.Have.last.Sum != w3.Sum {
		t.Fatal("the record does not hold the moved script")
	}
}

// TestIncrementalFallback: when the live table is not what the record
// says, the change is a full replace. A ruleset changed by someone else
// (the generation moved) is compared on listings and replaced; a record
// of handles that does not match the kernel makes the kernel refuse the
// incremental batch, and the apply replaces the table instead.
func TestIncrementalFallback(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	setup := func(t *testing.T) (string, *Host, *Want) {
		ns := nsWithLinks(t)
		h := openHost(t, ns)
		h.Cache = t.TempDir()
		path := filepath.Join(t.TempDir(), "policy.fw")
		mustApply(t, h, writePolicy(t, path, incrV1), Options{})
		return ns, h, writePolicy(t, path, incrV2)
	}
	check := func(t *testing.T, ns string, h *Host, w2 *Want) {
		t.Helper()
		wt, err := w2.Listing("")
		if err != nil {
			t.Fatal(err)
		}
		if d := diffTables(parseTable(testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc")), wt); len(d) != 0 {
			t.Fatalf("the table differs from the new script's: %v", d)
		}
		mustBeEmpty(t, h, w2)
	}

	t.Run("generation moved", func(t *testing.T) {
		ns, h, w2 := setup(t)
		testnetns.Run(t, ns, "nft", "add", "rule", "inet", "fwc", "filter_input", "tcp", "dport", "7", "accept")
		p := plan(t, h, w2)
		if inc, _ := p.Incremental(); inc {
			t.Fatal("the plan is incremental over a table changed by someone else")
		}
		if out, err := Apply(h, p, Options{}); out != batch.Applied || err != nil {
			t.Fatalf("apply: %v: %v", out, err)
		}
		check(t, ns, h, w2)
	})

	t.Run("handles wrong", func(t *testing.T) {
		ns, h, w2 := setup(t)
		data, err := os.ReadFile(h.handlesPath())
		if err != nil {
			t.Fatal(err)
		}
		r, ok := decodeHandles(data)
		if !ok {
			t.Fatalf("cannot read the record of handles:\n%s", data)
		}
		for _, hs := range r.Chains {
			for i := range hs {
				hs[i] += 100000 // no such rule
			}
		}
		if !writeFile(h.handlesPath(), r.encode()) {
			t.Fatal("cannot write the record")
		}
		p := plan(t, h, w2)
		if inc, why := p.Incremental(); !inc {
			t.Fatalf("the plan is not incremental: %s", why)
		}
		if out, err := Apply(h, p, Options{}); out != batch.Applied || err != nil {
			t.Fatalf("apply: %v: %v", out, err)
		}
		check(t, ns, h, w2)
	})
}

// TestMatchRules checks which rules an incremental apply keeps: the
// longest run in order, equal rules told apart by occurrence, comments
// ignored.
func TestMatchRules(t *testing.T) {
	for _, tc := range []struct {
		name       string
		have, want string
		keep       []int
	}{
		{"same", "a b c", "a b c", []int{0, 1, 2}},
		{"comments", `a b c`, `a comment "x:1"`, []int{0}},
		{"changed", "a b c d", "a x c d", []int{0, -1, 2, 3}},
		{"inserted", "a b c", "a b x c", []int{0, 1, -1, 2}},
		{"removed", "a b c", "a c", []int{0, 2}},
		{"moved", "a b c d", "a c d b", []int{0, 2, 3, -1}},
		{"twice", "a b a c", "a a c", []int{0, 2, 3}},
		{"twice added", "a b c", "a b a c", []int{0, 1, -1, 2}},
		{"none", "a b", "c d", []int{-1, -1}},
		{"empty", "", "a", []int{-1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			split := func(s string) []string {
				if strings.HasPrefix(s, "a comment") {
					return []string{s}
				}
				return strings.Fields(s)
			}
			got := matchRules(split(tc.have), split(tc.want))
			if fmt.Sprint(got) != fmt.Sprint(tc.keep) {
				t.Fatalf("matchRules(%q, %q) = %v, want %v", tc.have, tc.want, got, tc.keep)
			}
		})
	}
}

// sendUDP sends n datagrams to 127.0.0.1:9 in ns, where something
// listens.
func sendUDP(t *testing.T, ns string, n int) {
	t.Helper()
	testnetns.Do(t, ns, func() {
		l, err := net.ListenPacket("udp", "127.0.0.1:9")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		c, err := net.Dial("udp", "127.0.0.1:9")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for range n {
			if _, err := c.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestCountersSurviveFullReplace: a change the incremental path cannot
// make (a set added) replaces the table whole; the counted rule that
// stays carries its packets and bytes over, and a counted rule that is
// new starts from zero.
func TestCountersSurviveFullReplace(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	path := filepath.Join(t.TempDir(), "policy.fw")
	mustApply(t, h, writePolicy(t, path, incrV1), Options{})
	sendUDP(t, ns, 5)
	before := counterRe2.FindStringSubmatch(testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc"))
	if before == nil || before[1] == "0" {
		t.Fatal("the loopback rule counted nothing")
	}

	v2 := "set other_ports : port {\n\telements { 7 }\n}\n" + strings.Replace(incrV1,
		"from any to self tcp dport 25", "from any to self tcp dport @other_ports counter accept\nfrom any to self tcp dport 25", 1)
	w2 := writePolicy(t, path, v2)
	p := plan(t, h, w2)
	if inc, _ := p.Incremental(); inc {
		t.Fatal("adding a set is planned as incremental")
	}
	if out, err := Apply(h, p, Options{}); out != batch.Applied || err != nil {
		t.Fatalf("apply: %v: %v", out, err)
	}
	after := testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc")
	if c := counterRe2.FindStringSubmatch(after); c == nil || c[1] != before[1] || c[2] != before[2] {
		t.Fatalf("the loopback rule's counter went from %v to %v", before, c)
	}
	if !strings.Contains(after, "tcp dport @other_ports counter packets 0 bytes 0 accept") {
		t.Fatalf("the new counted rule does not start from zero:\n%s", after)
	}
	mustBeEmpty(t, h, w2)
}

// TestIncrementalElements: elements removed from a set (deleted by key),
// and a changed interval set (flushed and filled again in the same
// batch), go incrementally too: the table is then what the new script
// makes.
func TestIncrementalElements(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	const v1 = `set ports : port {
	elements { 22, 8443, 9100 }
}
set nets : ipv4_net {
	elements { 10.0.0.0/24, 10.2.0.0/16 }
}
table filter {
	chain input policy drop {
	}
}
from any to self tcp dport @ports accept
from any to self saddr @nets accept
`
	v2 := strings.NewReplacer("22, 8443, 9100", "22, 9100, 9200", "10.0.0.0/24, 10.2.0.0/16", "10.0.0.0/23, 10.2.0.0/16, 192.0.2.0/24").Replace(v1)
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	path := filepath.Join(t.TempDir(), "policy.fw")
	mustApply(t, h, writePolicy(t, path, v1), Options{})
	hs1 := handlesOf(t, ns)
	w2 := writePolicy(t, path, v2)
	p := plan(t, h, w2)
	if inc, why := p.Incremental(); !inc {
		t.Fatalf("the plan is a full replace: %s", why)
	}
	// ports: 8443 deleted by key, 9200 added; nets: flushed and filled.
	if n := len(p.incr.msgs); n != 4 {
		t.Fatalf("the incremental batch has %d messages, want 4", n)
	}
	if out, err := Apply(h, p, Options{}); out != batch.Applied || err != nil {
		t.Fatalf("apply: %v: %v", out, err)
	}
	wt, err := w2.Listing("")
	if err != nil {
		t.Fatal(err)
	}
	if d := diffTables(parseTable(testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc")), wt); len(d) != 0 {
		t.Fatalf("the table differs from the new script's: %v", d)
	}
	for r, hd := range handlesOf(t, ns) {
		if hs1[r] != hd {
			t.Errorf("rule %q: handle %s, was %s", r, hd, hs1[r])
		}
	}
	mustBeEmpty(t, h, w2)
}
