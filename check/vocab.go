package check

import "github.com/fwcproject/fwc/policy"

// Names the language accepts for protocols, icmp types, ct states and the
// like. They follow nft's spelling, which is also what iptables accepts for
// icmp types.

var protoNames = map[string]policy.Proto{
	"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
	"icmpv6": 58, "ipv6-icmp": 58, "sctp": 132, "udplite": 136,
}

// protoName returns the canonical name of p, or "".
func protoName(p policy.Proto) string {
	switch p {
	case 58:
		return "icmpv6"
	}
	for n, v := range protoNames {
		if v == p && n != "ipv6-icmp" {
			return n
		}
	}
	return ""
}

var icmpTypes = map[string]uint8{
	"echo-reply": 0, "destination-unreachable": 3, "source-quench": 4, "redirect": 5,
	"echo-request": 8, "router-advertisement": 9, "router-solicitation": 10,
	"time-exceeded": 11, "parameter-problem": 12, "timestamp-request": 13,
	"timestamp-reply": 14, "info-request": 15, "info-reply": 16,
	"address-mask-request": 17, "address-mask-reply": 18,
}

var icmpv6Types = map[string]uint8{
	"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3,
	"parameter-problem": 4, "echo-request": 128, "echo-reply": 129,
	"mld-listener-query": 130, "mld-listener-report": 131, "mld-listener-done": 132,
	"nd-router-solicit": 133, "nd-router-advert": 134, "nd-neighbor-solicit": 135,
	"nd-neighbor-advert": 136, "nd-redirect": 137, "router-renumbering": 138,
	"ind-neighbor-solicit": 141, "ind-neighbor-advert": 142, "mld2-listener-report": 143,
}

var ctStates = map[string]uint32{
	"invalid": policy.CtInvalid, "established": policy.CtEstablished,
	"related": policy.CtRelated, "new": policy.CtNew, "untracked": policy.CtUntracked,
}

var ctStatuses = map[string]uint32{
	"expected": policy.StatusExpected, "seen-reply": policy.StatusSeenReply,
	"assured": policy.StatusAssured, "confirmed": policy.StatusConfirmed,
	"snat": policy.StatusSNAT, "dnat": policy.StatusDNAT, "dying": policy.StatusDying,
}

var tcpFlags = map[string]uint8{
	"fin": policy.FIN, "syn": policy.SYN, "rst": policy.RST, "psh": policy.PSH,
	"ack": policy.ACK, "urg": policy.URG, "ece": policy.ECE, "cwr": policy.CWR,
	"all": 0x3f, "none": 0, // all: fin..urg, as iptables means ALL
}

// rejectTypes are the accepted `reject with` names and the family they
// need (0: any). The backends map family-neutral and IPv4 names to their
// IPv6 counterparts, so a dual-stack reject stays dual-stack.
var rejectTypes = map[string]policy.Family{
	"tcp-reset":               0,
	"port-unreachable":        0,
	"host-unreachable":        0,
	"net-unreachable":         0,
	"admin-prohibited":        0,
	"icmp-port-unreachable":   0,
	"icmp-host-unreachable":   0,
	"icmp-net-unreachable":    0,
	"icmp-proto-unreachable":  policy.IPv4,
	"icmp-net-prohibited":     0,
	"icmp-host-prohibited":    0,
	"icmp-admin-prohibited":   0,
	"icmpv6-no-route":         policy.IPv6,
	"icmpv6-adm-prohibited":   policy.IPv6,
	"icmpv6-addr-unreachable": policy.IPv6,
	"icmpv6-port-unreachable": policy.IPv6,
}

var logLevels = map[string]int{
	"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warn": 4, "warning": 4,
	"notice": 5, "info": 6, "debug": 7,
}

var weekdays = map[string]int{
	"mon": 0, "monday": 0, "tue": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
	"thu": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5,
	"sun": 6, "sunday": 6,
}

var setTypes = map[string]policy.SetType{
	"ipv4_addr": policy.IPv4Addr, "ipv4_net": policy.IPv4Net,
	"ipv6_addr": policy.IPv6Addr, "ipv6_net": policy.IPv6Net,
	"port": policy.PortType, "iface": policy.IfaceT, "mark": policy.MarkT,
}

// tables lists netfilter's tables in the order fwc emits them.
var tableOrder = []string{"raw", "mangle", "nat", "filter", "security"}

var hooks = map[string]policy.Hook{
	"prerouting": policy.Prerouting, "input": policy.Input, "forward": policy.Forward,
	"output": policy.Output, "postrouting": policy.Postrouting,
}

// stdPriority is the priority netfilter gives table at hook.
func stdPriority(table string, hook policy.Hook) int {
	switch table {
	case "raw":
		return -300
	case "mangle":
		return -150
	case "nat":
		if hook == policy.Prerouting || hook == policy.Output {
			return -100
		}
		return 100
	case "security":
		return 50
	}
	return 0
}
