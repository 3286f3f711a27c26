package apply

import (
	"net"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestStatusDynamicSets: elements added at run time to a dynamic set do
// not make the table differ from the last apply's record; one added to a
// static set does.
func TestStatusDynamicSets(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	mustApply(t, h, compileSrc(t, `set bans : ipv4_addr
set admins : ipv4_addr { elements { 192.0.2.7 } }
from any to self saddr @bans drop
from any to self saddr @admins tcp dport 22 accept
`), Options{})
	status := func() *Status {
		t.Helper()
		st, err := ReadStatus(h)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := status(); !st.Table || st.Match != "unchanged" || len(st.Sets) != 2 {
		t.Fatalf("after apply: %+v", st)
	}
	testnetns.Run(t, ns, "nft", "add element inet fwc bans { 198.51.100.7 }")
	st := status()
	if st.Match != "same" {
		t.Errorf("after a runtime element: match %q, want same", st.Match)
	}
	if st.Sets[1].Name != "bans" || st.Sets[1].Elements != 1 || !st.Sets[1].Dynamic {
		t.Errorf("sets: %+v", st.Sets)
	}
	testnetns.Run(t, ns, "nft", "add element inet fwc admins { 192.0.2.8 }")
	if st := status(); st.Match != "changed" {
		t.Errorf("after an element in a static set: match %q, want changed", st.Match)
	}
}

// TestFingerprintIgnoresMeterEntries: the fingerprint leaves out what the
// packet path puts in a meter, its element count included (the kernel
// reports it as a set attribute since Linux 6.14).
func TestFingerprintIgnoresMeterEntries(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	mustApply(t, h, compileSrc(t, "from any to self tcp dport 22 ct state new meter ssh per saddr over 4/minute burst 4 drop\n"), Options{})
	before, err := fingerprint(h.nft, 0)
	if err != nil {
		t.Fatal(err)
	}
	testnetns.Do(t, ns, func() {
		if c, err := net.Dial("tcp", "127.0.0.1:22"); err == nil {
			c.Close()
		}
	})
	if !setHas(t, ns, "meter_ssh", "127.0.0.1") {
		t.Fatalf("no meter entry after a packet")
	}
	if after, err := fingerprint(h.nft, 0); err != nil || after != before {
		t.Errorf("a meter entry changed the fingerprint (%v)", err)
	}
}
