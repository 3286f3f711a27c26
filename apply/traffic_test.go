package apply

import (
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// linkIn returns the link named link in namespace ns, read over netlink.
func linkIn(t *testing.T, ns, link string) netlink.Link {
	t.Helper()
	hn, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer hn.Close()
	h, err := netlink.NewHandleAt(hn)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l, err := h.LinkByName(link)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rxPackets returns the received-packet counter of link in namespace ns.
func rxPackets(t *testing.T, ns, link string) uint64 {
	t.Helper()
	l := linkIn(t, ns, link)
	return l.Attrs().Statistics.RxPackets
}

// TestPolicyRouting: two veth uplinks to two namespaces; after apply,
// locally generated traffic the policy marks leaves by uplink B, the rest
// by the main table's default route over uplink A. The uplink used is read
// from the receive counters of the peers.
func TestPolicyRouting(t *testing.T) {
	t.Parallel()
	r, a, b := nsWithLinks(t), testnetns.New(t), testnetns.New(t)
	veth(t, r, "up_a", "10.1.0.1/24", a, "a0", "10.1.0.2/24")
	veth(t, r, "up_b", "10.2.0.1/24", b, "b0", "10.2.0.2/24")
	testnetns.Run(t, r, "ip", "route", "add", "default", "via", "10.1.0.2")
	// Permanent neighbour entries for both gateways: with no address to
	// resolve, a datagram goes through routing, the ruleset and the veth
	// (which has no queue) inside the sending write(2), and the peer's
	// receive counter counts it before write returns. Nothing to wait for.
	staticNeigh(t, r, "up_a", "10.1.0.2", a, "a0")
	staticNeigh(t, r, "up_b", "10.2.0.2", b, "b0")
	h := openHost(t, r)
	w := compileSrc(t, `
zone far { net 198.51.100.0/24 }
route via_b { mark 0x2/0xff; table 20; default via 10.2.0.2 dev up_b }
from self to far udp dport 9999 route via_b
`)
	mustApply(t, h, w, Options{})

	var conns = map[int]net.Conn{}
	testnetns.Do(t, r, func() {
		for _, port := range []int{9998, 9999} {
			c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP("198.51.100.1"), Port: port})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			conns[port] = c
		}
	})
	send := func(port, n int) {
		for range n {
			if _, err := conns[port].Write([]byte("fwc")); err != nil {
				t.Fatal(err)
			}
		}
	}
	const n = 50
	for _, tc := range []struct {
		port     int
		via, not string // namespace and peer link expected / not expected
		viaLink  string
		notLink  string
	}{
		{9999, b, a, "b0", "a0"},
		{9998, a, b, "a0", "b0"},
	} {
		via0, not0 := rxPackets(t, tc.via, tc.viaLink), rxPackets(t, tc.not, tc.notLink)
		send(tc.port, n)
		via, not := rxPackets(t, tc.via, tc.viaLink)-via0, rxPackets(t, tc.not, tc.notLink)-not0
		if via < n || not >= n {
			t.Errorf("udp dport %d: %d packets on %s, %d on %s; want %d on %s", tc.port, via, tc.viaLink, not, tc.notLink, n, tc.viaLink)
		}
	}
}

// staticNeigh adds a permanent neighbour entry in namespace ns for addr on
// link, with the hardware address of peerLink in namespace peer.
func staticNeigh(t *testing.T, ns, link, addr, peer, peerLink string) {
	t.Helper()
	l := linkIn(t, peer, peerLink)
	testnetns.Run(t, ns, "ip", "neigh", "replace", addr, "lladdr", l.Attrs().HardwareAddr.String(), "dev", link, "nud", "permanent")
}

