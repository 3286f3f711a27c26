package check

import (
	"net/netip"

	"github.com/fwcproject/fwc/policy"
)

func netipAddrPort(a policy.AddrItem, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(a.Prefix.Addr(), port)
}

func netipPrefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }
