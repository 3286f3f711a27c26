package capability_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	"github.com/fwcproject/fwc/check/passes/capability"
	. "github.com/fwcproject/fwc/check/passes/internal/ptest"
	"github.com/fwcproject/fwc/check/policy"
)

func program(wantNft, wantIpt, wantBoth W) *Builder {
	b := New()
	in := b.Base(b.Table("filter"), policy.Input, "drop")
	str := &policy.StringCond{Text: "OOXX", Algo: "bm"}
	b.Rule(in, TCP(), str, Reject(), wantNft)
	ifaces := &policy.Set{Name: "ifaces", Type: []policy.SetType{policy.IfaceT}, Family: policy.Both}
	b.Rule(in, &policy.IfaceCond{Dir: policy.Src, Set: ifaces}, Accept()) // the backend lists the elements
	portFirst := &policy.Set{Name: "pf", Type: []policy.SetType{policy.PortType, policy.IPv4Addr}, Family: policy.IPv4}
	b.Rule(in, policy.IPv4, TCP(), &policy.ConcatCond{Keys: []policy.Key{policy.KeyDport, policy.KeySaddr}, Set: portFirst}, Accept(), wantIpt)
	svc := &policy.Set{Name: "svc", Type: []policy.SetType{policy.IPv4Addr, policy.PortType}, Family: policy.IPv4}
	b.Rule(in, policy.IPv4, TCP(), &policy.ConcatCond{Keys: []policy.Key{policy.KeySaddr, policy.KeyDport}, Set: svc}, Accept())
	netIface := &policy.Set{Name: "ni", Type: []policy.SetType{policy.IPv6Net, policy.IfaceT}, Family: policy.IPv6}
	b.Rule(in, policy.IPv6, &policy.ConcatCond{Keys: []policy.Key{policy.KeySaddr, policy.KeyIif}, Set: netIface}, Accept())
	b.Rule(in, &policy.CtStatusCond{Bits: policy.StatusDying}, Drop(), wantBoth)
	b.Rule(in, &policy.CtStatusCond{Bits: policy.StatusAssured}, Accept())
	b.Rule(in, &policy.CtStatusCond{Bits: policy.StatusDNAT | policy.StatusAssured}, Accept(), ifW(wantIpt, `FW1905 "cannot match ct status snat or dnat together"`))
	b.Rule(in, &policy.CtStatusCond{Bits: policy.StatusDNAT | policy.StatusSNAT}, Accept())
	b.Rule(in, &policy.TCPFlagsCond{Flags: policy.SYN | policy.ECE, Mask: policy.SYN | policy.ECE | policy.CWR}, Drop(), ifW(wantIpt, `FW1905 "cannot match the tcp flags ece and cwr"`))
	b.Rule(in, &policy.TCPFlagsCond{Flags: policy.SYN, Mask: policy.SYN | policy.ACK}, Drop())
	b.Rule(in, &policy.ICMPCond{Types: []policy.ICMPType{{Type: 8, Code: 0}, {Type: 0, Code: -1}}}, Accept(), ifW(wantNft, `FW1904 "nft cannot express a list of icmp types"`))
	b.Rule(in, &policy.ICMPCond{Types: []policy.ICMPType{{Type: 8, Code: 0}, {Type: 0, Code: 0}}}, Accept())
	b.Rule(in, &policy.TimeCond{Neg: true, HasHour: true, Days: 3}, Drop(), ifW(wantNft, `FW1904 "negated time condition with several parts"`))
	b.Rule(in, &policy.TimeCond{Neg: true, Days: 3}, Drop())
	b.Rule(in, &policy.TimeCond{HasHour: true, Days: 3}, Drop())
	m := b.Base(b.Table("mangle"), policy.Prerouting, "")
	b.Rule(m, &policy.Connmark{Restore: true, Mask: 0xff}, ifW(wantNft, `FW1904 "connmark copy under a partial mask"`))
	b.Rule(m, &policy.Connmark{Restore: true, Mask: 0xffffffff})
	b.Rule(m, &policy.SetTOS{Value: 0x11}, ifW(wantNft, `FW1904 "tos value with ECN bits"`))
	b.Rule(m, &policy.SetTOS{Value: 0x10})
	return b
}

// ifW is w2 when w is a want, else no want.
func ifW(w, w2 W) W {
	if w == "" {
		return ""
	}
	return w2
}

// TestNoBackend: without a backend named, every backend is judged (the
// findings are warnings then: cmd/fwc's check_capability script shows it).
func TestNoBackend(t *testing.T) {
	b := program(`FW1901 "nft"`, `FW1902 "iptables"`, `FW1903 "^iptables and ip6tables cannot"`)
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, capability.Analyzer)
}

func TestNft(t *testing.T) {
	b := program(`FW1901 "nft cannot express a string match"`, "", "")
	analysistest.RunProgram(t, b.Prog, analysis.Options{Backends: []string{"nft"}}, capability.Analyzer)
}

func TestIptables(t *testing.T) {
	b := program("", `FW1902 "^iptables cannot look up set .*: no ipset type holds"`, `FW1903 "^iptables cannot match ct status dying"`)
	analysistest.RunProgram(t, b.Prog, analysis.Options{Backends: []string{"iptables"}}, capability.Analyzer)
}

func TestAll(t *testing.T) {
	b := program(`FW1901 "nft"`, `FW1902 "iptables"`, `FW1903 "^iptables and ip6tables cannot"`)
	analysistest.RunProgram(t, b.Prog, analysis.Options{Backends: []string{"nft", "iptables", "ip6tables"}}, capability.Analyzer)
}
