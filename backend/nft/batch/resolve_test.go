package batch

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// buildSmall (re)creates table ip fwc with chain c of n accept rules.
func buildSmall(n int) func(*nftables.Conn) error {
	return func(c *nftables.Conn) error {
		t := ResetTable(c, &nftables.Table{Family: nftables.TableFamilyIPv4, Name: "fwc"})
		ch := c.AddChain(&nftables.Chain{Name: "c", Table: t})
		for range n {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}}})
		}
		return nil
	}
}

// TestResolve checks the outcome Commit reports when the kernel's answer is
// lost, by calling resolve directly after arranging the kernel state.
func TestResolve(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(t *testing.T, ns string, c *Conn)
		want  Outcome
	}{
		{"nothing committed", func(*testing.T, string, *Conn) {}, NotApplied},
		{"batch committed", func(t *testing.T, _ string, c *Conn) {
			if out, err := c.Commit(0, buildSmall(7)); out != Applied {
				t.Fatal(out, err)
			}
		}, Applied},
		{"someone else committed", func(t *testing.T, ns string, _ *Conn) {
			testnetns.Run(t, ns, "nft", "add table ip other")
		}, Unknown},
		{"someone else committed a similar table", func(t *testing.T, ns string, _ *Conn) {
			testnetns.Run(t, ns, "nft", "add table ip fwc; add chain ip fwc c; add rule ip fwc c accept")
		}, Unknown},
		{"batch and someone else committed", func(t *testing.T, ns string, c *Conn) {
			if out, err := c.Commit(0, buildSmall(7)); out != Applied {
				t.Fatal(out, err)
			}
			testnetns.Run(t, ns, "nft", "add table ip other")
		}, Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := testnetns.New(t)
			c, err := Open(WithNetNSPath(ns))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A previous version of the table, so that the expectation
			// includes a table that exists before and after.
			if out, err := c.Commit(0, buildSmall(3)); out != Applied {
				t.Fatal(out, err)
			}
			msgs, err := Capture(buildSmall(7))
			if err != nil {
				t.Fatal(err)
			}
			pre, err := c.Generation()
			if err != nil {
				t.Fatal(err)
			}
			tc.setup(t, ns, c)
			cause := errors.New("lost answer")
			c.mu.Lock()
			out, err := c.resolve(pre, msgs, cause)
			c.mu.Unlock()
			t.Logf("%v: %v", out, err)
			if out != tc.want {
				t.Errorf("resolve = %v, %v; want %v", out, err, tc.want)
			}
			if out != Applied && !errors.Is(err, cause) {
				t.Errorf("error %v does not wrap the cause", err)
			}
		})
	}
}

func TestExpect(t *testing.T) {
	t.Parallel()
	msgs, err := Capture(func(c *nftables.Conn) error {
		if err := buildSmall(4)(c); err != nil {
			return err
		}
		old := &nftables.Table{Family: nftables.TableFamilyINet, Name: "old"}
		c.DelTable(old)
		keep := &nftables.Table{Family: nftables.TableFamilyIPv6, Name: "keep"}
		ch := c.AddChain(&nftables.Chain{Name: "x", Table: keep})
		c.AddRule(&nftables.Rule{Table: keep, Chain: ch, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	infos := make([]msgInfo, len(msgs))
	for i, m := range msgs {
		infos[i] = decodeMsg(m)
	}
	e := expect(infos)
	fwc := tableKey{nftables.TableFamilyIPv4, "fwc"}
	keep := tableKey{nftables.TableFamilyIPv6, "keep"}
	got := fmt.Sprint(e.tables[fwc], e.tables[tableKey{nftables.TableFamilyINet, "old"}],
		e.chains[chainKey{fwc, "c"}], e.rules[chainKey{fwc, "c"}], e.chains[chainKey{keep, "x"}])
	if want := "true false true 4 true"; got != want {
		t.Errorf("expectation = %s, want %s (%+v)", got, want, e)
	}
	if _, ok := e.rules[chainKey{keep, "x"}]; ok {
		t.Errorf("rule count predicted for a chain in a table the batch did not reset")
	}
}

// TestLostRepliesResolved makes the kernel drop replies (ENOBUFS) by giving
// the socket a tiny receive buffer, and checks that Commit still reports the
// right outcome from the generation.
func TestLostRepliesResolved(t *testing.T) {
	t.Parallel()
	ns := testnetns.New(t)
	c, err := Open(WithNetNSPath(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out, err := c.Commit(0, buildSmall(3)); out != Applied {
		t.Fatal(out, err)
	}
	before := testnetns.Ruleset(t, ns)
	pre, err := c.Generation()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.nl.SetReadBuffer(0); err != nil { // the kernel's minimum
		t.Fatal(err)
	}
	c.rcvbuf = 1 << 30 // keep Commit from growing it again
	out, err := c.Commit(pre, func(nc *nftables.Conn) error {
		tb := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: "fwc"}
		ch := &nftables.Chain{Name: "c", Table: tb}
		for range 1000 {
			nc.AddRule(&nftables.Rule{Table: tb, Chain: ch, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: "missing"}}})
		}
		return nil
	})
	t.Logf("%v: %v", out, err)
	if out != NotApplied || !errors.Is(err, syscall.ENOBUFS) {
		t.Errorf("Commit = %v, %v; want not applied after ENOBUFS", out, err)
	}
	if after := testnetns.Ruleset(t, ns); after != before {
		t.Errorf("ruleset changed")
	}
	// The socket is still usable.
	if out, err := c.Commit(0, buildSmall(2)); out != Applied {
		t.Errorf("next Commit = %v, %v", out, err)
	}
}
