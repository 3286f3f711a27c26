package batch_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

func TestSmallBatchCommits(t *testing.T) {
	t.Parallel()
	ns, c := openNS(t)
	pre := generation(t, c)
	out, err := c.Commit(pre, buildRules("fwc", 3, -1))
	if out != batch.Applied || err != nil {
		t.Fatalf("Commit = %v, %v; want applied, nil", out, err)
	}
	if got := generation(t, c); got != pre+1 {
		t.Errorf("generation after one commit = %d, want %d", got, pre+1)
	}
	got := testnetns.Ruleset(t, ns)
	for i := range 3 {
		if !strings.Contains(got, ruleText(i)) {
			t.Errorf("ruleset lacks %q:\n%s", ruleText(i), got)
		}
	}
	if n := countRules(t, c, "fwc"); n != 3 {
		t.Errorf("%d rules read back, want 3", n)
	}

	// Committing again replaces the table rather than appending to it.
	out, err = c.Commit(0, buildRules("fwc", 2, -1))
	if out != batch.Applied || err != nil {
		t.Fatalf("second Commit = %v, %v", out, err)
	}
	if n := countRules(t, c, "fwc"); n != 2 {
		t.Errorf("%d rules after replacing, want 2", n)
	}
}

// TestMatchesNftText is the differential test: the same ruleset loaded with
// nft -f and with Commit lists identically.
func TestMatchesNftText(t *testing.T) {
	t.Parallel()
	nsText := testnetns.New(t)
	file := filepath.Join(t.TempDir(), "rules.nft")
	if err := os.WriteFile(file, []byte(rulesText("fwc", 50)), 0o644); err != nil {
		t.Fatal(err)
	}
	testnetns.Run(t, nsText, "nft", "-f", file)
	want := testnetns.Ruleset(t, nsText)

	ns, c := openNS(t)
	if out, err := c.Commit(0, buildRules("fwc", 50, -1)); out != batch.Applied {
		t.Fatalf("Commit = %v, %v", out, err)
	}
	if got := testnetns.Ruleset(t, ns); got != want {
		t.Errorf("Commit's ruleset differs from nft -f's:\n--- nft -f\n%s\n--- Commit\n%s", want, got)
	}
}

func TestErrorAtRule9999LeavesRulesetUntouched(t *testing.T) {
	t.Parallel()
	ns, c := openNS(t)
	// A foreign table and a previous fwc table are there before.
	testnetns.Run(t, ns, "nft", "add table inet other; add chain inet other c { type filter hook forward priority 0; }; add rule inet other c counter accept")
	if out, err := c.Commit(0, buildRules("fwc", 5, -1)); out != batch.Applied {
		t.Fatalf("setup Commit = %v, %v", out, err)
	}
	before := testnetns.Ruleset(t, ns)
	pre := generation(t, c)

	out, err := c.Commit(pre, buildRules("fwc", 10000, 9998)) // rule 9,999 of 10,000
	if out != batch.NotApplied || err == nil {
		t.Fatalf("Commit = %v, %v; want not applied with an error", out, err)
	}
	var me *batch.MessageError
	if !errors.As(err, &me) {
		t.Fatalf("error has no MessageError: %v", err)
	}
	if me.Op != "add rule" || me.Table != "fwc" || me.Object != "input" || me.Rule != 9998 || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("MessageError = %+v, want add rule fwc input #9998 ENOENT", me)
	}
	t.Logf("error: %v", err)
	if after := testnetns.Ruleset(t, ns); after != before {
		t.Errorf("ruleset changed by a refused batch:\n--- before\n%s\n--- after\n%s", before, after)
	}
	if got := generation(t, c); got != pre {
		t.Errorf("generation %d after a refused batch, want %d", got, pre)
	}
}

func TestGenerationChanged(t *testing.T) {
	t.Parallel()
	ns, c := openNS(t)
	pre := generation(t, c)
	testnetns.Run(t, ns, "nft", "add table ip other")
	before := testnetns.Ruleset(t, ns)

	out, err := c.Commit(pre, buildRules("fwc", 10, -1))
	if out != batch.NotApplied || !errors.Is(err, batch.ErrGenerationChanged) {
		t.Fatalf("Commit = %v, %v; want not applied, ErrGenerationChanged", out, err)
	}
	t.Logf("error: %v", err)
	if after := testnetns.Ruleset(t, ns); after != before {
		t.Errorf("ruleset changed:\n--- before\n%s\n--- after\n%s", before, after)
	}
	if got := generation(t, c); got != pre+1 {
		t.Errorf("generation = %d, want %d (only nft's change)", got, pre+1)
	}
}

func TestLargeBatch(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("short")
	}
	_, c := openNS(t)
	out, err := c.Commit(0, buildRules("fwc", 10000, -1))
	if out != batch.Applied || err != nil {
		t.Fatalf("Commit = %v, %v", out, err)
	}
	if n := countRules(t, c, "fwc"); n != 10000 {
		t.Errorf("%d rules loaded, want 10000", n)
	}
}

// TestLargeSet loads 100,000 IPv4 elements into a set, once into a set with
// no size and once into one created with its size (which lets the kernel
// size its hash table up front, and also caps the set at that size).
func TestLargeSet(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("short")
	}
	const n = 100000
	for _, size := range []uint32{0, n} {
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			t.Parallel()
			testLargeSet(t, n, size)
		})
	}
}

func testLargeSet(t *testing.T, n int, size uint32) {
	ns, c := openNS(t)
	elems := make([]nftables.SetElement, n)
	want := make(map[netip.Addr]bool, n)
	for i := range elems {
		a := ruleAddr(i).As4()
		elems[i] = nftables.SetElement{Key: a[:]}
		want[ruleAddr(i)] = true
	}
	set := &nftables.Set{Name: "blocked", KeyType: nftables.TypeIPAddr, Size: size}
	out, err := c.Commit(0, func(nc *nftables.Conn) error {
		set.Table = batch.ResetTable(nc, &nftables.Table{Family: nftables.TableFamilyIPv4, Name: "fwc"})
		if err := nc.AddSet(set, nil); err != nil {
			return err
		}
		return batch.AddSetElements(nc, set, elems)
	})
	if out != batch.Applied || err != nil {
		t.Fatalf("Commit = %v, %v", out, err)
	}
	q, err := c.Query()
	if err != nil {
		t.Fatal(err)
	}
	// A dump taken while the kernel is still growing the set's hash table
	// (deferred rhashtable resize, for a few hundred ms after a big load)
	// repeats some elements and skips others. Read until a dump has no
	// duplicates: the resize ends, and no event tells when, so poll; go
	// test's -timeout bounds the wait, not a guess at the machine's speed.
	var got []nftables.SetElement
	for try := 1; ; try++ {
		got, err = q.GetSetElements(set)
		if err != nil {
			t.Fatalf("GetSetElements: %v", err)
		}
		distinct := map[string]bool{}
		for _, e := range got {
			distinct[string(e.Key)] = true
		}
		if len(distinct) == len(got) {
			t.Logf("dump %d: %d elements, %d distinct", try, len(got), len(distinct))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(got) != n {
		t.Errorf("GetSetElements: %d elements, want %d", len(got), n)
	}
	seen := make(map[netip.Addr]bool, len(got))
	for _, e := range got {
		a, ok := netip.AddrFromSlice(e.Key)
		if !ok || !want[a] {
			t.Fatalf("GetSetElements returned %v, not one of the loaded addresses", e.Key)
		}
		seen[a] = true
	}
	if len(seen) != n {
		t.Errorf("GetSetElements: %d distinct elements, want %d", len(seen), n)
	}
	// And as nft sees it.
	var listed struct {
		Nftables []struct {
			Set *struct {
				Elem []string `json:"elem"`
			} `json:"set"`
		} `json:"nftables"`
	}
	text := testnetns.Run(t, ns, "nft", "-j", "list", "set", "ip", "fwc", "blocked")
	if err := json.Unmarshal([]byte(text), &listed); err != nil {
		t.Fatalf("nft -j: %v", err)
	}
	nftSeen := map[netip.Addr]bool{}
	for _, o := range listed.Nftables {
		if o.Set == nil {
			continue
		}
		for _, e := range o.Set.Elem {
			a, err := netip.ParseAddr(e)
			if err != nil || !want[a] {
				t.Fatalf("nft lists %q, not one of the loaded addresses", e)
			}
			nftSeen[a] = true
		}
	}
	if len(nftSeen) != n {
		t.Errorf("nft lists %d distinct elements, want %d", len(nftSeen), n)
	}
}

func TestForeignTableUntouched(t *testing.T) {
	t.Parallel()
	ns, c := openNS(t)
	testnetns.Run(t, ns, "nft", "add table ip6 foreign; add set ip6 foreign s { type ipv6_addr; elements = { ::1, 2001:db8::1 }; }; add chain ip6 foreign c; add rule ip6 foreign c ip6 saddr @s drop")
	foreign := func() string { return testnetns.Run(t, ns, "nft", "list", "table", "ip6", "foreign") }
	before := foreign()
	for _, n := range []int{10, 1000, 3} {
		if out, err := c.Commit(0, buildRules("fwc", n, -1)); out != batch.Applied {
			t.Fatalf("Commit(%d rules) = %v, %v", n, out, err)
		}
	}
	if after := foreign(); after != before {
		t.Errorf("foreign table changed:\n--- before\n%s\n--- after\n%s", before, after)
	}
}

func TestBuildErrorSendsNothing(t *testing.T) {
	t.Parallel()
	_, c := openNS(t)
	pre := generation(t, c)
	boom := errors.New("boom")
	out, err := c.Commit(0, func(nc *nftables.Conn) error {
		buildRules("fwc", 3, -1)(nc)
		return boom
	})
	if out != batch.NotApplied || !errors.Is(err, boom) {
		t.Fatalf("Commit = %v, %v; want not applied, boom", out, err)
	}
	if got := generation(t, c); got != pre {
		t.Errorf("generation moved: %d → %d", pre, got)
	}
}

func TestEmptyBatch(t *testing.T) {
	t.Parallel()
	_, c := openNS(t)
	out, err := c.Commit(0, func(*nftables.Conn) error { return nil })
	if out != batch.Applied || err != nil {
		t.Fatalf("Commit = %v, %v; want applied, nil", out, err)
	}
}
