package nft

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// icmpxNames are the reject types nft can send in both families.
var icmpxNames = map[ir.RejectKind]string{
	ir.RejectPortUnreachable: "port-unreachable",
	ir.RejectHostUnreachable: "host-unreachable",
	ir.RejectNetUnreachable:  "no-route",
	ir.RejectAdminProhibited: "admin-prohibited",
}

// rejectNames gives the per-family icmp type names of each kind.
var rejectNames = map[ir.RejectKind][2]string{
	ir.RejectPortUnreachable:  {"port-unreachable", "port-unreachable"},
	ir.RejectHostUnreachable:  {"host-unreachable", "addr-unreachable"},
	ir.RejectNetUnreachable:   {"net-unreachable", "no-route"},
	ir.RejectProtoUnreachable: {"prot-unreachable", "port-unreachable"},
	ir.RejectHostProhibited:   {"host-prohibited", "admin-prohibited"},
	ir.RejectNetProhibited:    {"net-prohibited", "admin-prohibited"},
	ir.RejectAdminProhibited:  {"admin-prohibited", "admin-prohibited"},
}

var logLevels = []string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}

func verdict(a policy.Action) string {
	switch a := a.(type) {
	case *policy.Verdict:
		return a.Kind.String()
	case *ir.Jump:
		if a.Goto {
			return "goto " + ChainName(a.Target)
		}
		return "jump " + ChainName(a.Target)
	}
	return ""
}

func (p *printer) action(r *ir.Rule, a policy.Action) (string, bool) {
	switch a := a.(type) {
	case *policy.Verdict:
		if a.Kind != policy.Reject {
			return verdict(a), true
		}
		return p.reject(r, ir.RejectOf(a))
	case *ir.Jump:
		return verdict(a), true
	case *ir.VerdictMap:
		var es []string
		for _, e := range a.Entries {
			es = append(es, values(e.Match)[0]+" : "+verdict(e.Verdict))
		}
		return key(r, a.Key) + " vmap { " + strings.Join(es, ", ") + " }", true
	case *policy.Log:
		s := "log"
		if a.Prefix != "" {
			s += " prefix " + Quote(a.Prefix)
		}
		if a.Level != 4 && a.Level >= 0 && a.Level < len(logLevels) {
			s += " level " + logLevels[a.Level]
		}
		var tcp []string
		if a.TCPSequence {
			tcp = append(tcp, "sequence")
		}
		if a.TCPOptions {
			tcp = append(tcp, "options")
		}
		if tcp != nil {
			s += " flags tcp " + strings.Join(tcp, ",")
		}
		if a.IPOptions {
			s += " flags ip options"
		}
		return s, true
	case *policy.Counter:
		return "counter", true
	case *policy.SetMark:
		kw := "meta mark"
		if a.Ct {
			kw = "ct mark"
		}
		if a.Mask == 0xffffffff {
			return fmt.Sprintf("%s set 0x%08x", kw, a.Value), true
		}
		return fmt.Sprintf("%s set %s & 0x%08x | 0x%08x", kw, kw, ^a.Mask, a.Value), true
	case *policy.Connmark:
		if a.Mask != 0xffffffff {
			p.errorf(r, "this connmark (limits.NftRefuses lets it through)")
			return "", false
		}
		if a.Restore {
			return "meta mark set ct mark", true
		}
		return "ct mark set meta mark", true
	case *policy.NAT:
		return nat(r.Family, a), true
	case *policy.Balance:
		var es []string
		for i, e := range a.Endpoints {
			es = append(es, fmt.Sprintf("%d : %s . %d", i, e.Addr(), e.Port()))
		}
		return fmt.Sprintf("dnat %s to numgen random mod %d map { %s }", ipKw(r.Family), len(a.Endpoints), strings.Join(es, ", ")), true
	case *policy.Notrack:
		return "notrack", true
	case *policy.Trace:
		return "meta nftrace set 1", true
	case *policy.SetTOS:
		if a.Value&3 != 0 {
			p.errorf(r, "this tos value (limits.NftRefuses lets it through)")
			return "", false
		}
		return fmt.Sprintf("%s dscp set 0x%02x", ipKw(r.Family), a.Value>>2), true
	case *policy.SetTTL:
		if r.Family == ir.IPv6 {
			return fmt.Sprintf("ip6 hoplimit set %d", a.Value), true
		}
		return fmt.Sprintf("ip ttl set %d", a.Value), true
	}
	p.errorf(r, "action %T", a)
	return "", false
}

func (p *printer) reject(r *ir.Rule, k ir.RejectKind) (string, bool) {
	switch {
	case k == ir.RejectDefault:
		return "reject", true
	case k == ir.RejectTCPReset:
		return "reject with tcp reset", true
	case r.Family == ir.Both:
		if n, ok := icmpxNames[k]; ok {
			return "reject with icmpx type " + n, true
		}
	case r.Family == ir.IPv4:
		return "reject with icmp type " + rejectNames[k][0], true
	case r.Family == ir.IPv6:
		return "reject with icmpv6 type " + rejectNames[k][1], true
	}
	p.errorf(r, "this reject type in a rule for both families")
	return "", false
}

func natAddr(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

func nat(f ir.Family, a *policy.NAT) string {
	var s string
	ports := ""
	if a.PortLo != 0 {
		ports = ":" + strconv.Itoa(int(a.PortLo))
		if a.PortHi != a.PortLo {
			ports += "-" + strconv.Itoa(int(a.PortHi))
		}
	}
	switch a.Kind {
	case policy.SNAT, policy.DNAT:
		s = a.Kind.String() + " " + ipKw(f) + " to "
		if a.AddrLo.IsValid() {
			s += natAddr(a.AddrLo)
			if a.AddrHi != a.AddrLo {
				s += "-" + natAddr(a.AddrHi)
			}
		}
		s += ports
	case policy.Masquerade, policy.Redirect:
		s = a.Kind.String()
		if ports != "" {
			s += " to " + ports
		}
	}
	var flags []string
	if a.Random {
		flags = append(flags, "random")
	}
	if a.RandomFully {
		flags = append(flags, "fully-random")
	}
	if a.Persistent && a.Kind != policy.Redirect {
		flags = append(flags, "persistent")
	}
	if flags != nil {
		s += " " + strings.Join(flags, ",")
	}
	return s
}
