package sem

import (
	"math/bits"
	"net/netip"
)

// U128 is an unsigned 128-bit integer, the common coordinate type of every
// dimension (an IPv6 address needs all of it; ports and the like use Lo).
type U128 struct{ Hi, Lo uint64 }

func U64(v uint64) U128 { return U128{0, v} }

func (a U128) Cmp(b U128) int {
	switch {
	case a.Hi < b.Hi:
		return -1
	case a.Hi > b.Hi:
		return 1
	case a.Lo < b.Lo:
		return -1
	case a.Lo > b.Lo:
		return 1
	}
	return 0
}

func (a U128) Less(b U128) bool { return a.Hi < b.Hi || a.Hi == b.Hi && a.Lo < b.Lo }

// inc and dec wrap; callers guard the ends of the domain.
func (a U128) Inc() U128 {
	lo, c := bits.Add64(a.Lo, 1, 0)
	return U128{a.Hi + c, lo}
}

func (a U128) Dec() U128 {
	lo, b := bits.Sub64(a.Lo, 1, 0)
	return U128{a.Hi - b, lo}
}

// Addr is the address v holds: its low 32 bits for IPv4, all 128 for IPv6.
func (v U128) Addr(v6 bool) netip.Addr {
	if !v6 {
		return netip.AddrFrom4([4]byte{byte(v.Lo >> 24), byte(v.Lo >> 16), byte(v.Lo >> 8), byte(v.Lo)})
	}
	var b [16]byte
	for i := range 8 {
		b[i] = byte(v.Hi >> (56 - 8*i))
		b[8+i] = byte(v.Lo >> (56 - 8*i))
	}
	return netip.AddrFrom16(b)
}
