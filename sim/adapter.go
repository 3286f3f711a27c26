package sim

import (
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// conds returns the policy conditions an IR match mirrors, so that the
// walk asks sem what they mean. ok is false for a match no condition
// mirrors (a lookup in a set the ruleset fills itself): it is undecided.
//
// Removed when IR holds policy conditions: the evaluator then passes the
// rule's conditions to sem as they are.
func conds(m ir.Match) (cs []policy.Cond, ok bool) {
	set := func(s *ir.Set) (*policy.Set, bool) {
		if s == nil {
			return nil, true
		}
		if s.Dynamic {
			return nil, false
		}
		return &policy.Set{Name: s.Name, Type: s.Type, Family: policy.Family(s.Family),
			Timeout: s.Timeout, Size: s.Size, Elements: s.Elements}, true
	}
	switch m := m.(type) {
	case *ir.Addr:
		s, ok := set(m.Set)
		return []policy.Cond{&policy.AddrCond{Dir: m.Dir, Neg: m.Neg, Items: m.Items, Set: s}}, ok
	case *ir.Proto:
		return []policy.Cond{&policy.ProtoCond{Neg: m.Neg, Protos: m.Protos}}, true
	case *ir.Port:
		// The IR port match carries its protocol, which the policy rule
		// states in a protocol condition of its own.
		s, ok := set(m.Set)
		return []policy.Cond{&policy.ProtoCond{Protos: []policy.Proto{m.Proto}},
			&policy.PortCond{Dir: m.Dir, Neg: m.Neg, Ranges: m.Ranges, Set: s}}, ok
	case *ir.Iface:
		s, ok := set(m.Set)
		return []policy.Cond{&policy.IfaceCond{Dir: m.Dir, Neg: m.Neg, Ifaces: m.Ifaces, Set: s}}, ok
	case *ir.ICMP:
		return []policy.Cond{&policy.ICMPCond{V6: m.V6, Neg: m.Neg, Types: m.Types}}, true
	case *ir.TCPFlags:
		return []policy.Cond{&policy.TCPFlagsCond{Neg: m.Neg, Flags: m.Flags, Mask: m.Mask}}, true
	case *ir.CtState:
		return []policy.Cond{&policy.CtStateCond{Neg: m.Neg, Bits: m.Bits}}, true
	case *ir.CtStatus:
		return []policy.Cond{&policy.CtStatusCond{Neg: m.Neg, Bits: m.Bits}}, true
	case *ir.Mark:
		s, ok := set(m.Set)
		return []policy.Cond{&policy.MarkCond{Ct: m.Ct, Neg: m.Neg, Value: m.Value, Mask: m.Mask, Set: s}}, ok
	case *ir.Limit:
		return []policy.Cond{&policy.LimitCond{Over: m.Over, Rate: m.Rate, Burst: m.Burst}}, true
	case *ir.Meter:
		return []policy.Cond{&policy.MeterCond{Name: m.Name, Per: m.Per, MaskLen: m.MaskLen, Over: m.Over, Rate: m.Rate, Burst: m.Burst}}, true
	case *ir.Connlimit:
		return []policy.Cond{&policy.ConnlimitCond{Over: m.Over, Count: m.Count, MaskLen: m.MaskLen}}, true
	case *ir.Time:
		return []policy.Cond{&policy.TimeCond{Neg: m.Neg, HasHour: m.HasHour, HourFrom: m.HourFrom, HourTo: m.HourTo,
			Days: m.Days, HasDate: m.HasDate, DateFrom: m.DateFrom, DateTo: m.DateTo}}, true
	case *ir.Random:
		return []policy.Cond{&policy.ProbCond{P: m.P}}, true
	case *ir.String:
		return []policy.Cond{&policy.StringCond{Neg: m.Neg, Text: m.Text, Algo: m.Algo}}, true
	case *ir.Concat:
		s, ok := set(m.Set)
		if s == nil {
			return nil, false
		}
		return []policy.Cond{&policy.ConcatCond{Neg: m.Neg, Keys: m.Keys, Set: s}}, ok
	}
	return nil, false
}
