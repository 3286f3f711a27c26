package lang

import (
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
)

// Fields of this test only: the parser knows generic fields from what
// package policy declares, and this package may not import policy.
func init() {
	ast.DeclareField("tflat")
	ast.DeclareField("tside", "in", "out")
	ast.DeclareField("ttl")
}

// TestFieldMatch: a declared field parses as one ast.FieldMatch, its
// sub-keyword only where the field has sub-keywords, so that a flat field's
// value is never taken for a sub-keyword; `ttl set` stays an action; and
// fmt prints the match back as written.
func TestFieldMatch(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"tflat a accept", "tflat - a"},
		{"tflat != a, b accept", "tflat - != a,b"},
		{"tside in x tflat y accept", "tside in x|tflat - y"},
		{"tflat y tside out != 1-5 accept", "tflat - y|tside out != 1-5"},
		{"tflat 0-128 tflat y counter accept", "tflat - 0-128|tflat - y"},
		{"tside x accept", "tside x "}, // no value: reported by the checker as an unknown sub-keyword
	} {
		f, ds := ParseFile("t.fw", []byte("table filter { chain input { "+c.src+" } }"))
		if c.want == "tside x " {
			// `tside x accept` reads x as the sub-keyword and then
			// needs a value: a syntax error, at accept.
			if len(ds) == 0 {
				t.Errorf("%q: no syntax error", c.src)
			}
			continue
		}
		if len(ds) > 0 {
			t.Fatalf("%q: %v", c.src, ds)
		}
		r := f.Decls[0].(*ast.Table).Chains[0].Rules[0]
		var got []string
		for _, m := range r.Matches {
			fm, ok := m.(*ast.FieldMatch)
			if !ok {
				t.Fatalf("%q: %T, want *ast.FieldMatch", c.src, m)
			}
			s := fm.Name.Name + " "
			if fm.Sub != nil {
				s += fm.Sub.Name + " "
			} else {
				s += "- "
			}
			if fm.Neg {
				s += "!= "
			}
			var vs []string
			for _, v := range fm.Values {
				vs = append(vs, valueText(v))
			}
			got = append(got, s+strings.Join(vs, ","))
		}
		if g := strings.Join(got, "|"); g != c.want {
			t.Errorf("%q: got %q, want %q", c.src, g, c.want)
		}
	}
	// ttl set is the header action even though ttl is a field.
	f, ds := ParseFile("t.fw", []byte("table mangle { chain prerouting { ttl 3 ttl set 64 } }"))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	r := f.Decls[0].(*ast.Table).Chains[0].Rules[0]
	if len(r.Matches) != 1 || len(r.Actions) != 1 {
		t.Fatalf("ttl 3 ttl set 64: %d matches, %d actions, want 1 and 1", len(r.Matches), len(r.Actions))
	}
	// fmt round trip.
	src := "table filter {\n\tchain input {\n\t\ttside out != 1-5, 7 tflat a accept\n\t}\n}\n"
	f, ds = ParseFile("t.fw", []byte(src))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	if got := string(Format(f)); got != src {
		t.Errorf("fmt:\n%s\nwant:\n%s", got, src)
	}
}

func valueText(v ast.Value) string {
	switch v := v.(type) {
	case *ast.Lit:
		return v.Text
	case *ast.BinOp:
		return valueText(v.Left) + v.Op + valueText(v.Right)
	}
	return "?"
}
