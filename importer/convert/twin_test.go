package convert

// The twin test: real packets through the original ruleset in one network
// namespace and through fwc's translation of its import in another, the
// same probes in the same order, and the verdicts compared probe by probe.
//
// Each side is a firewall namespace with interfaces eth0, eth1 and eth3
// (veth pairs to a peer namespace, with static neighbour entries so that no
// packet waits for ARP or ND). The probes are raw IPv4 and IPv6 packets
// (tcp with various flags, udp, icmp) sent from the peer into the firewall
// (input, and forward to 10.77.0.0/24 and fd77::/64 through eth1), and from
// the firewall out (output). Each carries its number in the IPv4 id or the
// IPv6 flow label. An observer table records, in dynamic sets, which
// numbers arrive (prerouting, first of all chains) and which pass the
// input and forward hooks (after every other chain). Output probes are
// decided in the sender's sendmsg: EPERM means dropped.
//
// No timeout decides anything: the sender is pinned to one CPU, so the
// packets go through that CPU's backlog in order, and once the last
// packet (the barrier) has arrived every probe before it has gone through
// all the hooks. The test waits for that event.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/internal/testnetns"
)

type probe struct {
	v6       bool
	dir      string // in, fwd, out
	peerIf   string // q0, q1, q3 (in, fwd); eth0 side for out
	src, dst netip.Addr
	proto    int // 6 tcp, 17 udp, 1 icmp, 58 icmpv6
	sport    uint16
	dport    uint16
	flags    byte // tcp
	ttl      byte
	icmpType byte
	payload  int
	bcast    bool
	id       uint32
}

func (p probe) String() string {
	s := fmt.Sprintf("%s #%d %s %s->%s", p.dir, p.id, p.peerIf, p.src, p.dst)
	switch p.proto {
	case 6:
		s += fmt.Sprintf(" tcp %d->%d flags %#x", p.sport, p.dport, p.flags)
	case 17:
		s += fmt.Sprintf(" udp %d->%d", p.sport, p.dport)
	default:
		s += fmt.Sprintf(" icmp type %d", p.icmpType)
	}
	if p.ttl != 64 {
		s += fmt.Sprintf(" ttl %d", p.ttl)
	}
	if p.payload > 0 {
		s += fmt.Sprintf(" +%d bytes", p.payload)
	}
	return s
}

const barrierID4, barrierID6 = 65535, 0xfffff

// probeECN marks the probes (ECT(1)), so that the observer counts them and
// not the replies and errors the kernels send, whose IP ids and flow labels
// could be any number.
const probeECN = 0x01

var (
	fwAddr4   = map[string]netip.Addr{"q0": netip.MustParseAddr("10.99.0.1"), "q1": netip.MustParseAddr("10.99.1.1"), "q3": netip.MustParseAddr("10.99.3.1")}
	peerAddr4 = map[string]netip.Addr{"q0": netip.MustParseAddr("10.99.0.2"), "q1": netip.MustParseAddr("10.99.1.2"), "q3": netip.MustParseAddr("10.99.3.2")}
	fwAddr6   = map[string]netip.Addr{"q0": netip.MustParseAddr("fd99::1"), "q1": netip.MustParseAddr("fd99:1::1"), "q3": netip.MustParseAddr("fd99:3::1")}
	peerAddr6 = map[string]netip.Addr{"q0": netip.MustParseAddr("fd99::2"), "q1": netip.MustParseAddr("fd99:1::2"), "q3": netip.MustParseAddr("fd99:3::2")}
)

var (
	portWordRE = regexp.MustCompile(`\b(?:dport|sport|to)\s+(?:!=\s*)?([0-9][0-9, -]*)`)
	elemsRE    = regexp.MustCompile(`elements \{([^}]*)\}`)
	addrRE     = regexp.MustCompile(`\b(\d+\.\d+\.\d+\.\d+|[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7})(?:/\d+)?`)
)

