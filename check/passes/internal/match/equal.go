// Package match holds small, conservative judgements about rule conditions
// shared by the structural passes: equality and implication of condition
// lists as written. It is syntactic by design (the packet-space passes do
// exact set arithmetic); where it cannot tell, it answers "no".
package match

import (
	"reflect"

	"github.com/fwcproject/fwc/policy"
)

var atType = reflect.TypeOf(policy.At{})

// Equal reports whether two conditions are the same, ignoring where they
// were written. Named sets compare by identity.
func Equal(a, b policy.Cond) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	return equal(va, vb)
}

func equal(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if isNamed(a.Elem().Type()) {
			return a.Pointer() == b.Pointer()
		}
		return equal(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if a.Type().Field(i).Type == atType {
				continue
			}
			if !equal(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !equal(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}

// isNamed reports whether t is a declaration-like policy object (a set or a
// route), compared by identity rather than content.
func isNamed(t reflect.Type) bool {
	return t == reflect.TypeOf(policy.Set{}) || t == reflect.TypeOf(policy.Route{})
}

// EqualConds reports whether two rules have the same conditions, in any
// order.
func EqualConds(a, b []policy.Cond) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
outer:
	for _, x := range a {
		for i, y := range b {
			if !used[i] && Equal(x, y) {
				used[i] = true
				continue outer
			}
		}
		return false
	}
	return true
}
