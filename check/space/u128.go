package space

import "math/bits"

// u128 is an unsigned 128-bit integer, the common coordinate type of every
// dimension (an IPv6 address needs all of it; ports and the like use Lo).
type u128 struct{ Hi, Lo uint64 }

func u64(v uint64) u128 { return u128{0, v} }

func (a u128) cmp(b u128) int {
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

func (a u128) less(b u128) bool { return a.Hi < b.Hi || a.Hi == b.Hi && a.Lo < b.Lo }

// inc and dec wrap; callers guard the ends of the domain.
func (a u128) inc() u128 {
	lo, c := bits.Add64(a.Lo, 1, 0)
	return u128{a.Hi + c, lo}
}

func (a u128) dec() u128 {
	lo, b := bits.Sub64(a.Lo, 1, 0)
	return u128{a.Hi - b, lo}
}