// harvest collects the ports and addresses a policy names, with the
// numbers around each range's ends, for the probes.
func harvest(texts ...string) (ports []uint16, addrs []netip.Addr) {
	pset := map[uint16]bool{22: true, 53: true, 80: true, 443: true, 12345: true}
	aset := map[netip.Addr]bool{}
	addPort := func(s string) {
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			lo, hi, isRange := strings.Cut(part, "-")
			for _, x := range []string{lo, hi} {
				if v, err := strconv.Atoi(strings.TrimSpace(x)); err == nil && v > 0 && v < 65535 {
					pset[uint16(v)] = true
					if isRange {
						pset[uint16(v-1)], pset[uint16(v+1)] = true, true
					}
				}
			}
		}
	}
	for _, text := range texts {
		for _, m := range portWordRE.FindAllStringSubmatch(text, -1) {
			addPort(m[1])
		}
		for _, m := range elemsRE.FindAllStringSubmatch(text, -1) {
			if !strings.ContainsAny(m[1], ".:") {
				addPort(m[1])
			}
		}
		for _, m := range addrRE.FindAllStringSubmatch(text, -1) {
			a, err := netip.ParseAddr(m[1])
			if err != nil || a.IsLoopback() || a.IsUnspecified() || a.IsMulticast() {
				continue
			}
			aset[a] = true
			if p, err := netip.ParsePrefix(m[0]); err == nil && p.Bits() < a.BitLen() {
				aset[p.Masked().Addr().Next()] = true
			}
		}
	}
	for p := range pset {
		ports = append(ports, p)
	}
	for a := range aset {
		addrs = append(addrs, a)
	}
	slices.Sort(ports)
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	// A machine-made ruleset names thousands: every k-th, in order.
	const maxAddrs, maxPorts = 64, 256
	if k := len(addrs)/maxAddrs + 1; k > 1 {
		var some []netip.Addr
		for i := 0; i < len(addrs); i += k {
			some = append(some, addrs[i])
		}
		addrs = some
	}
	if k := len(ports)/maxPorts + 1; k > 1 {
		var some []uint16
		for i := 0; i < len(ports); i += k {
			some = append(some, ports[i])
		}
		ports = some
	}
	return ports, addrs
}

