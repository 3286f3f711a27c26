package ir

import (
	"github.com/fwcproject/fwc/policy"
)

// A rule's matches are policy's conditions (policy.Cond) and its actions
// policy's actions (policy.Action): the IR holds the same values the
// checker made, so a new kind of condition or action needs no IR type of
// its own, and Lower passes one through unchanged when nothing in it
// depends on the address family. Lower makes a family's copy where the
// family matters: an *policy.AddrCond holding only that family's items, a
// *policy.ProtoCond without the other family's icmp, a *policy.Balance
// with that family's endpoints, a *policy.NAT with its ranges closed
// (AddrHi and PortHi set even for one address or port).
//
// A condition's Set is the policy's *policy.Set; the Ruleset declares it as
// a *Set of the same Name (set names are unique in a ruleset), so backends
// that keep state per set key it by name.
//
// The types below are the IR's own, each because the IR value differs from
// policy's: it points into the lowered ruleset (Jump), holds state made by
// lowering for one family (Meter, Connlimit), or exists only after Merge
// (VerdictMap). Verdicts are *policy.Verdict: RejectOf gives the kind of a
// reject.

// Meter is a policy meter in one family, with the dynamic Set lowering made
// for its buckets: the set's key type and name depend on the family (one
// per meter name and family), which policy's MeterCond does not know.
type Meter struct {
	policy.MeterCond
	Set *Set
}

// Connlimit is a policy connection limit in one family, with the dynamic
// Set of per-address counters lowering made for it (one per rule and
// family).
type Connlimit struct {
	policy.ConnlimitCond
	Set *Set
}

// PolicyCond returns the policy condition an IR match is: IR rules hold
// policy's conditions, except Meter and Connlimit, which wrap one with
// the dynamic set lowering made; the packet semantics (sem) judges those
// by the condition they wrap.
func PolicyCond(m policy.Cond) policy.Cond {
	switch m := m.(type) {
	case *Meter:
		return &m.MeterCond
	case *Connlimit:
		return &m.ConnlimitCond
	}
	return m
}

// Jump calls Target (a user chain of the same table); with Goto it
// continues there and does not come back. It differs from policy.Jump in
// pointing at the lowered chain, which backends name.
type Jump struct {
	Goto   bool
	Target *Chain
}

// Terminal reports whether the jump ends evaluation in its chain: a goto
// does, a jump returns.
func (j *Jump) Terminal() bool { return j.Goto }

// RejectOf returns the kind of a reject verdict (RejectDefault for other
// verdicts and for a reject type Lower already reported as unknown).
func RejectOf(v *policy.Verdict) RejectKind {
	k, _ := ParseReject(v.With)
	return k
}

// PortProto returns the port protocol of a rule's port and concatenation
// matches: the one protocol of its positive protocol match when that
// protocol has ports, 0 otherwise (the backends then match the transport
// header generically).
func (r *Rule) PortProto() policy.Proto { return portProto(r.Matches) }

func portProto(ms []policy.Cond) policy.Proto {
	for _, c := range ms {
		if pc, ok := c.(*policy.ProtoCond); ok && !pc.Neg && len(pc.Protos) == 1 && pc.Protos[0].HasPorts() {
			return pc.Protos[0]
		}
	}
	return 0
}
