package space_test

import (
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/space"
	"github.com/fwcproject/fwc/lang"
)

// TestCtMatchesNeedATrackedPacket: a ct mark or ct status match fails on a
// packet without a connection (invalid or untracked), negated or not, so
// a match and its negation together do not decide those packets: a later
// rule for untracked packets is live. The space used to take the
// complement of the mark or status over every packet, and called the
// later rule dead (a false FW11xx).
func TestCtMatchesNeedATrackedPacket(t *testing.T) {
	for _, first := range []string{"ct mark 0x1 drop\n\tct mark != 0x1 drop", "ct status dnat drop\n\tct status != dnat drop"} {
		src := "table filter { chain input {\n\t" + first + "\n\tct state untracked, invalid accept\n} }\n"
		f, ds := lang.ParseFile("p.fw", []byte(src))
		if ds.HasErrors() {
			t.Fatal(ds)
		}
		prog, cds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
		if cds.HasErrors() {
			t.Fatal(cds)
		}
		res := space.Analyze(prog)
		rules := prog.Tables[0].Chains[0].Rules
		if fa := res.Facts(rules[2]); fa == nil || fa.Dead() {
			t.Errorf("%s: the rule for untracked packets is dead: %+v", first, fa)
		}
	}
}
