// Package semtest holds helpers for tests that compare engines over sem's
// packet space (check/space's walks against sim's concrete one).
package semtest

import (
	"math/rand/v2"

	"github.com/fwcproject/fwc/sem"
)

// Pick returns a point of c: in each dimension the low or high end of one
// of its intervals, or a value inside, so that random points reach the
// edges where engines tend to disagree.
func Pick(r *rand.Rand, c *sem.Cube, v6 bool) sem.Point {
	p := sem.Point{V6: v6}
	for d := range sem.NDim {
		set := c[d]
		x := set[r.IntN(len(set))]
		switch r.IntN(3) {
		case 0:
			p.F[d] = x.Lo
		case 1:
			p.F[d] = x.Hi
		default:
			v := x.Lo
			if x.Hi.Hi == x.Lo.Hi && x.Hi.Lo > x.Lo.Lo {
				if w := x.Hi.Lo - x.Lo.Lo; w == ^uint64(0) {
					v.Lo = r.Uint64()
				} else {
					v.Lo += r.Uint64N(w + 1)
				}
			}
			p.F[d] = v
		}
	}
	return p
}
