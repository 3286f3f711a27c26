package equiv_test

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/equiv"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// TestWitnessesInKernel: after a random meaning-changing edit (a verdict
// flipped, a port list changed), every class diff reports has a witness
// that, sent as a real packet through each policy loaded with nft into a
// namespace of its own, gets the verdict diff claims on each side, and the
// two differ. The policies act on the output hook, where the kernel's
// verdict reaches the sender at once: a packet the output chain drops
// fails sendto with EPERM, an accepted one is sent (out of a veth).
// No timeout stands in for a verdict.
func TestWitnessesInKernel(t *testing.T) {
	testnetns.Require(t)
	nsOld, nsNew := hostWithVeth(t), hostWithVeth(t)
	checked := 0
	for seed := uint64(0); seed < 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 9))
		p := genPolicy(r, 3+r.IntN(8), false)
		q := p.clone()
		i := r.IntN(len(q.rules))
		if r.IntN(3) == 0 {
			lo := 1000 + 10*r.IntN(6)
			q.rules[i].ports = [][2]int{{lo, lo + 10*r.IntN(3)}}
		} else {
			q.rules[i].verdict = map[string]string{"accept": "drop", "drop": "accept"}[q.rules[i].verdict]
		}
		srcP, _ := p.render()
		srcQ, _ := q.render()
		old, new := program(t, "old.fw", srcP), program(t, "new.fw", srcQ)
		res := equiv.Compare(old, new, equiv.Options{})
		if res.Equivalent() {
			continue
		}
		load(t, nsOld, old)
		load(t, nsNew, new)
		for _, d := range res.Diffs {
			if d.Hook != policy.Output {
				t.Fatalf("seed %d: a difference on %s, where the policies have no rule:\n%s", seed, d.Hook, render(res))
			}
			if d.Old.Verdict == d.New.Verdict {
				continue // only effects differ; nothing a sender sees
			}
			pkt := d.Witness.Packet()
			gotOld, gotNew := send(t, nsOld, pkt), send(t, nsNew, pkt)
			if gotOld != kind(d.Old.Verdict) || gotNew != kind(d.New.Verdict) {
				t.Fatalf("seed %d: witness %s: diff says %s -> %s, the kernel %s -> %s\n--- old\n%s--- new\n%s",
					seed, equiv.Words(d.Witness, d.Hook), d.Old.Verdict, d.New.Verdict, gotOld, gotNew, srcP, srcQ)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d witnesses were sent", checked)
	}
	t.Logf("%d witnesses sent, each with the verdicts diff said", checked)
}

func kind(verdict string) string {
	if verdict == "accept" {
		return "accept"
	}
	return "drop"
}

// hostWithVeth makes a namespace whose every route leads out of dum0 (one
// end of a veth pair whose other end is in the same namespace).
func hostWithVeth(t *testing.T) string {
	t.Helper()
	ns := testnetns.New(t)
	testnetns.Run(t, ns, "ip", "link", "add", "dum0", "type", "veth", "peer", "name", "dum1")
	testnetns.Run(t, ns, "ip", "link", "set", "dum0", "up")
	testnetns.Run(t, ns, "ip", "link", "set", "dum1", "up")
	testnetns.Run(t, ns, "ip", "route", "add", "default", "dev", "dum0")
	testnetns.Run(t, ns, "ip", "-6", "route", "add", "default", "dev", "dum0")
	return ns
}

// load replaces the ruleset of ns by p's nft translation (it deletes fwc's
// table before it makes it anew).
func load(t *testing.T, ns string, p *policy.Program) {
	t.Helper()
	rs, ds := ir.Lower(p)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	text, ds := nft.Text(rs)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	file := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	testnetns.LoadNft(t, ns, file)
}

// send sends the witness from a socket of namespace ns bound to its
// source address and port (a transparent socket may bind any address) and
// reports "accept" when the kernel sent it, "drop" when the output hook
// refused it (EPERM).
func send(t *testing.T, ns string, p sem.Packet) string {
	t.Helper()
	if p.Proto != policy.ProtoUDP {
		t.Fatalf("witness of protocol %d; the policies only speak of udp", p.Proto)
	}
	var got string
	testnetns.Do(t, ns, func() {
		fam, lvl, opt := unix.AF_INET, unix.SOL_IP, unix.IP_TRANSPARENT
		if p.Src.Is6() {
			fam, lvl, opt = unix.AF_INET6, unix.SOL_IPV6, unix.IPV6_TRANSPARENT
		}
		fd, err := unix.Socket(fam, unix.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := unix.SetsockoptInt(fd, lvl, opt, 1); err != nil {
			t.Fatal(err)
		}
		if err := unix.Bind(fd, sockaddr(p.Src, p.SrcPort)); err != nil {
			t.Fatalf("bind %s:%d: %v", p.Src, p.SrcPort, err)
		}
		err = unix.Sendto(fd, []byte("fwc diff witness"), 0, sockaddr(p.Dst, p.DstPort))
		switch {
		case err == nil:
			got = "accept"
		case errors.Is(err, unix.EPERM):
			got = "drop"
		default:
			t.Fatalf("sendto %s:%d: %v", p.Dst, p.DstPort, err)
		}
	})
	return got
}

func sockaddr(a netip.Addr, port uint16) unix.Sockaddr {
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: int(port)}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: int(port)}
}
