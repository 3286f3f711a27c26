package apply

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
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
	testnetns.Do(t, ns, func() {
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
	testnetns.Do(t, ns, func() {
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
			p = plan(t, h, w)
			if len(p.Table) != 1 || p.Table[0].String() != want {
				t.Fatalf("plan after the rollback:\n%s\nwant %q", planText(p), want)
			}
			// Loading the script with nft -f wakes the table as well.
			if out, err := Apply(h, p, Options{Script: true}); err != nil {
				t.Fatalf("apply with nft -f: %v %v", out, err)
			}
			if dialPort7(t, ns) {
				t.Error("port 7 is open after the apply with nft -f")
			}
			mustBeEmpty(t, h, w)
		})
	}
}

// outsideObjects are the stateful objects nft can add to fwc's table, one
// of each kind this kernel takes (secmark needs an SELinux kernel, so it is
// left out), as an nft script and as the plan line that must remove it.
var outsideObjects = []struct{ script, plan string }{
	{"counter c1 {\n}", "- counter c1"},
	{"quota q1 {\nover 25 mbytes\n}", "- quota q1: over 25 mbytes"},
	{"limit l1 {\nrate 10/second\n}", "- limit l1: rate 10/second"},
	{"ct helper h1 {\ntype \"ftp\" protocol tcp\nl3proto inet\n}", "- ct helper h1: type \"ftp\" protocol tcp; l3proto inet"},
	{"ct timeout t1 {\nprotocol tcp\nl3proto ip\npolicy = { established : 100 }\n}", "- ct timeout t1: protocol tcp; l3proto ip; policy = { established : 100 }"},
	{"ct expectation e1 {\nprotocol tcp\ndport 21\ntimeout 1m\nsize 10\nl3proto ip\n}", "- ct expectation e1: protocol tcp; dport 21; timeout 1m; size 10; l3proto ip"},
	{"synproxy s1 {\nmss 1460\nwscale 7\n}", "- synproxy s1: mss 1460; wscale 7"},
}

// TestOutsideObjects: a stateful object added to fwc's table by someone
// else shows in the plan, with or without a record of the last apply (the
// record's fingerprint must cover objects), and the apply removes it.
func TestOutsideObjects(t *testing.T) {
	for _, cached := range []bool{false, true} {
		name := "listings"
		if cached {
			name = "cached"
		}
		t.Run(name, func(t *testing.T) {
			ns := nsWithLinks(t)
			h := openHost(t, ns)
			if cached {
				h.Cache = t.TempDir()
			}
			w := compileSrc(t, rejectPort)
			mustApply(t, h, w, Options{})
			for _, o := range outsideObjects {
				if out, err := testnetns.Feed(ns, []byte("table inet fwc {\n"+o.script+"\n}\n"), "nft", "-f", "-"); err != nil {
					t.Fatalf("add %s: %v\n%s", o.plan, err, out)
				}
				p := plan(t, h, w)
				if len(p.Table) != 1 || p.Table[0].String() != o.plan {
					t.Errorf("plan with an outside object:\n%s\nwant %q", planText(p), o.plan)
				}
				if out, err := Apply(h, p, Options{}); err != nil {
					t.Fatalf("apply: %v %v", out, err)
				}
				if l := testnetns.Run(t, ns, "nft", "-s", "list", "table", "inet", "fwc"); strings.Contains(l, o.script[:strings.IndexByte(o.script, '{')]) {
					t.Errorf("the object is still there:\n%s", l)
				}
				mustBeEmpty(t, h, w)
			}
		})
	}
}

