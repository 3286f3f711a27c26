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
