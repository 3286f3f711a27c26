package sem

import "math/bits"

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