// TestNoPathLookup: fwc finds nft in fixed system directories and enters
// namespaces itself: an nft or nsenter put first on PATH is never run, in a
// plan that lists the table and the policy (nft in the namespace and in a
// scratch one), an apply with nft -f, and a rollback.
func TestNoPathLookup(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	w := compileSrc(t, rejectPort)
	mustApply(t, h, w, Options{})
	have, err := Read(h)
	if err != nil {
		t.Fatal(err)
	}
	before, err := have.Listing()
	if err != nil {
		t.Fatal(err)
	}
	testnetns.Run(t, ns, "nft", "add", "rule", "inet", "fwc", "filter_input", "udp", "dport", "9", "drop")

	t.Run("planted", func(t *testing.T) {
		bin := t.TempDir()
		ran := filepath.Join(t.TempDir(), "ran")
		for _, tool := range []string{"nft", "nsenter", "sh"} {
			script := "#!/bin/sh\necho " + tool + " >>" + ran + "\nexit 1\n"
			if err := os.WriteFile(filepath.Join(bin, tool), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
		p := plan(t, h, w)
		if want := "- rule in filter_input: udp dport 9 drop"; len(p.Table) != 1 || p.Table[0].String() != want {
			t.Errorf("plan:\n%s\nwant %q", planText(p), want)
		}
		if out, err := Apply(h, p, Options{Script: true}); err != nil {
			t.Errorf("apply with nft -f: %v %v", out, err)
		}
		if err := Rollback(&Pending{NetNS: h.NetNS, Table: before.Text}); err != nil {
			t.Errorf("rollback: %v", err)
		}
		if b, err := os.ReadFile(ran); err == nil {
			t.Errorf("programs from PATH were run: %s", b)
		}
	})
	if p := plan(t, h, w); !p.Empty() {
		t.Errorf("the rollback did not restore the table:\n%s", planText(p))
	}
}

// TestForgedRecord: what the state directory says is checked against the
// kernel before a plan says there is nothing to do, once the generation
// has moved: a record pairing the live table's fingerprint with another
// policy's script, or a cached listing of the policy that is another
// table's, must not hide that the kernel holds something else.
func TestForgedRecord(t *testing.T) {
	const otherPort = "table filter { chain input { tcp dport 8 reject with tcp-reset } }\n"
	setup := func(t *testing.T) (string, *Host, *Want) {
		ns := nsWithLinks(t)
		listen7(t, ns)
		h := openHost(t, ns)
		h.Cache = t.TempDir()
		x, y := compileSrc(t, rejectPort), compileSrc(t, otherPort)
		mustApply(t, h, x, Options{})
		mustApply(t, h, y, Options{})
		if !dialPort7(t, ns) {
			t.Fatal("port 7 is reset while the kernel holds the other policy")
		}
		return ns, h, x
	}

	t.Run("record", func(t *testing.T) {
		ns, h, x := setup(t)
		// The record of y's apply, made to name x's script.
		var a applied
		data, err := os.ReadFile(h.appliedPath())
		if err != nil || json.Unmarshal(data, &a) != nil || a.Fingerprint == "" {
			t.Fatalf("record: %s %v", data, err)
		}
		a.Sum = x.Sum
		if err := os.WriteFile(h.scriptPath(), x.Script, 0o600); err != nil {
			t.Fatal(err)
		}
		writeCache(h.appliedPath(), a)
		testnetns.Run(t, ns, "nft", "add", "table", "ip", "other")
		if p := plan(t, h, x); p.Empty() {
			t.Fatal("plan of x with a forged record says nothing to do while the kernel holds y")
		}
		mustApply(t, h, x, Options{})
		if dialPort7(t, ns) {
			t.Error("port 7 is open after applying x")
		}
	})

	t.Run("listing cache", func(t *testing.T) {
		ns, h, x := setup(t)
		if err := os.Remove(h.appliedPath()); err != nil {
			t.Fatal(err)
		}
		// The cached listing of x's script, made to be y's table.
		live := testnetns.Run(t, ns, "nft", "-s", "list", "table", "inet", "fwc")
		writeCache(filepath.Join(h.Cache, "want-listing.json"), struct{ Sum, Text string }{x.Sum, live})
		if p := plan(t, h, x); p.Empty() {
			t.Fatal("plan of x with a forged listing cache says nothing to do while the kernel holds y")
		}
	})
}