// TestAtomicReplace: while a ping flood runs from a client namespace, 100
// re-applies of rulesets that all drop it let no echo request through: the
// old table is replaced by the new one in one transaction, never removed
// first.
func TestAtomicReplace(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	// Two rulesets each way, both dropping echo requests.
	hand := []*Want{handWant(t, 0), handWant(t, 1)}
	pol := []*Want{
		compileSrc(t, "table filter { chain input { icmp type echo-request drop } }\n"),
		compileSrc(t, "table filter { chain input { tcp dport 7 drop\n icmp type echo-request drop } }\n"),
	}
	pass := compileSrc(t, "table filter { chain input { tcp dport 7 drop } }\n")
	for _, tc := range []struct {
		name  string
		wants func(i int) (*Want, Options)
	}{
		{"hand-built batch", func(i int) (*Want, Options) { return hand[i%2], Options{Build: handBuild(i % 2)} }},
		{"netlink batch", func(i int) (*Want, Options) { return pol[i%2], Options{} }},
		{"nft -f", func(i int) (*Want, Options) { return pol[i%2], Options{Script: true} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, c := nsWithLinks(t), testnetns.New(t)
			veth(t, r, "r0", "10.9.0.1/24", c, "c0", "10.9.0.2/24")
			h := openHost(t, r)

			var sock *icmp.PacketConn
			testnetns.Do(t, c, func() {
				var err error
				if sock, err = icmp.ListenPacket("ip4:icmp", "10.9.0.2"); err != nil {
					t.Fatal(err)
				}
			})
			defer sock.Close()
			// The flood's echo requests carry their own ID, so that a late
			// reply to a probe sent before the ruleset (the machine may be
			// loaded) is never counted as a leak.
			var sent, replies atomic.Int64
			var seq, id atomic.Int64
			// The final barrier's probe has a third ID, so that a late reply to
			// a first probe cannot pass for it.
			probeID, floodID := int64(os.Getpid()&0x7fff), int64(os.Getpid()&0x7fff|0x8000)
			barrierID := probeID ^ 0x4000
			ping := func() {
				m := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: int(id.Load()), Seq: int(seq.Add(1) & 0xffff), Data: []byte("fwc")}}
				b, _ := m.Marshal(nil)
				if _, err := sock.WriteTo(b, &net.IPAddr{IP: net.ParseIP("10.9.0.1")}); err == nil {
					sent.Add(1)
				}
			}
			stop := make(chan struct{})
			// probed receives the ID of each probe reply, without blocking
			// the reader.
			probed := make(chan int64, 16)
			var wg sync.WaitGroup
			wg.Go(func() {
				buf := make([]byte, 1500)
				for {
					_ = sock.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
					n, _, err := sock.ReadFrom(buf)
					if err == nil {
						if m, err := icmp.ParseMessage(1, buf[:n]); err == nil && m.Type == ipv4.ICMPTypeEchoReply {
							if e, ok := m.Body.(*icmp.Echo); ok && int64(e.ID) == floodID {
								replies.Add(1)
							} else if ok {
								select {
								case probed <- int64(e.ID):
								default:
								}
							}
						}
					}
					select {
					case <-stop:
						return
					default:
					}
				}
			})

			// Without a ruleset the pings are answered: the test can see a
			// leak. Wait for a reply (go test's -timeout bounds the wait),
			// pinging again every 50 ms in case the first is lost.
			awaitProbe := func(want int64) {
				id.Store(want)
				tick := time.NewTicker(50 * time.Millisecond)
				defer tick.Stop()
				for ping(); ; {
					select {
					case got := <-probed:
						if got == want {
							return
						}
					case <-tick.C:
						ping()
					}
				}
			}
			awaitProbe(probeID)
			w0, o0 := tc.wants(0)
			mustApply(t, h, w0, o0)
			id.Store(floodID)
			sent.Store(0)

			stopFlood := make(chan struct{})
			var flood sync.WaitGroup
			flood.Go(func() {
				for {
					select {
					case <-stopFlood:
						return
					default:
						ping()
					}
				}
			})
			start := time.Now()
			const n = 100
			for i := 1; i <= n; i++ {
				// Each re-apply starts after the flood sent 10 more echo
				// requests, so that the flood overlaps every one of them
				// however the scheduler runs the two.
				for last := sent.Load(); sent.Load() < last+10; {
					runtime.Gosched()
				}
				w, o := tc.wants(i)
				mustApply(t, h, w, o)
			}
			took := time.Since(start)
			close(stopFlood)
			flood.Wait()
			// A barrier instead of a pause: once a ruleset that lets echo
			// requests through is in, a probe sent after the last flood
			// request comes back after it, so a leaked flood reply has
			// been counted by the time the probe's reply is.
			mustApply(t, h, pass, Options{})
			awaitProbe(barrierID)
			close(stop)
			wg.Wait()
			t.Logf("%d re-applies in %v (%v each); %d echo requests sent, %d answered", n, took.Round(time.Millisecond), (took / n).Round(time.Microsecond), sent.Load(), replies.Load())
			if replies.Load() != 0 {
				t.Errorf("%d echo requests got through during the re-applies", replies.Load())
			}
			if sent.Load() < 1000 {
				t.Errorf("only %d echo requests sent: not a flood", sent.Load())
			}
		})
	}
}
