package golden_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/assert"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// assertNet is the topology an assert policy runs in: the firewall's
// interfaces and addresses, and one peer behind each interface with its
// first address. The packets to send add their addresses to the peers
// and their ports to the listeners.
type assertNet struct {
	policy  string
	fwAddrs map[string][]string
	peers   []peer
}

var assertNets = []assertNet{
	{
		policy:  "internal/golden/testdata/asserts/input.fw",
		fwAddrs: map[string][]string{"eth0": {"198.51.100.1/24"}},
		peers: []peer{{name: "net", iface: "eth0", addrs: []string{"198.51.100.10/24"},
			routes: []string{"default via 198.51.100.1"}}},
	},
	{
		policy:  "internal/golden/testdata/asserts/forward.fw",
		fwAddrs: map[string][]string{"eth0": {"198.51.100.254/24"}, "eth1": {"192.168.1.254/24"}},
		peers: []peer{
			{name: "wan", iface: "eth0", addrs: []string{"198.51.100.1/24"}, routes: []string{"default via 198.51.100.254"}},
			{name: "lan", iface: "eth1", addrs: []string{"192.168.1.1/24"}, routes: []string{"default via 192.168.1.254"}},
		},
	},
}

// witness is a packet the assert pass named: the counterexample of an
// assert that fails (it must get the other verdict), or a packet of one
// that holds (it must get the assert's).
type witness struct {
	assert string // the assert's source line
	words  string
	p      sem.Packet
	path   sem.Path
	accept bool // the verdict the packet must get
	// masq: the proof says a masquerade or snat translates it, so the
	// server sees the firewall's address.
	masq bool
	nat  bool // an assert of translation: the verdict is the proof's
}

