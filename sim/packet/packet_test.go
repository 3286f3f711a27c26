package packet_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sim/packet"
)

func show(s *packet.Spec) string {
	p := s.Packet
	var unk []string
	for d := range sem.NDim {
		if p.Unknown.Has(d) {
			unk = append(unk, d.String())
		}
	}
	return fmt.Sprintf("%s %s:%d>%s:%d p%d iif=%q oif=%q ct=%d st=%d fl=%#x icmp=%d/%d mark=%#x/%#x unknown=%v defaults=%v",
		s.Path, p.Src, p.SrcPort, p.Dst, p.DstPort, p.Proto, p.InIface, p.OutIface, p.CtState, p.CtStatus, p.TCPFlags,
		p.ICMPType, p.ICMPCode, p.Mark, p.CtMark, unk, s.Defaults)
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"iif eth0 to self saddr 203.0.113.5 tcp sport 40000 dport 22 ct state new",
			`to self 203.0.113.5:40000>198.51.100.1:22 p6 iif="eth0" oif="" ct=8 st=0 fl=0x2 icmp=0/0 mark=0x0/0x0 unknown=[] defaults=[daddr 198.51.100.1 tcp flags syn]`},
		{"",
			`forwarded 192.0.2.1:40000>198.51.100.1:80 p6 iif="" oif="" ct=8 st=0 fl=0x2 icmp=0/0 mark=0x0/0x0 unknown=[iif oif] defaults=[saddr 192.0.2.1 daddr 198.51.100.1 proto tcp sport 40000 dport 80 ct state new tcp flags syn]`},
		{"from self daddr 2001:db8::9 udp dport 53 mark 0x10 ct state established",
			`from self 2001:db8::1:40000>2001:db8::9:53 p17 iif="" oif="" ct=2 st=14 fl=0x0 icmp=0/0 mark=0x10/0x0 unknown=[oif] defaults=[saddr 2001:db8::1 sport 40000 ct status confirmed,seen-reply,assured]`},
		{"iif eth1 oif eth0 saddr 192.168.1.5 daddr 8.8.8.8 icmp type destination-unreachable code 3 ct state related ct status seen-reply ct mark 7",
			`forwarded 192.168.1.5:0>8.8.8.8:0 p1 iif="eth1" oif="eth0" ct=4 st=2 fl=0x0 icmp=3/3 mark=0x0/0x7 unknown=[] defaults=[]`},
		{"icmpv6 tcp flags syn|ack",
			"error"},
		{"proto tcp tcp flags syn,ack dport 443 to self",
			`to self 192.0.2.1:40000>198.51.100.1:443 p6 iif="" oif="" ct=8 st=0 fl=0x12 icmp=0/0 mark=0x0/0x0 unknown=[iif] defaults=[saddr 192.0.2.1 daddr 198.51.100.1 sport 40000 ct state new]`},
		{"icmpv6 to self", `to self 2001:db8::1:0>2001:db8:1::1:0 p58 iif="" oif="" ct=8 st=0 fl=0x0 icmp=128/0 mark=0x0/0x0 unknown=[iif] defaults=[saddr 2001:db8::1 daddr 2001:db8:1::1 icmp type echo-request ct state new]`},
	} {
		s, ds := packet.Parse("PACKET", tc.in)
		got := "error"
		if s != nil {
			got = show(s)
		}
		if got != tc.want {
			t.Errorf("%q:\ngot  %s\nwant %s\n%v", tc.in, got, tc.want, ds)
		}
	}
}

// TestErrors: every error is a positioned diagnostic on the PACKET text,
// with did-you-mean where a name is close.
func TestErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"to self tcp dprot 22", `PACKET:1:13: error: unknown packet word "dprot"; did you mean "dport"? [FW0501]`},
		{"to lan saddr 10.0.0.1", `PACKET:1:4: error: to takes only self, not "lan" [FW0501]`},
		{"to self from self", `PACKET:1:9: error: to self / from self is given twice [FW0501]`},
		{"saddr 10.0.0.0/8", `PACKET:1:7: error: "10.0.0.0/8" is not an IP address [FW0502]`},
		{"saddr 10.0.0.1 daddr ::1", `PACKET:1:22: error: daddr is of another family than saddr [FW0502]`},
		{"ct state establised", `PACKET:1:10: error: unknown ct state "establised"; did you mean "established"? [FW0502]`},
		{"tcp dport 70000", `PACKET:1:11: error: "70000" is not a port [FW0502]`},
		{"icmp dport 7", `PACKET:1:6: error: a port on a packet of a protocol without ports [FW0502]`},
		{"from self iif eth0", `PACKET:1:11: error: iif on a packet from self [FW0501]`},
		{"saddr", `PACKET:1:6: error: saddr needs an address after it [FW0501]`},
		{"tcp udp", `PACKET:1:5: error: the protocol is given twice [FW0501]`},
		{"tcp flags syn|ak", `PACKET:1:15: error: unknown tcp flag "ak"; did you mean "ack"? [FW0502]`},
		{"icmp type echo-reqest", `PACKET:1:11: error: unknown icmp type "echo-reqest"; did you mean "echo-request"? [FW0502]`},
		{"mark 0x1g", `PACKET:1:6: error: "0x1g" is not a mark [FW0502]`},
	} {
		s, ds := packet.Parse("PACKET", tc.in)
		if s != nil || !ds.HasErrors() {
			t.Errorf("%q: no error", tc.in)
			continue
		}
		var b bytes.Buffer
		_ = diag.RenderText(&b, ds, func(string) []byte { return []byte(tc.in) }, diag.TextOptions{})
		if first, _, _ := strings.Cut(b.String(), "\n"); first != tc.want {
			t.Errorf("%q:\ngot  %s\nwant %s", tc.in, b.String(), tc.want)
		}
		if _, ok := diag.Lookup(ds[0].Code); !ok {
			t.Errorf("%s is not registered", ds[0].Code)
		}
	}
}
