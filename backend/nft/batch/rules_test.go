package batch_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestCommitEchoAndPlace builds a chain of rules 0 1 2, then, in one
// batch guarded by the generation, deletes rule 1 by handle, puts rule 3
// after rule 0 and rule 4 before it, with the kernel echoing the new
// rules' handles: the chain lists 4 0 3 2, with the echoed handles, and
// Rule reads one rule back by handle.
func TestCommitEchoAndPlace(t *testing.T) {
	t.Parallel()
	ns, c := openNS(t)
	table := &nftables.Table{Name: "t", Family: nftables.TableFamilyINet}
	chain := &nftables.Chain{Name: "c", Table: table}
	rec := func(build func(*nftables.Conn)) []netlink.Message {
		msgs, err := batch.Capture(func(nc *nftables.Conn) error { build(nc); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	first := rec(func(nc *nftables.Conn) {
		nc.AddTable(table)
		nc.AddChain(chain)
		for i := range 3 {
			nc.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: ruleExprs(i, nil)})
		}
	})
	gen, err := c.Generation()
	if err != nil {
		t.Fatal(err)
	}
	var echo []int
	for i, m := range first {
		if uint16(m.Header.Type)&0xff == unix.NFT_MSG_NEWRULE {
			echo = append(echo, i)
		}
	}
	out, got, err := c.CommitEcho(gen, first, echo)
	if out != batch.Applied || err != nil {
		t.Fatalf("commit: %v: %v", out, err)
	}
	handles := make([]uint64, 3)
	for k, i := range echo {
		if handles[k] = batch.AttrU64(got[i], unix.NFTA_RULE_HANDLE); handles[k] == 0 {
			t.Fatalf("no handle echoed for rule %d", k)
		}
	}

	add := func(i int) netlink.Message {
		return rec(func(nc *nftables.Conn) {
			nc.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: ruleExprs(i, nil)})
		})[0]
	}
	second := []netlink.Message{
		batch.DeleteRuleMessage("t", "c", handles[1]),
		batch.PlaceRule(add(3), handles[0], true),
		batch.PlaceRule(add(4), handles[0], false),
	}
	if gen, err = c.Generation(); err != nil {
		t.Fatal(err)
	}
	out, got, err = c.CommitEcho(gen, second, []int{1, 2})
	if out != batch.Applied || err != nil {
		t.Fatalf("commit: %v: %v", out, err)
	}
	h3, h4 := batch.AttrU64(got[1], unix.NFTA_RULE_HANDLE), batch.AttrU64(got[2], unix.NFTA_RULE_HANDLE)

	// In an inet table nft prints these ip-family expressions raw; the
	// handles say which rule is where.
	listing := testnetns.Run(t, ns, "nft", "-a", "list", "chain", "inet", "t", "c")
	var order []string
	for _, m := range regexp.MustCompile(`(?m)^\s+\S.* accept # handle (\d+)$`).FindAllStringSubmatch(listing, -1) {
		order = append(order, m[1])
	}
	want := []string{itoa(h4), itoa(handles[0]), itoa(h3), itoa(handles[2])}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("rule handles in chain order: %v, want %v\n%s", order, want, listing)
	}

	r, err := c.Rule("t", "c", h3)
	if err != nil {
		t.Fatal(err)
	}
	if batch.AttrU64(r, unix.NFTA_RULE_HANDLE) != h3 {
		t.Fatalf("Rule(%d) returned another rule", h3)
	}
	if _, err := c.Rule("t", "c", handles[1]); err == nil {
		t.Fatal("Rule found the deleted rule")
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
