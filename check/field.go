package check

import (
	"slices"
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

// codeFieldSub: a generic field written without its sub-keyword, or with
// one it does not have.
const codeFieldSub = "FW0124"

func init() {
	diag.Register(diag.Doc{Code: codeFieldSub, Title: "Field needs a sub-keyword", Severity: diag.Error, Doc: `
Some matches name which side of the packet they look at with a word after
their name: addrtype src or addrtype dst. The word is missing, or is not one
the match has; fwc suggests the closest.

    from any to self addrtype dts local accept   # FW0124: addrtype has no "dts"; did you mean "dst"?`})
}

// field checks a generic field match against its row of the field
// registry (policy/field.go) and builds its policy.FieldCond.
func (c *checker) field(m *ast.FieldMatch, st *ruleState) {
	subs, known := policy.FieldSubs(m.Name.Name)
	if !known {
		// The parser only reads declared names; keep going regardless.
		c.unknown("match", &m.Name, m.Name.Name, fieldNames())
		st.ok = false
		return
	}
	switch {
	case len(subs) > 0 && m.Sub == nil:
		c.errorf(codeFieldSub, m, "%s needs one of %s", m.Name.Name, strings.Join(subs, ", "))
		st.ok = false
		return
	case len(subs) > 0 && !slices.Contains(subs, m.Sub.Name):
		d := c.errorf(codeFieldSub, m.Sub, "%s has no %q", m.Name.Name, m.Sub.Name)
		if s := suggest(m.Sub.Name, subs); s != "" {
			d.Summary += "; did you mean \"" + s + "\"?"
		}
		d.Detail = "Write " + m.Name.Name + " " + strings.Join(subs, " or "+m.Name.Name+" ") + "."
		st.ok = false
		return
	}
	sub := ""
	if m.Sub != nil {
		sub = m.Sub.Name
	}
	f := policy.LookupField(m.Name.Name, sub)
	cond := &policy.FieldCond{At: policy.At{Node: m}, Field: f, Sub: sub, Neg: m.Neg}
	ok := true
	if f.Kind == policy.FieldString {
		for _, v := range c.flatten(m.Values) {
			l, isStr := lit(v, ast.String)
			switch {
			case !isStr:
				c.typeErr(v, "a quoted string: "+f.Summary)
				ok = false
			case len(l.Text) == 0 || uint64(len(l.Text)) > f.Max:
				c.errorf(codeType, v, "%s must be 1 to %d bytes long, not %d", cond.Key(), f.Max, len(l.Text))
				ok = false
			default:
				cond.Strings = append(cond.Strings, l.Text)
			}
		}
		if !ok {
			st.ok = false
			return
		}
		c.restrict(st, f.Family, m)
		st.conds = append(st.conds, cond)
		return
	}
	for _, v := range c.flatten(m.Values) {
		iv, good := c.fieldValue(cond, v)
		ok = ok && good
		cond.Values = append(cond.Values, iv)
	}
	if !ok {
		st.ok = false
		return
	}
	c.restrict(st, f.Family, m)
	st.conds = append(st.conds, cond)
}

func (c *checker) fieldValue(cond *policy.FieldCond, v ast.Value) (policy.Interval, bool) {
	f, key := cond.Field, cond.Key()
	what := key + " value"
	if f.Kind == policy.FieldEnum {
		if l, ok := lit(v, ast.Word); ok {
			n, known := f.Names[strings.ToLower(l.Text)]
			if !known {
				d := c.errorf(codeType, v, "unknown %s %q", what, l.Text)
				if s := suggest(strings.ToLower(l.Text), f.NameList()); s != "" {
					d.Summary += "; did you mean \"" + s + "\"?"
				}
				d.Detail = key + " is " + f.Summary + ": one of " + strings.Join(f.NameList(), ", ") + "."
				return policy.Interval{}, false
			}
			return policy.Interval{Lo: n, Hi: n}, true
		}
		if !f.Numeric {
			c.typeErr(v, "a name of "+f.Summary+" ("+strings.Join(f.NameList(), ", ")+")")
			return policy.Interval{}, false
		}
	}
	if b, ok := v.(*ast.BinOp); ok && b.Op == "-" {
		lo, ok1 := c.number(b.Left, f.Min, f.Max, what)
		hi, ok2 := c.number(b.Right, f.Min, f.Max, what)
		if !ok1 || !ok2 {
			return policy.Interval{}, false
		}
		if hi < lo {
			c.errorf(codeRange, v, "%s range %d-%d is empty", key, lo, hi)
			return policy.Interval{}, false
		}
		return policy.Interval{Lo: lo, Hi: hi}, true
	}
	n, ok := c.number(v, f.Min, f.Max, what)
	return policy.Interval{Lo: n, Hi: n}, ok
}

func fieldNames() []string {
	var out []string
	for _, f := range policy.Fields() {
		if !slices.Contains(out, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}
