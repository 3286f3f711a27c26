package space

import "github.com/fwcproject/fwc/sem"

// The packet model (dimensions, intervals, cubes, regions, what each
// condition means) is package sem's; these names keep the walker's code
// short.
type (
	u128   = sem.U128
	iv     = sem.Interval
	ivs    = sem.Intervals
	Dim    = sem.Dim
	Cube   = sem.Cube
	Region = sem.Region
	Space  = sem.Space
)

const (
	SAddr    = sem.SAddr
	DAddr    = sem.DAddr
	Proto    = sem.Proto
	SPort    = sem.SPort
	DPort    = sem.DPort
	IIf      = sem.IIf
	OIf      = sem.OIf
	CtState  = sem.CtState
	CtStatus = sem.CtStatus
	ICMP     = sem.ICMP
	TCPFlags = sem.TCPFlags
	Mark     = sem.Mark
	CtMark   = sem.CtMark
	NDim     = sem.NDim
)

// NewSpace returns the universe of IPv4 (v6 false) or IPv6 packets.
func NewSpace(v6 bool) *Space { return sem.NewSpace(v6) }
