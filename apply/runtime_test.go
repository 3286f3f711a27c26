package apply

import (
	"net"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// runtimeSets is a policy with every kind of set a plan and an apply must
// treat: dynamic ones (no declared elements, an interval set among them; a
// set timeout; declared elements under a timeout, a floor) and a static
// one, whose elements are exactly the declared ones. port names the
// service the policy opens, so that changing it changes the policy.
func runtimeSets(port string) string {
	return `set bans : ipv4_addr
set nets : ipv4_net
set tmp : ipv4_addr { timeout 1h }
set floor : ipv4_addr {
	timeout 1h
	elements { 192.0.2.1 }
}
set fixed : ipv4_addr { elements { 192.0.2.9 } }
from any to self saddr @bans drop
from any to self saddr @nets drop
from any to self saddr @tmp drop
from any to self saddr @floor drop
from any to self saddr @fixed drop
from any to self tcp dport ` + port + ` accept
`
}

// addElements adds elements at run time, as fail2ban does, and returns
// nothing: the test reads the sets back with nft, not with fwc.
func addRuntimeElements(t *testing.T, ns string) {
	t.Helper()
	for _, cmd := range []string{
		"add element inet fwc bans { 198.51.100.7 }",
		"add element inet fwc nets { 198.51.100.128/25 }",
		"add element inet fwc tmp { 198.51.100.8 }",
		"add element inet fwc tmp { 198.51.100.10 timeout 2h }",
		"add element inet fwc floor { 198.51.100.9 }",
		"add element inet fwc fixed { 198.51.100.11 }",
	} {
		testnetns.Run(t, ns, "nft", cmd)
	}
}

// setHas lists set in ns with nft and reports whether elem is in it.
func setHas(t *testing.T, ns, set, elem string) bool {
	t.Helper()
	out := testnetns.Run(t, ns, "nft", "list", "set", "inet", "fwc", set)
	for _, f := range strings.FieldsFunc(out, func(r rune) bool { return r == '{' || r == '}' || r == ',' || r == '\n' }) {
		if fs := strings.Fields(f); len(fs) > 0 && fs[0] == elem {
			return true
		}
	}
	return false
}

// TestRuntimeElementsSurviveApply: elements added at run time to dynamic
// sets are still there after an apply of a changed policy (the full
// replace of the table), with their timeouts; a static set is put back to
// its declared elements; the plan shows the kept elements as kept.
func TestRuntimeElementsSurviveApply(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	mustApply(t, h, compileSrc(t, runtimeSets("22")), Options{})
	addRuntimeElements(t, ns)

	w := compileSrc(t, runtimeSets("2222"))
	p := plan(t, h, w)
	var b strings.Builder
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	shown := b.String()
	for _, want := range []string{"= set bans: element 198.51.100.7", "= set tmp: element 198.51.100.10 timeout 2h", "= set nets: element 198.51.100.128/25", "= set floor: element 198.51.100.9", "- set fixed: element 198.51.100.11", "5 elements added at run time"} {
		if !strings.Contains(shown, want) {
			t.Errorf("plan does not show %q:\n%s", want, shown)
		}
	}
	if strings.Contains(shown, "- set bans") || strings.Contains(shown, "- set tmp") {
		t.Errorf("plan removes runtime elements:\n%s", shown)
	}
	if out, err := Apply(h, p, Options{}); err != nil {
		t.Fatalf("apply: %v: %v", out, err)
	}
	for _, c := range []struct{ set, elem string }{
		{"bans", "198.51.100.7"}, {"nets", "198.51.100.128/25"}, {"tmp", "198.51.100.8"},
		{"tmp", "198.51.100.10"}, {"floor", "198.51.100.9"}, {"floor", "192.0.2.1"}, {"fixed", "192.0.2.9"},
	} {
		if !setHas(t, ns, c.set, c.elem) {
			t.Errorf("after apply, set %s lacks %s:\n%s", c.set, c.elem, testnetns.Run(t, ns, "nft", "list", "set", "inet", "fwc", c.set))
		}
	}
	if setHas(t, ns, "fixed", "198.51.100.11") {
		t.Errorf("static set fixed kept an element added at run time")
	}
	// The element's own timeout came back with it, not the set's.
	if out := testnetns.Run(t, ns, "nft", "list", "set", "inet", "fwc", "tmp"); !strings.Contains(out, "198.51.100.10 timeout 2h") {
		t.Errorf("element timeout lost:\n%s", out)
	}
	if !strings.Contains(testnetns.Run(t, ns, "nft", "list", "chain", "inet", "fwc", "filter_input"), "2222") {
		t.Errorf("the changed policy was not applied")
	}
	// The same policy again: nothing to do, the runtime elements do not
	// count as changes.
	mustBeEmpty(t, h, w)
}

// TestMeterEntriesSurviveApply: the sets the ruleset fills itself (a
// meter's buckets, a connection count's keys) keep their entries across an
// apply of a changed policy, expressions and all, and the kernel takes
// them back.
func TestMeterEntriesSurviveApply(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	src := func(port string) string {
		return `from any to self tcp dport 22 ct state new meter ssh per saddr over 4/minute burst 4 drop
from any to self tcp dport 22 tcp syn connlimit over 2 mask 24 reject with tcp-reset
from any to self tcp dport ` + port + ` accept
`
	}
	mustApply(t, h, compileSrc(t, src("80")), Options{})
	// One SYN to port 22 over loopback passes the input hook and makes an
	// entry in the meter (nothing listens: the dial is refused).
	testnetns.Do(t, ns, func() {
		if c, err := net.Dial("tcp", "127.0.0.1:22"); err == nil {
			c.Close()
		}
	})
	if !setHas(t, ns, "meter_ssh", "127.0.0.1") {
		t.Fatalf("no meter entry after a packet:\n%s", testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc"))
	}
	mustApply(t, h, compileSrc(t, src("8080")), Options{})
	if !setHas(t, ns, "meter_ssh", "127.0.0.1") {
		t.Errorf("meter entry lost by apply:\n%s", testnetns.Run(t, ns, "nft", "list", "set", "inet", "fwc", "meter_ssh"))
	}
}
