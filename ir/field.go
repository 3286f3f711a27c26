package ir

import "github.com/fwcproject/fwc/policy"

// Field is a simple field match (policy/field.go), carried as the policy
// condition itself: the backends' field tables read it.
type Field struct{ *policy.FieldCond }

func (*Field) match() {}
