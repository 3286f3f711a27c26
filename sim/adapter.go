package sim

import (
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// cond returns the policy condition a rule's match is: IR rules hold
// policy's conditions, except the few IR types that wrap one with state
// lowering made (a meter's or connlimit's dynamic set), which sem judges
// by the condition they wrap.
func cond(m policy.Cond) policy.Cond {
	switch m := m.(type) {
	case *ir.Meter:
		return &m.MeterCond
	case *ir.Connlimit:
		return &m.ConnlimitCond
	}
	return m
}
