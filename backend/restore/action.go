package restore

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// rejectNames gives the REJECT --reject-with name per kind and family.
var rejectNames = map[ir.RejectKind][2]string{
	ir.RejectPortUnreachable:  {"icmp-port-unreachable", "icmp6-port-unreachable"},
	ir.RejectHostUnreachable:  {"icmp-host-unreachable", "icmp6-addr-unreachable"},
	ir.RejectNetUnreachable:   {"icmp-net-unreachable", "icmp6-no-route"},
	ir.RejectProtoUnreachable: {"icmp-proto-unreachable", "icmp6-port-unreachable"},
	ir.RejectHostProhibited:   {"icmp-host-prohibited", "icmp6-adm-prohibited"},
	ir.RejectNetProhibited:    {"icmp-net-prohibited", "icmp6-adm-prohibited"},
	ir.RejectAdminProhibited:  {"icmp-admin-prohibited", "icmp6-adm-prohibited"},
	ir.RejectTCPReset:         {"tcp-reset", "tcp-reset"},
}

// targets renders the actions, one iptables target each (a counter needs
// none: every iptables rule counts). last is "goto" when the final action
// must leave the rule's chain as a whole (return, goto), so a sub-chain
// holding it has to be entered with -g.
func (w *writer) targets(t *ir.Table, chain string, r *ir.Rule) (out []string, last string) {
	fi := 0
	if w.fam == ir.IPv6 {
		fi = 1
	}
	for _, a := range r.Actions {
		last = ""
		switch a := a.(type) {
		case *policy.Verdict:
			switch a.Kind {
			case policy.Accept:
				out = append(out, "-j ACCEPT")
			case policy.Drop:
				out = append(out, "-j DROP")
			case policy.Return:
				if w.dropBase[chain] {
					// A return from a base chain ends in its policy; fwc's
					// chain returns to the built-in chain, whose policy is
					// the host's, so it drops itself.
					out = append(out, "-j DROP")
				} else {
					out = append(out, "-j RETURN")
				}
				last = "goto"
			case policy.Reject:
				s := "-j REJECT"
				if n, ok := rejectNames[ir.RejectOf(a)]; ok {
					s += " --reject-with " + n[fi]
				}
				out = append(out, s)
			}
		case *ir.Jump:
			if a.Goto {
				out = append(out, "-g "+w.chainName(a.Target))
				last = "goto"
			} else {
				out = append(out, "-j "+w.chainName(a.Target))
			}
		case *policy.Log:
			s := "-j LOG"
			if a.Prefix != "" {
				s += " --log-prefix " + Quote(a.Prefix)
			}
			if a.Level != 4 {
				s += " --log-level " + strconv.Itoa(a.Level)
			}
			if a.TCPSequence {
				s += " --log-tcp-sequence"
			}
			if a.TCPOptions {
				s += " --log-tcp-options"
			}
			if a.IPOptions {
				s += " --log-ip-options"
			}
			out = append(out, s)
		case *policy.Counter:
		case *policy.SetMark:
			// --set-xmark V/M computes (mark & ~M) ^ V; with V inside M
			// that is (mark & ~M) | V.
			tg := "MARK"
			if a.Ct {
				tg = "CONNMARK"
			}
			out = append(out, fmt.Sprintf("-j %s --set-xmark 0x%x/0x%x", tg, a.Value, a.Mask|a.Value))
		case *policy.Connmark:
			op := "--save-mark"
			if a.Restore {
				op = "--restore-mark"
			}
			out = append(out, fmt.Sprintf("-j CONNMARK %s --nfmask 0x%x --ctmask 0x%x", op, a.Mask, a.Mask))
		case *policy.NAT:
			out = append(out, w.nat(r, a))
		case *policy.Balance:
			out = append(out, "-j "+w.balance(chain, r, a))
		case *policy.Notrack:
			out = append(out, "-j CT --notrack")
		case *policy.Trace:
			out = append(out, "-j TRACE")
		case *policy.SetTOS:
			// Without ECN bits in the value only the DSCP part changes, as
			// in nft (ip dscp set): a connection's ECN marks survive.
			mask := 0xfc
			if a.Value&3 != 0 {
				mask = 0xff
			}
			out = append(out, fmt.Sprintf("-j TOS --set-tos 0x%02x/0x%02x", a.Value, mask))
		case *policy.SetTTL:
			if w.fam == ir.IPv4 {
				out = append(out, fmt.Sprintf("-j TTL --ttl-set %d", a.Value))
			} else {
				out = append(out, fmt.Sprintf("-j HL --hl-set %d", a.Value))
			}
		default:
			w.errorf(r, "action %T", a)
		}
	}
	return out, last
}

func natAddr(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

func (w *writer) nat(r *ir.Rule, a *policy.NAT) string {
	var b strings.Builder
	ports := ""
	if a.PortLo != 0 {
		ports = strconv.Itoa(int(a.PortLo))
		if a.PortHi != a.PortLo {
			ports += "-" + strconv.Itoa(int(a.PortHi))
		}
	}
	switch a.Kind {
	case policy.SNAT, policy.DNAT:
		if a.Kind == policy.SNAT {
			b.WriteString("-j SNAT --to-source ")
		} else {
			b.WriteString("-j DNAT --to-destination ")
		}
		if a.AddrLo.IsValid() {
			b.WriteString(natAddr(a.AddrLo))
			if a.AddrHi != a.AddrLo {
				b.WriteString("-" + natAddr(a.AddrHi))
			}
		}
		if ports != "" {
			b.WriteString(":" + ports)
		}
	case policy.Masquerade, policy.Redirect:
		if a.Kind == policy.Masquerade {
			b.WriteString("-j MASQUERADE")
		} else {
			b.WriteString("-j REDIRECT")
		}
		if ports != "" {
			b.WriteString(" --to-ports " + ports)
		}
	}
	if a.Random {
		b.WriteString(" --random")
	}
	if a.RandomFully {
		b.WriteString(" --random-fully")
	}
	if a.Persistent && (a.Kind == policy.SNAT || a.Kind == policy.DNAT) {
		b.WriteString(" --persistent")
	}
	return b.String()
}

// balance writes the kube-proxy cascade: a dispatch chain whose i-th rule
// jumps with probability 1/(n-i) to the i-th endpoint's chain, which DNATs.
// It returns the dispatch chain's name.
func (w *writer) balance(chain string, r *ir.Rule, a *policy.Balance) string {
	disp := w.newChain("bal-" + a.Name)
	comment := "-m comment --comment " + Quote(r.Comment(250))
	p := singleProto(r)
	proto := ""
	if p != 0 {
		proto = "-p " + p.Name() + " "
	}
	n := len(a.Endpoints)
	for i, e := range a.Endpoints {
		ep := w.newChain(disp.name)
		stat := ""
		if i < n-1 {
			stat = "-m statistic --mode random --probability " + ir.FormatProbability(ir.Probability(i, n)) + " "
		}
		disp.lines = append(disp.lines, stat+comment+" -j "+ep.name)
		ep.lines = append(ep.lines, fmt.Sprintf("%s%s -j DNAT --to-destination %s:%d", proto, comment, natAddr(e.Addr()), e.Port()))
	}
	return disp.name
}
