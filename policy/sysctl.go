package policy

import (
	"strings"

	"github.com/fwcproject/fwc/ast"
)

// Sysctl is a checked sysctl declaration: a kernel setting of the network
// namespace the firewall is applied in.
type Sysctl struct {
	Key   string // as written, with dots: net.ipv4.ip_forward
	Value uint64
	Decl  *ast.Sysctl
}

// Path is the setting's file under /proc/sys. The interface of a
// net.ipv4.conf.IFACE.rp_filter key may itself hold dots (eth0.100), so
// it is kept whole rather than turned into directories.
func (s *Sysctl) Path() string {
	if iface, ok := RPFilterIface(s.Key); ok {
		return "/proc/sys/net/ipv4/conf/" + iface + "/rp_filter"
	}
	return "/proc/sys/" + strings.ReplaceAll(s.Key, ".", "/")
}

// SysctlRange is the values a known key takes.
type SysctlRange struct{ Min, Max uint64 }

const maxInt32 = 1<<31 - 1

// SysctlKeys are the settings a policy may declare: those a firewall
// depends on to work (forwarding for NAT and routing, conntrack's table
// size and timeouts, reverse-path filtering for policy routing, bridge
// netfilter for bridged traffic). rp_filter keys of an interface are
// recognised by RPFilterIface.
var SysctlKeys = map[string]SysctlRange{
	"net.ipv4.ip_forward":                                   {0, 1},
	"net.ipv6.conf.all.forwarding":                          {0, 1},
	"net.ipv6.conf.default.forwarding":                      {0, 1},
	"net.netfilter.nf_conntrack_max":                        {0, maxInt32},
	"net.netfilter.nf_conntrack_tcp_timeout_syn_sent":       {1, maxInt32},
	"net.netfilter.nf_conntrack_tcp_timeout_syn_recv":       {1, maxInt32},
	"net.netfilter.nf_conntrack_tcp_timeout_established":    {1, maxInt32},
	"net.netfilter.nf_conntrack_tcp_timeout_fin_wait":       {1, maxInt32},
	"net.netfilter.nf_conntrack_tcp_timeout_close_wait":     {1, maxInt32},
	"net.netfilter.nf_conntrack_tcp_timeout_last_ack":       {1, maxInt32},
	"net.netfilter.nf_conntrack_tcp_timeout_time_wait":      {1, maxInt32},
	"net.netfilter.nf_conntrack_tcp_timeout_close":          {1, maxInt32},
	"net.netfilter.nf_conntrack_tcp_timeout_max_retrans":    {1, maxInt32},
	"net.netfilter.nf_conntrack_tcp_timeout_unacknowledged": {1, maxInt32},
	"net.netfilter.nf_conntrack_udp_timeout":                {1, maxInt32},
	"net.netfilter.nf_conntrack_udp_timeout_stream":         {1, maxInt32},
	"net.bridge.bridge-nf-call-iptables":                    {0, 1},
	"net.bridge.bridge-nf-call-ip6tables":                   {0, 1},
}

// RPFilterRange is the values of an rp_filter key: 0 off, 1 strict,
// 2 loose.
var RPFilterRange = SysctlRange{0, 2}

// RPFilterIface returns IFACE of a net.ipv4.conf.IFACE.rp_filter key
// ("all" and "default" included).
func RPFilterIface(key string) (string, bool) {
	const pre, suf = "net.ipv4.conf.", ".rp_filter"
	if !strings.HasPrefix(key, pre) || !strings.HasSuffix(key, suf) || len(key) <= len(pre)+len(suf) {
		return "", false
	}
	iface := key[len(pre) : len(key)-len(suf)]
	// Linux interface names: at most 15 bytes, no '/', no blanks.
	if len(iface) > 15 || strings.ContainsAny(iface, "/ *") {
		return "", false
	}
	return iface, true
}
