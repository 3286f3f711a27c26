package check

import (
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
	f := policy.LookupField(m.Name.Name)
	if f == nil {
		// The parser only reads declared names; keep going regardless.
		c.unknown("match", &m.Name, m.Name.Name, fieldNames())
		st.ok = false
		return
	}
	cond := &policy.FieldCond{At: policy.At{Node: m}, Field: f, Neg: m.Neg}
	switch {
	case len(f.Subs) > 0 && m.Sub == nil:
		c.errorf(codeFieldSub, m, "%s needs one of %s", f.Name, strings.Join(f.Subs, ", "))
		st.ok = false
		return
	case len(f.Subs) > 0 && !f.HasSub(m.Sub.Name):
		d := c.errorf(codeFieldSub, m.Sub, "%s has no %q", f.Name, m.Sub.Name)
		if s := suggest(m.Sub.Name, f.Subs); s != "" {
			d.Summary += "; did you mean \"" + s + "\"?"
		}
		d.Detail = "Write " + f.Name + " " + strings.Join(f.Subs, " or "+f.Name+" ") + "."
		st.ok = false
		return
	case m.Sub != nil:
		cond.Sub = m.Sub.Name
	}
	ok := true
	for _, v := range c.flatten(m.Values) {
		iv, good := c.fieldValue(f, v)
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

func (c *checker) fieldValue(f *policy.Field, v ast.Value) (policy.Interval, bool) {
	what := f.Name + " value"
	if f.Kind == policy.FieldEnum {
		if l, ok := lit(v, ast.Word); ok {
			n, known := f.Names[strings.ToLower(l.Text)]
			if !known {
				d := c.errorf(codeType, v, "unknown %s %q", what, l.Text)
				if s := suggest(strings.ToLower(l.Text), f.NameList()); s != "" {
					d.Summary += "; did you mean \"" + s + "\"?"
				}
				d.Detail = f.Name + " is " + f.Summary + ": one of " + strings.Join(f.NameList(), ", ") + "."
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
			c.errorf(codeRange, v, "%s range %d-%d is empty", f.Name, lo, hi)
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
		out = append(out, f.Name)
	}
	return out
}
