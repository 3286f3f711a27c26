package sim_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sim"
)

func lower(t *testing.T, src string) *ir.Ruleset {
	t.Helper()
	f, ds := lang.ParseFile("p.fw", []byte(src))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	prog, cds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	if cds.HasErrors() {
		t.Fatal(cds)
	}
	rs, lds := ir.Lower(prog)
	if lds.HasErrors() {
		t.Fatal(lds)
	}
	return rs
}

// summary renders the steps a trace would print, one word each.
func summary(w sim.Way) string {
	var b []string
	for _, st := range w.Steps {
		switch st.Kind {
		case sim.EnterChain:
			b = append(b, "enter "+st.Table+" "+st.Chain)
		case sim.SkipChain:
			b = append(b, "skip "+st.Table+" "+st.Chain)
		case sim.MatchRule:
			b = append(b, "match "+st.Rule.Comment(80))
		case sim.JumpTo:
			b = append(b, "jump "+st.Chain)
		case sim.ReturnFrom:
			b = append(b, "back "+st.Chain)
		case sim.SetMark:
			b = append(b, "mark")
		case sim.Untrack:
			b = append(b, "notrack")
		case sim.NAT:
			b = append(b, "nat")
		case sim.Route:
			b = append(b, "route "+st.Path.String()+" "+st.Packet.OutIface)
		case sim.ChainPolicy:
			b = append(b, "policy "+st.Verdict.String())
		case sim.Final:
			b = append(b, st.Verdict.String())
		}
	}
	return strings.Join(b, "; ")
}

// TestSteps: the walk is recorded as data, in kernel order: tables by
// priority on each hook, hooks in path order, the rules that matched with
// their positions, jumps and returns, marks, and the verdict; nat chains
// are skipped for a packet that is not a connection's first.
func TestSteps(t *testing.T) {
	const src = `table mangle { chain prerouting { tcp dport 22 mark set 0x1 } }
table nat { chain prerouting { tcp dport 22 dnat to 10.0.0.9 } }
table filter {
	chain input policy drop { jump admin
		accept }
	chain admin { mark 0x1 saddr != 10.0.0.0/8 drop }
}
`
	rs := lower(t, src)
	p := sem.Packet{Src: netip.MustParseAddr("10.1.2.3"), Dst: netip.MustParseAddr("10.0.0.1"), Proto: policy.ProtoTCP,
		SrcPort: 40000, DstPort: 22, InIface: "eth0", CtState: policy.CtEstablished, TCPFlags: policy.ACK}
	for _, tc := range []struct {
		name  string
		src   string
		state uint32
		want  string
	}{
		{"established, admin", "10.1.2.3", policy.CtEstablished,
			"enter mangle prerouting; match p.fw:1; mark; policy accept; enter nat prerouting; skip nat prerouting; route to self ; " +
				"enter filter input; match p.fw:4; jump admin; back input; match p.fw:5; accept"},
		{"established, outsider", "192.0.2.1", policy.CtEstablished,
			"enter mangle prerouting; match p.fw:1; mark; policy accept; enter nat prerouting; skip nat prerouting; route to self ; " +
				"enter filter input; match p.fw:4; jump admin; match p.fw:6; drop"},
		// The dnat sends the packet to another host: it is forwarded,
		// and this policy has no forward chain.
		{"new: nat decides", "10.1.2.3", policy.CtNew,
			"enter mangle prerouting; match p.fw:1; mark; policy accept; enter nat prerouting; match p.fw:2; nat; " +
				"route forwarded ; accept"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := p
			q.Src, q.CtState = netip.MustParseAddr(tc.src), tc.state
			res := sim.Run(rs, sem.ToSelf, q, sim.Options{})
			if len(res.Ways) != 1 {
				t.Fatalf("%d ways", len(res.Ways))
			}
			if got := summary(res.Ways[0]); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestFork: a condition no concrete packet decides (a rate limit) forks
// the walk, one way per answer, and the fate is undecided.
func TestFork(t *testing.T) {
	rs := lower(t, "table filter { chain input policy drop { tcp dport 22 limit 5/second accept } }\n")
	p := sem.Packet{Src: netip.MustParseAddr("10.1.2.3"), Dst: netip.MustParseAddr("10.0.0.1"), Proto: policy.ProtoTCP,
		SrcPort: 40000, DstPort: 22, CtState: policy.CtNew}
	res := sim.Run(rs, sem.ToSelf, p, sim.Options{})
	if fate, why := res.Fate(); fate != sim.Undecided || !strings.Contains(why, "policy drop") || len(res.Ways) != 2 {
		t.Errorf("got %v (%s), %d ways", fate, why, len(res.Ways))
	}
	for _, st := range res.Ways[0].Steps {
		if st.Kind == sim.MatchRule && st.Match != sem.Unknown {
			t.Errorf("first way's match: %v", st.Match)
		}
	}
}
