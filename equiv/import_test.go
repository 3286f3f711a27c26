package equiv_test

import (
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/equiv"
	"github.com/fwcproject/fwc/importer/convert"
	"github.com/fwcproject/fwc/importer/ipset"
	"github.com/fwcproject/fwc/importer/iptables"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

// TestTranslationsRoundTrip proves translations exact, the use the issue
// names for diff: every example, translated to iptables-save and ipset
// text and imported back with fwc import's converter, treats every packet
// of that family as the example does. The exceptions are the
// translations the importer refuses (it says so: nothing is compared) and
// one the comparison cannot decide: a balance written as random statistic
// chains (a probability is an opaque condition, compared by its text).
func TestTranslationsRoundTrip(t *testing.T) {
	undecided := map[string]string{
		"loadbalancer.fw ipv4": "balance as -m statistic chains",
	}
	files, _ := filepath.Glob("../examples/*.fw")
	compared := 0
	for _, file := range files {
		l, ds := compile.Load([]string{file}, compile.LoadOptions{})
		if ds.HasErrors() {
			t.Fatal(ds)
		}
		prog, ds := check.Check(l.Units[0].Files, check.Options{NoLint: true})
		if ds.HasErrors() {
			t.Fatal(ds)
		}
		rs, ds := ir.Lower(prog)
		if ds.HasErrors() {
			t.Fatal(ds)
		}
		sets, _ := restore.IPSet(rs)
		setFile, _ := ipset.ReadBytes(sets, "ipsets", ipset.Options{})
		for _, fam := range []policy.Family{policy.IPv4, policy.IPv6} {
			name := filepath.Base(file) + " " + fam.String()
			emit, cf := restore.IPv4, convert.IPv4
			if fam == policy.IPv6 {
				emit, cf = restore.IPv6, convert.IPv6
			}
			text, ds := emit(rs)
			if ds.HasErrors() {
				continue // not expressible in iptables: translate refuses it
			}
			f, ds := iptables.ReadBytes(text, "rules", iptables.Options{})
			out, cds := convert.Convert(convert.Input{Rulesets: []convert.Ruleset{{File: f, Src: text, Family: cf}}, Sets: []*ipset.File{setFile}}, convert.Options{})
			if ds = append(ds, cds...); ds.HasErrors() {
				t.Logf("%s: not imported: %v", name, ds[0].Summary)
				continue
			}
			af, ds := lang.ParseFile("imported.fw", out)
			if ds.HasErrors() {
				t.Fatalf("%s: the import does not parse: %v\n%s", name, ds, out)
			}
			imported, ds := check.Check([]*ast.File{af}, check.Options{NoLint: true})
			if ds.HasErrors() {
				t.Fatalf("%s: the import does not check: %v\n%s", name, ds, out)
			}
			res := equiv.Compare(imported, prog, equiv.Options{Families: fam})
			if why, ok := undecided[name]; ok {
				if res.Equivalent() {
					t.Errorf("%s: expected undecided (%s), now equivalent: update the test", name, why)
				}
				continue
			}
			compared++
			if !res.Equivalent() {
				t.Errorf("%s: the imported translation differs from the example:\n%s", name, render(res))
			}
		}
	}
	if compared < 10 {
		t.Fatalf("only %d translations compared", compared)
	}
	t.Logf("%d translations equivalent to their example", compared)
}
