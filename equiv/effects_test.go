package equiv_test

import (
	"testing"

	"github.com/fwcproject/fwc/equiv"
	"github.com/fwcproject/fwc/policy"
)

// TestMarkCarried: a mark set by one chain of a hook is what a later
// chain's mark condition reads. Read at the hook's entry instead, the
// packet below (mark 0 on arrival) would be dropped by both policies.
func TestMarkCarried(t *testing.T) {
	const base = `table mangle {
	chain input {
		tcp dport 22 mark set 0x1
	}
}
table filter {
	chain input policy drop {
		mark %s accept
	}
}
`
	old := program(t, "old.fw", sprintf(base, "0x1"))
	new := program(t, "new.fw", sprintf(base, "0x2"))
	res := equiv.Compare(old, new, equiv.Options{})
	var found bool
	for _, d := range res.Diffs {
		p := d.Witness.Packet()
		if d.Hook == policy.Input && p.Proto == policy.ProtoTCP && p.DstPort == 22 && p.Mark == 0 {
			found = true
			if d.Old.Verdict != "accept" || d.New.Verdict != "drop" {
				t.Errorf("tcp dport 22 with mark 0: %s -> %s, want accept -> drop", d.Old.Verdict, d.New.Verdict)
			}
			if len(d.Old.Effects) != 1 || d.Old.Effects[0] != "mark set 0x1" {
				t.Errorf("old effects %q, want the mark set", d.Old.Effects)
			}
		}
	}
	if !found {
		t.Fatalf("no class holds tcp dport 22 with mark 0:\n%s", render(res))
	}
}

// TestNATOnlyNew: the nat chains see a connection's first packet only, so
// a changed dnat target is a difference for ct state new alone.
func TestNATOnlyNew(t *testing.T) {
	const base = `zone wan { iface eth0 }
zone lan { iface eth1; net 192.168.1.0/24 }
from wan to self tcp dport 80 dnat to %s
policy any -> any drop
`
	res := equiv.Compare(program(t, "old.fw", sprintf(base, "192.168.1.10")), program(t, "new.fw", sprintf(base, "192.168.1.11")), equiv.Options{})
	if len(res.Diffs) != 1 {
		t.Fatalf("want one class, got:\n%s", render(res))
	}
	d := res.Diffs[0]
	if d.Hook != policy.Prerouting || d.Describe() != "tcp dport 80 iif eth0 ct state new" {
		t.Errorf("class %s %s, want prerouting tcp dport 80 iif eth0 ct state new", d.Hook, d.Describe())
	}
	if got := d.Old.Effects; len(got) != 1 || got[0] != "dnat to 192.168.1.10" {
		t.Errorf("old effects %q", got)
	}
	if got := d.New.Effects; len(got) != 1 || got[0] != "dnat to 192.168.1.11" {
		t.Errorf("new effects %q", got)
	}
}

// TestUserChains: a user chain renamed is the same policy; a rule changed
// inside one is a difference that names it; a return sends packets back
// to the caller, a goto's end to the caller's caller.
func TestUserChains(t *testing.T) {
	const base = `table filter {
	chain input policy drop {
		tcp dport 80, 443 jump %[1]s
		tcp dport 80 accept
	}
	chain %[1]s {
		saddr 198.51.100.0/24 return
		saddr 203.0.113.0/24 %[2]s
		accept
	}
	chain output policy accept {
		tcp dport 25 goto out_smtp
		tcp dport 25 drop
	}
	chain out_smtp {
		daddr 198.51.100.25 accept
	}
}
`
	old := program(t, "old.fw", sprintf(base, "in_web", "drop"))
	if res := equiv.Compare(old, program(t, "new.fw", sprintf(base, "web", "drop")), equiv.Options{}); !res.Equivalent() {
		t.Fatalf("renaming a user chain made a difference:\n%s", render(res))
	}
	res := equiv.Compare(old, program(t, "new.fw", sprintf(base, "in_web", "reject")), equiv.Options{})
	for _, d := range res.Diffs {
		if d.Hook != policy.Input || d.V6 || d.Old.Verdict != "drop" || d.New.Verdict != "reject" || !hasLine(d.New.Rules, 8) {
			t.Errorf("unexpected class %s %s: %s -> %s", d.Hook, d.Describe(), d.Old.Verdict, d.New.Verdict)
		}
	}
	if len(res.Diffs) == 0 {
		t.Fatal("a changed verdict in a user chain made no difference")
	}
	// The return: 198.51.100.0/24 to port 80 goes back to input and is
	// accepted there, to 443 falls to the policy; the goto's chain ends
	// with no verdict for other destinations: output's policy accepts,
	// the drop after the goto is never reached.
	q := program(t, "q.fw", sprintf(base, "in_web", "drop"))
	for _, c := range []struct {
		src  string
		want string
	}{
		{`table filter {
	chain input policy drop {
		saddr 198.51.100.0/24 tcp dport 80 accept
		saddr 198.51.100.0/24 tcp dport 443 drop
		saddr 203.0.113.0/24 tcp dport 80, 443 drop
		tcp dport 80, 443 accept
	}
	chain output policy accept {
		tcp dport 25 daddr 198.51.100.25 accept
		tcp dport 25 accept
	}
}
`, ""},
	} {
		res := equiv.Compare(q, program(t, "flat.fw", c.src), equiv.Options{})
		if got := render(res); got != c.want {
			t.Errorf("against the flattened policy:\n%s", got)
		}
	}
}
