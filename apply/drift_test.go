package apply

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// Tests of state fwc's table can hold that fwc itself never makes, put
// there behind its back: a plan must show it and an apply must undo it.

// rejectPort is a policy whose only effect a packet can see: a TCP
// connection to port 7 is reset.
const rejectPort = "table filter { chain input { tcp dport 7 reject with tcp-reset } }\n"

// dialPort7 connects to 127.0.0.1:7 in ns, where listen has a listener: it
// reports whether the connection was made (else the reset came back).
func dialPort7(t *testing.T, ns string) bool {
	t.Helper()
	var err error
	inNS(t, ns, func() {
		var c net.Conn
		if c, err = net.Dial("tcp", "127.0.0.1:7"); err == nil {
			c.Close()
		}
	})
	if err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial: %v", err)
	}
	return err == nil
}

// listen7 opens a TCP listener on 127.0.0.1:7 in ns for the test's life.
func listen7(t *testing.T, ns string) {
	t.Helper()
	inNS(t, ns, func() {
		l, err := net.Listen("tcp", "127.0.0.1:7")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	})
}

func planText(p *Plan) string {
	var b strings.Builder
	_ = p.Write(&b)
	return b.String()
}

// TestDormantTable: `nft add table inet fwc { flags dormant; }` turns the
// whole table off (packets pass) while every rule stays listed. A plan must
// show it, with or without a record of the last apply, an apply must wake
// the table, and a rollback to a dormant table puts the flag back.
func TestDormantTable(t *testing.T) {
	for _, cached := range []bool{false, true} {
		name := "listings"
		if cached {
			name = "cached"
		}
		t.Run(name, func(t *testing.T) {
			ns := nsWithLinks(t)
			listen7(t, ns)
			h := openHost(t, ns)
			if cached {
				h.Cache = t.TempDir()
			}
			w := compileSrc(t, rejectPort)
			mustApply(t, h, w, Options{})
			if dialPort7(t, ns) {
				t.Fatal("port 7 is open after the apply")
			}
			mustBeEmpty(t, h, w)

			testnetns.Run(t, ns, "nft", "add", "table", "inet", "fwc", "{ flags dormant; }")
			if !dialPort7(t, ns) {
				t.Fatal("port 7 is still reset in a dormant table")
			}
			p := plan(t, h, w)
			const want = "~ table inet fwc: flags dormant → (none)"
			if len(p.Table) != 1 || p.Table[0].String() != want {
				t.Fatalf("plan of a dormant table:\n%s\nwant %q", planText(p), want)
			}
			// The snapshot apply --confirm keeps is the dormant table.
			snap, err := p.Have.Listing()
			if err != nil {
				t.Fatal(err)
			}
			if out, err := Apply(h, p, Options{}); err != nil {
				t.Fatalf("apply: %v %v", out, err)
			}
			if dialPort7(t, ns) {
				t.Error("port 7 is open after the apply woke the table")
			}
			if l := testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc"); strings.Contains(l, "dormant") {
				t.Errorf("the table is still dormant:\n%s", l)
			}
			mustBeEmpty(t, h, w)

			// Rolling back to the snapshot makes the table dormant again,
			// and the plan sees that too.
			if err := Rollback(&Pending{NetNS: h.NetNS, Table: snap.Text}); err != nil {
				t.Fatal(err)
			}
			if !dialPort7(t, ns) {
				t.Error("port 7 is reset after rolling back to a dormant table")
			}
			if p := plan(t, h, w); len(p.Table) != 1 || p.Table[0].String() != want {
				t.Errorf("plan after the rollback:\n%s\nwant %q", planText(p), want)
			}
		})
	}
}
