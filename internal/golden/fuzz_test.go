package golden

import (
	"strings"
	"testing"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/fuzzutil"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
)

// FuzzBackends takes arbitrary text through the whole pipeline: parse,
// check, lower, and every backend (nft text and netlink batch, iptables
// for both families, ipset). No input may panic, every backend diagnostic
// must carry a position, the nft text and the netlink batch must report
// the same diagnostics (package limits decides for both), and a policy
// the checker passes for every backend makes no backend report an error:
// the checker and the emitters refuse from the same table.
func FuzzBackends(f *testing.F) {
	fuzzutil.AddFiles(f, "../../examples/*.fw", "../../examples/*/*.fw", "../../check/testdata/ok/*.fw", "testdata/scenarios/*.txtar", "testdata/refusals/*.fw")
	f.Add([]byte("table filter { chain input policy drop {\nsaddr 10.0.0.1 accept\nsaddr 10.0.0.2 drop\nsaddr 10.0.0.3 drop\n} }\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		defer fuzzutil.Deadline(10*time.Second, "the pipeline", src)()
		file, ds := lang.ParseFile("fuzz.fw", src)
		if file == nil || ds.HasErrors() {
			return
		}
		// Checked for nft and iptables: what ip6tables alone refuses
		// reaches its emitter, which must refuse it in the same words.
		prog, cds := check.Check([]*ast.File{file}, check.Options{Backends: []string{"nft", "iptables"}, ErrorsOnly: true})
		if cds.HasErrors() {
			return
		}
		_, c6 := check.Check([]*ast.File{file}, check.Options{Backends: []string{"ip6tables"}, ErrorsOnly: true})
		clean := !c6.HasErrors()
		rs, lds := ir.Lower(prog)
		positioned(t, "lower", lds)
		if lds.HasErrors() {
			return
		}
		_, tds := nft.Text(rs)
		positioned(t, "nft text", tds)
		if tds.HasErrors() {
			t.Errorf("the checker passed the policy for nft, but nft.Text reports %v", tds)
		}
		_, bds, err := nft.Prepare(rs).Batch()
		if err != nil {
			t.Errorf("nft batch: %v", err)
		}
		if got, want := render(bds), render(tds); got != want {
			t.Errorf("nft batch diagnostics\n%s\nnft text diagnostics\n%s", got, want)
		}
		for name, emit := range map[string]func(*ir.Ruleset) ([]byte, diag.Diagnostics){"iptables": restore.IPv4, "ip6tables": restore.IPv6, "ipset": restore.IPSet} {
			_, ds := emit(rs)
			positioned(t, name, ds)
			if ds.HasErrors() && (name == "iptables" || clean) {
				t.Errorf("the checker passed the policy for %s, but its emitter reports %v", name, ds)
			}
		}
	})
}

func positioned(t *testing.T, stage string, ds diag.Diagnostics) {
	t.Helper()
	for _, d := range ds {
		if d.Subject.Start.Line == 0 || d.Subject.Filename != "fuzz.fw" {
			t.Errorf("%s: diagnostic without a position: %v", stage, d)
		}
	}
}

// render is ds as one line each, in order.
func render(ds diag.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Error() + "\n")
	}
	return b.String()
}
