package apply

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestDynamicKeyword: a set declared `dynamic` keeps the elements added
// at run time across an apply, though it declares elements and has no
// timeout (without the keyword it holds exactly its declared ones), and
// the plan shows them as kept.
func TestDynamicKeyword(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	src := func(port string) string {
		return `set allow : ipv4_addr {
	dynamic
	elements { 192.0.2.5 }
}
from any to self saddr @allow tcp dport ` + port + ` accept
`
	}
	mustApply(t, h, compileSrc(t, src("22")), Options{})
	testnetns.Run(t, ns, "nft", "add", "element", "inet", "fwc", "allow", "{ 198.51.100.7 }")
	w := compileSrc(t, src("2222"))
	p := plan(t, h, w)
	if text := planText(p); !strings.Contains(text, "= set allow: element 198.51.100.7") || strings.Contains(text, "- set allow") {
		t.Fatalf("the plan does not keep the runtime element:\n%s", text)
	}
	mustApply(t, h, w, Options{})
	if !setHas(t, ns, "allow", "198.51.100.7") || !setHas(t, ns, "allow", "192.0.2.5") {
		t.Fatalf("after apply: %s", testnetns.Run(t, ns, "nft", "list", "set", "inet", "fwc", "allow"))
	}
}

// TestRollbackKeepsRuntimeElements: the snapshot a --confirm takes is the
// kernel's table, with the entries packets put in dynamic sets (a
// meter's), even when the plan trusted the record of the last apply (the
// generation does not move when packets add entries): a rollback puts
// them back.
func TestRollbackKeepsRuntimeElements(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	src := func(port string) string {
		return `from any to self tcp dport 22 ct state new meter ssh per saddr over 4/minute burst 4 drop
from any to self tcp dport ` + port + ` accept
`
	}
	mustApply(t, h, compileSrc(t, src("80")), Options{})
	testnetns.Do(t, ns, func() {
		if c, err := net.Dial("tcp", "127.0.0.1:22"); err == nil {
			c.Close()
		}
	})
	if !setHas(t, ns, "meter_ssh", "127.0.0.1") {
		t.Fatalf("no meter entry after a packet:\n%s", testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc"))
	}
	p := plan(t, h, compileSrc(t, src("8080")))
	snap, err := Snapshot(t.TempDir(), h, p.Have, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = Discard(snap.Dir, snap) }()
	if _, err := Apply(h, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Rollback(snap); err != nil {
		t.Fatal(err)
	}
	if !setHas(t, ns, "meter_ssh", "127.0.0.1") {
		t.Errorf("the rollback lost the meter entry:\n%s", testnetns.Run(t, ns, "nft", "list", "set", "inet", "fwc", "meter_ssh"))
	}
}

// TestFailedRoutingKeepsRuntimeElements: when a routing step fails after
// the table was replaced, the table put back is the kernel's, with the
// entries packets added to a meter, not the record's script.
func TestFailedRoutingKeepsRuntimeElements(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	meter := "from any to self tcp dport 22 ct state new meter ssh per saddr over 4/minute burst 4 drop\n"
	mustApply(t, h, compileSrc(t, meter), Options{})
	testnetns.Do(t, ns, func() {
		if c, err := net.Dial("tcp", "127.0.0.1:22"); err == nil {
			c.Close()
		}
	})
	if !setHas(t, ns, "meter_ssh", "127.0.0.1") {
		t.Fatalf("no meter entry after a packet:\n%s", testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc"))
	}
	bad := compileSrc(t, meter+"route via_c { mark 0x3/0xff; table 30; default via 10.3.0.2 dev nowhere }\nfrom self to any udp dport 53 route via_c\n")
	if out, err := Apply(h, plan(t, h, bad), Options{}); err == nil || out != batch.NotApplied {
		t.Fatalf("apply with a route to a missing device: %v, %v", out, err)
	}
	if !setHas(t, ns, "meter_ssh", "127.0.0.1") {
		t.Errorf("the table put back lost the meter entry:\n%s", testnetns.Run(t, ns, "nft", "list", "set", "inet", "fwc", "meter_ssh"))
	}
}
