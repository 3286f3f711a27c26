package batch_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// openNS makes a fresh namespace and a Conn in it.
func openNS(t testing.TB) (string, *batch.Conn) {
	t.Helper()
	ns := testnetns.New(t)
	c, err := batch.Open(batch.WithNetNSPath(ns))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return ns, c
}

// ruleAddr is the source address of rule i: 10.x.y.z, distinct for i < 2^24.
func ruleAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

func rulePort(i int) uint16 { return uint16(1024 + i%60000) }

// ruleExprs is "ip saddr ADDR tcp dport PORT accept" as nft compiles it in
// an ip-family table.
func ruleExprs(i int, verdict *expr.Verdict) []expr.Any {
	a := ruleAddr(i).As4()
	port := make([]byte, 2)
	binary.BigEndian.PutUint16(port, rulePort(i))
	if verdict == nil {
		verdict = &expr.Verdict{Kind: expr.VerdictAccept}
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a[:]},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: port},
		verdict,
	}
}

// ruleText is ruleExprs(i) in nft syntax.
func ruleText(i int) string {
	return fmt.Sprintf("ip saddr %s tcp dport %d accept", ruleAddr(i), rulePort(i))
}

// buildRules returns a build function that (re)creates table ip NAME with a
// base input chain of n rules. badAt >= 0 makes that rule jump to a chain that
// does not exist.
func buildRules(name string, n, badAt int) func(*nftables.Conn) error {
	return func(c *nftables.Conn) error {
		t := batch.ResetTable(c, &nftables.Table{Family: nftables.TableFamilyIPv4, Name: name})
		policy := nftables.ChainPolicyAccept
		ch := c.AddChain(&nftables.Chain{
			Name: "input", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &policy,
		})
		for i := range n {
			var v *expr.Verdict
			if i == badAt {
				v = &expr.Verdict{Kind: expr.VerdictJump, Chain: "no-such-chain"}
			}
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: ruleExprs(i, v)})
		}
		return nil
	}
}

// rulesText is the nft -f equivalent of buildRules(name, n, -1).
func rulesText(name string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table ip %s\ndelete table ip %s\ntable ip %s {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n", name, name, name)
	for i := range n {
		b.WriteString("\t\t")
		b.WriteString(ruleText(i))
		b.WriteByte('\n')
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

func generation(t testing.TB, c *batch.Conn) uint32 {
	t.Helper()
	g, err := c.Generation()
	if err != nil {
		t.Fatalf("Generation: %v", err)
	}
	return g
}

// countRules counts the rules of table ip NAME chain input.
func countRules(t testing.TB, c *batch.Conn, table string) int {
	t.Helper()
	q, err := c.Query()
	if err != nil {
		t.Fatal(err)
	}
	tb := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: table}
	rules, err := q.GetRules(tb, &nftables.Chain{Name: "input", Table: tb})
	if err != nil {
		t.Fatalf("GetRules: %v", err)
	}
	return len(rules)
}