// probes makes the probe set for a policy: every harvested port by tcp
// and udp from the peer, every harvested address as a source, each
// interface, tcp flag combinations, icmp, ttl and length variations,
// forwarded and outgoing packets.
func probes(ports []uint16, addrs []netip.Addr) []probe {
	var ps []probe
	add := func(p probe) {
		if p.ttl == 0 {
			p.ttl = 64
		}
		if p.sport == 0 {
			p.sport = uint16(20000 + len(ps))
		}
		p.id = uint32(len(ps) + 1)
		ps = append(ps, p)
	}
	for _, v6 := range []bool{false, true} {
		fw, peer := fwAddr4, peerAddr4
		if v6 {
			fw, peer = fwAddr6, peerAddr6
		}
		in := func(q string) probe { return probe{v6: v6, dir: "in", peerIf: q, src: peer[q], dst: fw[q]} }
		for _, port := range ports {
			p := in("q0")
			p.proto, p.dport, p.flags = 6, port, 0x02
			add(p)
			p.proto = 17
			add(p)
		}
		for _, a := range addrs {
			if a.Is6() != v6 {
				continue
			}
			for _, port := range []uint16{22, 53, 80} {
				p := in("q0")
				p.src, p.proto, p.dport, p.flags = a, 6, port, 0x02
				add(p)
				p.proto = 17
				add(p)
			}
			// As a destination: forwarded through eth1, unless it is an
			// address of the test's own links (where it would wait for a
			// neighbour).
			if netip.MustParsePrefix("10.99.0.0/16").Contains(a) || netip.MustParsePrefix("fd99::/16").Contains(a) || a.IsLinkLocalUnicast() {
				continue
			}
			p := in("q0")
			p.dir, p.dst, p.proto, p.dport, p.flags = "fwd", a, 6, 80, 0x02
			add(p)
		}
		for _, q := range []string{"q1", "q3"} {
			for _, port := range []uint16{22, 53, 8100} {
				p := in(q)
				p.proto, p.dport, p.flags = 6, port, 0x02
				add(p)
				p.proto = 17
				add(p)
			}
		}
		for _, fl := range []byte{0x10, 0x01 | 0x08 | 0x20, 0x02 | 0x10, 0x04, 0x00, 0x02 | 0x01} {
			for _, port := range []uint16{22, 7100, 12345} {
				p := in("q0")
				p.proto, p.dport, p.flags = 6, port, fl
				add(p)
			}
		}
		icmp := 1
		types := []byte{8, 3, 13}
		if v6 {
			icmp, types = 58, []byte{128, 1, 135}
		}
		for _, ty := range types {
			p := in("q0")
			p.proto, p.icmpType = icmp, ty
			add(p)
		}
		for _, ttl := range []byte{1, 255} {
			p := in("q0")
			p.proto, p.dport, p.ttl = 17, 7500, ttl
			add(p)
		}
		for _, n := range []int{0, 200} {
			p := in("q0")
			p.proto, p.dport, p.payload = 17, 7600, n
			add(p)
		}
		fwd := netip.MustParseAddr("10.77.0.9")
		if v6 {
			fwd = netip.MustParseAddr("fd77::9")
		}
		for _, port := range []uint16{22, 80, 443, 8080} {
			p := in("q0")
			p.dir, p.dst, p.proto, p.dport, p.flags = "fwd", fwd, 6, port, 0x02
			add(p)
		}
		for _, port := range []uint16{22, 53, 80, 12345} {
			p := probe{v6: v6, dir: "out", peerIf: "q0", src: fw["q0"], dst: peer["q0"], proto: 17, dport: port}
			add(p)
			p.proto, p.flags = 6, 0x02
			add(p)
		}
	}
	p := probe{dir: "in", peerIf: "q0", src: peerAddr4["q0"], dst: netip.MustParseAddr("10.99.0.255"), proto: 17, dport: 9999, bcast: true}
	add(p)
	return ps
}

func csum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// packet builds the probe's IP packet, checksums included.
func (p probe) packet() []byte {
	var l4 []byte
	switch p.proto {
	case 6:
		l4 = make([]byte, 20+p.payload)
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint32(l4[4:], 1000+p.id)
		if p.flags&0x10 != 0 {
			binary.BigEndian.PutUint32(l4[8:], 1)
		}
		l4[12] = 5 << 4
		l4[13] = p.flags
		binary.BigEndian.PutUint16(l4[14:], 65535)
	case 17:
		l4 = make([]byte, 8+p.payload)
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
	default:
		l4 = make([]byte, 8+p.payload)
		l4[0] = p.icmpType
		binary.BigEndian.PutUint16(l4[4:], uint16(p.id))
	}
	src, dst := p.src.AsSlice(), p.dst.AsSlice()
	proto := byte(p.proto)
	// The pseudo-header sum (icmp over IPv4 has none).
	var ph uint32
	if p.proto != 1 {
		for _, b := range [][]byte{src, dst} {
			for i := 0; i < len(b); i += 2 {
				ph += uint32(binary.BigEndian.Uint16(b[i:]))
			}
		}
		ph += uint32(proto) + uint32(len(l4))
	}
	off := map[int]int{6: 16, 17: 6, 1: 2, 58: 2}[p.proto]
	binary.BigEndian.PutUint16(l4[off:], csum(l4, ph))
	if !p.v6 {
		h := make([]byte, 20)
		h[0] = 0x45
		h[1] = probeECN
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
		binary.BigEndian.PutUint16(h[4:], uint16(p.id))
		h[6] = 0x40 // DF
		h[8], h[9] = p.ttl, proto
		copy(h[12:], src)
		copy(h[16:], dst)
		return append(h, l4...)
	}
	h := make([]byte, 40)
	binary.BigEndian.PutUint32(h[0:], 6<<28|probeECN<<20|p.id&0xfffff)
	binary.BigEndian.PutUint16(h[4:], uint16(len(l4)))
	h[6], h[7] = proto, p.ttl
	copy(h[8:], src)
	copy(h[24:], dst)
	return append(h, l4...)
}

