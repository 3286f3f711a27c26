package golden_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
)

// TestUnaddressedRequests backs FW1310 (check/passes/unaddressed) with real
// packets: a client without an address sends a DHCP request (0.0.0.0:68 to
// 255.255.255.255:67; DHCPv6: from its link-local address to ff02::1:2
// port 547) on the zone's interface of a host running the policy (loaded
// with nft). With the pass's dhcp.fw and dhcpv6.fw, whose zone rules it
// flags, the request is dropped; with byiface.fw, which accepts requests
// by interface and which it leaves alone, the request arrives.
//
// Whether the request arrived is read without a timeout: after it the
// client takes an address in the zone's net and sends a second request,
// which the zone rule accepts, on the same thread pinned to one CPU (so the
// two are handled in order); the first datagram the server's socket holds
// is the unaddressed request if it got through, the marker if not.
func TestUnaddressedRequests(t *testing.T) {
	testnetns.Require(t)
	for _, c := range []struct {
		file      string
		v6        bool
		flagged   bool
		delivered bool
	}{
		{"dhcp.fw", false, true, false},
		{"byiface.fw", false, false, true},
		{"dhcpv6.fw", true, true, false},
		{"byiface.fw", true, false, true},
	} {
		name := c.file
		if c.v6 {
			name += "/v6"
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("../../check/passes/unaddressed/testdata", c.file)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, ds := lang.ParseFile(c.file, src)
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			prog, cds := check.Check([]*ast.File{f}, check.Options{Backends: []string{"nft"}})
			if cds.HasErrors() {
				t.Fatal(cds)
			}
			flagged := slices.ContainsFunc(cds, func(d *diag.Diagnostic) bool { return d.Code == "FW1310" })
			if flagged != c.flagged {
				t.Fatalf("fwc check reports FW1310: %v, want %v: %v", flagged, c.flagged, cds)
			}
			rs, lds := ir.Lower(prog)
			if lds.HasErrors() {
				t.Fatal(lds)
			}
			text, nds := nft.Text(rs)
			if nds.HasErrors() {
				t.Fatal(nds)
			}
			if got := unaddressedRequest(t, text, c.v6); got != c.delivered {
				t.Errorf("the request from an unaddressed client arrived: %v, want %v", got, c.delivered)
			}
		})
	}
}

// unaddressedRequest loads ruleset in a host namespace whose eth1 (the
// zone's interface: 192.168.1.1/24, fd00:1::1/64) leads to a client
// namespace, sends the client's request from 0.0.0.0 (v6: DHCPv6 from its
// link-local address to ff02::1:2), and reports whether the host's DHCP
// port received it.
func unaddressedRequest(t *testing.T, ruleset []byte, v6 bool) bool {
	host, client := testnetns.New(t), testnetns.New(t)
	testnetns.Run(t, host, "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "c0", "netns", client)
	testnetns.Run(t, host, "ip", "addr", "add", "192.168.1.1/24", "dev", "eth1")
	testnetns.Run(t, host, "ip", "addr", "add", "fd00:1::1/64", "dev", "eth1", "nodad")
	testnetns.Run(t, host, "ip", "link", "set", "eth1", "up")
	testnetns.Run(t, client, "ip", "link", "set", "c0", "up")
	file := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(file, ruleset, 0o644); err != nil {
		t.Fatal(err)
	}
	testnetns.LoadNft(t, host, file)

	var server net.PacketConn
	testnetns.Do(t, host, func() {
		var err error
		if !v6 {
			server, err = net.ListenPacket("udp4", ":67")
		} else {
			eth1, ierr := net.InterfaceByName("eth1")
			if ierr != nil {
				t.Fatal(ierr)
			}
			// All_DHCP_Relay_Agents_and_Servers, which a DHCPv6 client asks.
			server, err = net.ListenMulticastUDP("udp6", eth1, &net.UDPAddr{IP: net.ParseIP("ff02::1:2"), Port: 547})
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	defer server.Close()

	send := func(body string, from, to unix.Sockaddr) {
		testnetns.Do(t, client, func() {
			// One CPU for both sends: the veth hands each packet to the
			// backlog of the CPU that sent it.
			var was, cpus unix.CPUSet
			if err := unix.SchedGetaffinity(0, &was); err != nil {
				t.Fatal(err)
			}
			for i := range 1024 { // the first CPU the test may use
				if was.IsSet(i) {
					cpus.Set(i)
					break
				}
			}
			if err := unix.SchedSetaffinity(0, &cpus); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = unix.SchedSetaffinity(0, &was) }()
			domain := unix.AF_INET
			if v6 {
				domain = unix.AF_INET6
			}
			fd, err := unix.Socket(domain, unix.SOCK_DGRAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			for _, err := range []error{
				unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1),
				unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, "c0"),
				unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1),
				unix.Bind(fd, from),
				unix.Sendto(fd, []byte(body), 0, to),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	if !v6 {
		from, to := &unix.SockaddrInet4{Port: 68}, &unix.SockaddrInet4{Port: 67, Addr: [4]byte{255, 255, 255, 255}}
		send("unaddressed", from, to)
		// The client has an address now: its next request comes from it.
		testnetns.Run(t, client, "ip", "addr", "add", "192.168.1.50/24", "dev", "c0")
		send("marker", from, to)
	} else {
		// The link-local address made here rather than by the kernel when
		// the link comes up, which it does after ip link returns.
		testnetns.Run(t, client, "ip", "addr", "add", "fe80::50/64", "dev", "c0", "nodad")
		var idx int
		testnetns.Do(t, client, func() {
			i, err := net.InterfaceByName("c0")
			if err != nil {
				t.Fatal(err)
			}
			idx = i.Index
		})
		to := &unix.SockaddrInet6{Port: 547, Addr: netip.MustParseAddr("ff02::1:2").As16(), ZoneId: uint32(idx)}
		send("unaddressed", &unix.SockaddrInet6{Port: 546, Addr: netip.MustParseAddr("fe80::50").As16(), ZoneId: uint32(idx)}, to)
		// A global address in the zone's net: the marker is sent from it,
		// which the zone rule accepts.
		testnetns.Run(t, client, "ip", "addr", "add", "fd00:1::50/64", "dev", "c0", "nodad")
		send("marker", &unix.SockaddrInet6{Port: 546, Addr: netip.MustParseAddr("fd00:1::50").As16()}, to)
	}

	// Not a verdict's margin: the marker is accepted, so it arrives; this
	// only bounds a broken setup.
	_ = server.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 64)
	n, from, err := server.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no datagram reached the server, not even the marker: %v", err)
	}
	src, _ := netip.ParseAddrPort(from.String())
	switch string(buf[:n]) {
	case "unaddressed":
		if a := src.Addr(); !(a.IsUnspecified() || a.IsLinkLocalUnicast()) {
			t.Fatalf("the request came from %v, not from an unaddressed client: the test sent it wrong", src)
		}
		return true
	case "marker":
		return false
	}
	t.Fatalf("unexpected datagram %q from %v", buf[:n], from)
	return false
}