// TestAssertWitnesses checks the assert pass against the kernel: the
// policy is loaded with nft in a namespace, and every witness packet of a
// failing assert, as fwc check prints it (parsed back from the message),
// is sent as a real connection from the peer behind its input interface:
// one said to be dropped gets no answer, one said to be accepted reaches
// the listener. A packet of each assert that holds is sent too and gets
// the assert's verdict (for an assert of masquerade, the source address
// the server sees says whether it was translated). The probe's source port is the kernel's choice,
// not the witness's: the test fails if a policy here matches source
// ports, which would make that matter.
func TestAssertWitnesses(t *testing.T) {
	requireTools(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	moduleRoot(t)
	for _, an := range assertNets {
		t.Run(filepath.Base(an.policy), func(t *testing.T) {
			ws, text := assertWitnesses(t, an.policy)
			var fails int
			pc := packetCase{example: an.policy, fwAddrs: an.fwAddrs, peers: slices.Clone(an.peers)}
			peerAt := map[string]int{}
			for i, p := range pc.peers {
				peerAt[p.iface] = i
			}
			var es []expect
			for _, w := range ws {
				if w.words != "" {
					fails++
				}
				from, ok := peerAt[w.p.InIface]
				if !ok {
					t.Fatalf("%s: no peer behind %q", w.assert, w.p.InIface)
				}
				addTo(&pc.peers[from], w.p.Src.String())
				port := fmt.Sprintf("tcp:%d", w.p.DstPort)
				answer := "fw"
				if w.path == sem.Forwarded {
					to, ok := peerAt[w.p.OutIface]
					if !ok {
						t.Fatalf("%s: no peer behind %q", w.assert, w.p.OutIface)
					}
					addTo(&pc.peers[to], w.p.Dst.String())
					if !slices.Contains(pc.peers[to].serve, port) {
						pc.peers[to].serve = append(pc.peers[to].serve, port)
					}
					answer = pc.peers[to].name
				} else if !slices.Contains(pc.fwServe, port) {
					pc.fwServe = append(pc.fwServe, port)
				}
				want := "timeout"
				if w.accept {
					seen := w.p.Src.String()
					if w.masq {
						seen = strings.Split(an.fwAddrs[w.p.OutIface][0], "/")[0]
					}
					want = "open " + answer + " " + seen
				}
				es = append(es, expect{from: pc.peers[from].name,
					probe: probe{"tcp", w.p.Src.String(), w.p.Dst.String(), int(w.p.DstPort)},
					want:  want, why: w.assert + ": " + w.words})
			}
			if fails == 0 || fails == len(ws) {
				t.Fatalf("%s: %d of %d asserts fail; the test wants both kinds", an.policy, fails, len(ws))
			}
			n := newNet(t, exe, pc)
			n.load(t, text, "nft", "-f", "-")
			got := n.probe(t, es, false, 0)
			n.retrySlow(t, es, got)
			for i, e := range es {
				if got[i] != e.want {
					t.Errorf("%s %s: got %q, want %q (%s)", e.from, e.probe, got[i], e.want, e.why)
				}
			}
		})
	}
}

// addTo gives peer p the address a (as a /32 the firewall routes to it)
// unless it has it.
func addTo(p *peer, a string) {
	for _, x := range p.addrs {
		if strings.Split(x, "/")[0] == a {
			return
		}
	}
	p.addrs = append(p.addrs, a+"/32")
}

// assertWitnesses checks the policy at path with the assert pass and
// returns the witness of each failing assert (from the rendered message),
// a packet of each holding one, and the policy's nft text (lowered
// without the lint passes: a failing assert is an error that would stop
// translate).
func assertWitnesses(t *testing.T, path string) ([]witness, []byte) {
	t.Helper()
	l, ds := lang.Load([]string{path})
	if ds.HasErrors() || len(l.Units) != 1 {
		t.Fatalf("%s: %v", path, ds)
	}
	files := l.Units[0].Files
	prog, ds := check.Check(files, check.Options{Passes: []*analysis.Analyzer{assert.Analyzer}})
	failed := map[int]string{} // assert line -> witness words
	for _, d := range ds {
		if d.Code != assert.CodeFails {
			t.Fatalf("%s: %s", path, d)
		}
		_, words, ok := strings.Cut(d.Summary, "assert does not hold: ")
		if !ok {
			t.Fatalf("%s: %s", path, d.Summary)
		}
		// "WORDS is dropped by ...": the packet is what comes before.
		words, _, _ = strings.Cut(words, " is ")
		failed[d.Subject.Start.Line] = words
	}
	for _, tb := range prog.Tables {
		for _, c := range tb.Chains {
			for _, r := range c.Rules {
				for _, cd := range r.Conds {
					if pc, ok := cd.(*policy.PortCond); ok && pc.Dir == policy.Src {
						t.Fatalf("%s: a rule matches the source port, which the probes do not choose", path)
					}
				}
			}
		}
	}
	net := space.NetFromProgram(prog)
	var ws []witness
	for _, a := range prog.Asserts {
		line := a.Decl.Range.Start.Line
		src := path + ":" + strconv.Itoa(line)
		claims, _ := space.AssertClaims(a)
		c := claims[0] // IPv4, the packets themselves
		pr := space.Prove(net, c)
		words, fails := failed[line]
		switch {
		case fails == pr.Holds:
			t.Fatalf("%s: the pass and the proof disagree", src)
		case fails:
			p, path := parseWords(t, words)
			ws = append(ws, witness{assert: src, words: words, p: p, path: path, accept: !c.Accept, nat: c.NAT != nil})
		default:
			p := space.Witness(c.Space, &c.Region[0])
			ws = append(ws, witness{assert: src, p: p, path: c.Path, accept: c.Accept, nat: c.NAT != nil})
		}
	}
	prog, ds = check.Check(files, check.Options{NoLint: true})
	if ds.HasErrors() {
		t.Fatalf("%s: %v", path, ds)
	}
	rs, lds := ir.Lower(prog)
	text, nds := nft.Text(rs)
	if lds.HasErrors() || nds.HasErrors() {
		t.Fatalf("%s: %v %v", path, lds, nds)
	}
	for i := range ws {
		w := &ws[i]
		res := space.Flow(net, space.NewSpace(false), w.path, space.Region{w.p.Point().Cube()})
		accepted := false
		for _, o := range res.Outcomes {
			accepted = accepted || o.Accept
			w.masq = w.masq || o.Accept && (o.Translated(policy.Masquerade) || o.Translated(policy.SNAT))
		}
		if w.nat {
			// An assert of translation judges the accepted packets:
			// its witness is accepted untranslated, a packet of it
			// that holds accepted and translated (or dropped).
			w.accept = accepted
		}
	}
	return ws, text
}

// parseWords reads a witness as the assert pass writes it (space.Words).
func parseWords(t *testing.T, words string) (sem.Packet, sem.Path) {
	t.Helper()
	var p sem.Packet
	var path sem.Path
	rest := words
	for _, x := range []sem.Path{sem.ToSelf, sem.FromSelf, sem.Forwarded} {
		if s, ok := strings.CutPrefix(rest, x.String()+" "); ok {
			path, rest = x, s
		}
	}
	f := strings.Fields(rest)
	if len(f) == 0 || f[0] != "tcp" {
		t.Fatalf("witness %q: want a tcp packet", words)
	}
	// A connection's first packet, as a probe's connect sends it (the
	// words leave out the usual flags).
	p.Proto, p.TCPFlags, p.CtState = policy.ProtoTCP, policy.SYN, policy.CtNew
	for i := 1; i+1 < len(f); i += 2 {
		k, v := f[i], f[i+1]
		var err error
		switch k {
		case "saddr":
			p.Src, err = netip.ParseAddr(v)
		case "daddr":
			p.Dst, err = netip.ParseAddr(v)
		case "sport", "dport":
			var n uint64
			n, err = strconv.ParseUint(v, 10, 16)
			if k == "dport" {
				p.DstPort = uint16(n)
			} else {
				p.SrcPort = uint16(n)
			}
		case "iif":
			p.InIface = v
		case "oif":
			p.OutIface = v
		case "ct":
			if v != "state" || i+2 >= len(f) || f[i+2] != "new" {
				t.Fatalf("witness %q: want ct state new (a connection's first packet)", words)
			}
			i++
		default:
			t.Fatalf("witness %q: unexpected %q", words, k)
		}
		if err != nil {
			t.Fatalf("witness %q: %v", words, err)
		}
	}
	return p, path
}