// send sends a probe on a raw socket bound to ifname; the error is what
// sendmsg says (EPERM: an output hook dropped it).
func (p probe) send(fd4, fd6 int) error {
	pkt := p.packet()
	if p.v6 {
		sa := &unix.SockaddrInet6{}
		sa.Addr = p.dst.As16()
		return unix.Sendto(fd6, pkt, 0, sa)
	}
	sa := &unix.SockaddrInet4{Addr: p.dst.As4()}
	return unix.Sendto(fd4, pkt, 0, sa)
}

func rawSockets(t *testing.T, ifname string) (int, int) {
	t.Helper()
	fd4, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		t.Fatal(err)
	}
	fd6, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range []int{fd4, fd6} {
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.SetsockoptInt(fd4, unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
		t.Fatal(err)
	}
	return fd4, fd6
}

type twinSide struct{ fw, peer string }

func sh(t *testing.T, ns string, args ...string) {
	t.Helper()
	testnetns.Run(t, ns, args...)
}

// newTwinSide makes a firewall namespace and its peer, wired and addressed.
func newTwinSide(t *testing.T) twinSide {
	s := twinSide{fw: testnetns.New(t), peer: testnetns.New(t)}
	for i, q := range []string{"q0", "q1", "q3"} {
		eth := "eth" + q[1:]
		fwMAC, peerMAC := fmt.Sprintf("02:00:00:00:00:%02x", i+1), fmt.Sprintf("02:00:00:00:01:%02x", i+1)
		out, err := exec.Command("ip", "link", "add", eth, "address", fwMAC, "netns", s.fw, "type", "veth", "peer", "name", q, "address", peerMAC, "netns", s.peer).CombinedOutput()
		if err != nil {
			t.Fatalf("ip link add: %v: %s", err, out)
		}
		sh(t, s.fw, "ip", "addr", "add", fwAddr4[q].String()+"/24", "dev", eth)
		sh(t, s.fw, "ip", "addr", "add", fwAddr6[q].String()+"/64", "dev", eth, "nodad")
		sh(t, s.peer, "ip", "addr", "add", peerAddr4[q].String()+"/24", "dev", q)
		sh(t, s.peer, "ip", "addr", "add", peerAddr6[q].String()+"/64", "dev", q, "nodad")
		sh(t, s.fw, "ip", "link", "set", eth, "up")
		sh(t, s.peer, "ip", "link", "set", q, "up")
		sh(t, s.peer, "ip", "neigh", "replace", fwAddr4[q].String(), "lladdr", fwMAC, "dev", q, "nud", "permanent")
		sh(t, s.peer, "ip", "neigh", "replace", fwAddr6[q].String(), "lladdr", fwMAC, "dev", q, "nud", "permanent")
		sh(t, s.fw, "ip", "neigh", "replace", peerAddr4[q].String(), "lladdr", peerMAC, "dev", eth, "nud", "permanent")
		sh(t, s.fw, "ip", "neigh", "replace", peerAddr6[q].String(), "lladdr", peerMAC, "dev", eth, "nud", "permanent")
	}
	// An interface no probe crosses, for rules that name it by index.
	sh(t, s.fw, "ip", "link", "add", "eth2", "type", "veth", "peer", "name", "x2")
	sh(t, s.fw, "ip", "link", "set", "lo", "up")
	sh(t, s.peer, "ip", "link", "set", "lo", "up")
	sh(t, s.fw, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0",
		"net.ipv4.conf.eth1.rp_filter=0", "net.ipv4.conf.eth3.rp_filter=0")
	sh(t, s.fw, "ip", "route", "add", "10.77.0.0/24", "via", peerAddr4["q1"].String(), "dev", "eth1")
	sh(t, s.fw, "ip", "-6", "route", "add", "fd77::/64", "via", peerAddr6["q1"].String(), "dev", "eth1")
	// Forwarded probes to any address leave through eth1.
	sh(t, s.fw, "ip", "route", "add", "default", "via", peerAddr4["q1"].String(), "dev", "eth1")
	sh(t, s.fw, "ip", "-6", "route", "add", "default", "via", peerAddr6["q1"].String(), "dev", "eth1")
	sh(t, s.peer, "ip", "route", "add", "default", "via", fwAddr4["q0"].String(), "dev", "q0")
	sh(t, s.peer, "ip", "-6", "route", "add", "default", "via", fwAddr6["q0"].String(), "dev", "q0")
	return s
}

const observer = `table inet zzobserve {
	set arr4 { typeof ip id; flags dynamic; size 65536; }
	set in4 { typeof ip id; flags dynamic; size 65536; }
	set fwd4 { typeof ip id; flags dynamic; size 65536; }
	set arr6 { typeof ip6 flowlabel; flags dynamic; size 65536; }
	set in6 { typeof ip6 flowlabel; flags dynamic; size 65536; }
	set fwd6 { typeof ip6 flowlabel; flags dynamic; size 65536; }
	chain arrival {
		type filter hook prerouting priority -2000; policy accept;
		ip ecn ect1 add @arr4 { ip id }
		ip6 ecn ect1 add @arr6 { ip6 flowlabel }
	}
	chain inbound {
		type filter hook input priority 2000; policy accept;
		ip ecn ect1 add @in4 { ip id }
		ip6 ecn ect1 add @in6 { ip6 flowlabel }
	}
	chain forwarded {
		type filter hook forward priority 2000; policy accept;
		ip ecn ect1 add @fwd4 { ip id }
		ip6 ecn ect1 add @fwd6 { ip6 flowlabel }
	}
}
`

// setElems lists the numbers in a set of the observer.
func setElems(t *testing.T, ns, set string) map[uint32]bool {
	t.Helper()
	out := testnetns.Run(t, ns, "nft", "-j", "list", "set", "inet", "zzobserve", set)
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := map[uint32]bool{}
	for _, o := range doc.Nftables {
		raw, ok := o["set"]
		if !ok {
			continue
		}
		var s struct {
			Elem []json.RawMessage `json:"elem"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		for _, e := range s.Elem {
			var n uint32
			if json.Unmarshal(e, &n) == nil {
				got[n] = true
				continue
			}
			var el struct {
				Elem struct {
					Val uint32 `json:"val"`
				} `json:"elem"`
			}
			if json.Unmarshal(e, &el) == nil {
				got[el.Elem.Val] = true
			}
		}
	}
	return got
}

// run sends the probes through one side and returns each probe's verdict.
func (s twinSide) run(t *testing.T, ps []probe) []string {
	t.Helper()
	if out, err := testnetns.Feed(s.fw, []byte(observer), "nft", "-f", "-"); err != nil {
		t.Fatalf("observer: %v: %s", err, out)
	}
	verdict := make([]string, len(ps))
	// Outgoing probes: the firewall's own sendmsg tells.
	testnetns.Do(t, s.fw, func() {
		fd4, fd6 := rawSockets(t, "eth0")
		defer unix.Close(fd4)
		defer unix.Close(fd6)
		for i, p := range ps {
			if p.dir != "out" {
				continue
			}
			switch err := p.send(fd4, fd6); err {
			case nil:
				verdict[i] = "sent"
			case unix.EPERM:
				verdict[i] = "dropped"
			default:
				verdict[i] = "error " + err.Error()
			}
		}
	})
	testnetns.Do(t, s.peer, func() {
		// One CPU: the packets cross the backlog in the order sent.
		var orig, one unix.CPUSet
		if err := unix.SchedGetaffinity(0, &orig); err != nil {
			t.Fatal(err)
		}
		for c := 0; c < 1024; c++ {
			if orig.IsSet(c) {
				one.Set(c)
				break
			}
		}
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = unix.SchedSetaffinity(0, &orig) }()
		socks := map[string][2]int{}
		for _, q := range []string{"q0", "q1", "q3"} {
			fd4, fd6 := rawSockets(t, q)
			defer unix.Close(fd4)
			defer unix.Close(fd6)
			socks[q] = [2]int{fd4, fd6}
		}
		for _, p := range ps {
			if p.dir == "out" {
				continue
			}
			if err := p.send(socks[p.peerIf][0], socks[p.peerIf][1]); err != nil {
				t.Fatalf("send %s: %v", p, err)
			}
		}
		b := probe{dir: "in", peerIf: "q0", src: peerAddr4["q0"], dst: fwAddr4["q0"], proto: 17, sport: 9, dport: 9, ttl: 64, id: barrierID4}
		if err := b.send(socks["q0"][0], socks["q0"][1]); err != nil {
			t.Fatal(err)
		}
	})
	// Wait for the barrier: every probe sent before it has been decided.
	for i := 0; ; i++ {
		if setElems(t, s.fw, "arr4")[barrierID4] {
			break
		}
		if i == 10000 {
			t.Fatal("the barrier packet never arrived")
		}
	}
	arr := [2]map[uint32]bool{setElems(t, s.fw, "arr4"), setElems(t, s.fw, "arr6")}
	in := [2]map[uint32]bool{setElems(t, s.fw, "in4"), setElems(t, s.fw, "in6")}
	fwd := [2]map[uint32]bool{setElems(t, s.fw, "fwd4"), setElems(t, s.fw, "fwd6")}
	for i, p := range ps {
		if p.dir == "out" {
			continue
		}
		f := 0
		if p.v6 {
			f = 1
		}
		switch {
		case !arr[f][p.id]:
			t.Fatalf("probe %s never arrived", p)
		case in[f][p.id]:
			verdict[i] = "input"
		case fwd[f][p.id]:
			verdict[i] = "forward"
		default:
			verdict[i] = "dropped"
		}
	}
	return verdict
}

// twin loads load into one side and the translation of the import into
// the other, and compares what the probes met.
func twin(t *testing.T, loadOrig func(ns string), policy []byte, extra ...string) map[string]int {
	t.Helper()
	return twinFamilies(t, loadOrig, policy, true, true, extra...)
}

// twinFamilies is twin with the probes of the families given only: an
// iptables-save file says nothing of the other family's packets.
// It returns how many probes met each verdict.
func twinFamilies(t *testing.T, loadOrig func(ns string), policy []byte, v4, v6 bool, extra ...string) map[string]int {
	t.Helper()
	rs, errs := checkOutput(t, policy)
	if len(errs) > 0 {
		t.Fatalf("the imported policy does not check: %v\n%s", errs, policy)
	}
	text, ds := nft.Text(rs)
	if ds.HasErrors() {
		t.Fatalf("translate --to nft: %v", ds)
	}
	ports, addrs := harvest(append(extra, string(policy))...)
	var ps []probe
	for _, p := range probes(ports, addrs) {
		if p.v6 && v6 || !p.v6 && v4 {
			ps = append(ps, p)
		}
	}
	for i := range ps {
		ps[i].id = uint32(i + 1)
	}
	if len(ps) >= barrierID4 {
		t.Fatalf("%d probes", len(ps))
	}
	var orig, tr []string
	a, b := newTwinSide(t), newTwinSide(t)
	loadOrig(a.fw)
	if out, err := testnetns.Feed(b.fw, text, "nft", "-f", "-"); err != nil {
		t.Fatalf("the translation does not load: %v: %s\n%s", err, out, text)
	}
	orig = a.run(t, ps)
	tr = b.run(t, ps)
	kinds := map[string]int{}
	var diffs []string
	for i, p := range ps {
		kinds[orig[i]]++
		if orig[i] != tr[i] {
			diffs = append(diffs, fmt.Sprintf("%s: original %s, translation %s", p, orig[i], tr[i]))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Errorf("%d of %d probes differ:\n%s\n--- policy\n%s", len(diffs), len(ps), strings.Join(diffs, "\n"), policy)
	}
	t.Logf("%d probes agree: %v", len(ps)-len(diffs), kinds)
	return kinds
}
