package golden

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
)

// TestRefusalsAgree: what a backend cannot express is said once (package
// limits) and in the same words by everyone who says it. For each policy of
// testdata/refusals and of the capability pass's testdata, `fwc check
// --backend B` reports, for each backend B, exactly the diagnostics B's
// emitter reports for the lowered policy (code, position, summary); for
// nft, the text and the netlink batch report the same ones too.
func TestRefusalsAgree(t *testing.T) {
	files, _ := filepath.Glob("testdata/refusals/*.fw")
	more, _ := filepath.Glob("../../check/passes/capability/testdata/backends/all.fw")
	files = append(files, more...)
	if len(files) < 2 {
		t.Fatalf("policies: %v", files)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			refusalsAgree(t, path, src, true)
		})
	}
}

// refusalsAgree compares the checker and the emitters on src as
// TestRefusalsAgree says; want: the policy must be refused by some
// backend (a test policy that no backend refuses tests nothing).
func refusalsAgree(t *testing.T, name string, src []byte, want bool) {
	t.Helper()
	parse := func() []*ast.File {
		f, ds := lang.ParseFile(name, src)
		if ds.HasErrors() {
			t.Fatalf("parse: %v", ds)
		}
		return []*ast.File{f}
	}
	// Checked for no backend: the refusals are warnings, and it lowers.
	prog, ds := check.Check(parse(), check.Options{NoLint: true})
	if ds.HasErrors() {
		t.Fatalf("check: %v", ds)
	}
	rs, lds := ir.Lower(prog)
	if lds.HasErrors() {
		t.Fatalf("lower: %v", lds)
	}
	_, bds, err := nft.Prepare(rs).Batch()
	if err != nil {
		t.Fatalf("nft batch: %v", err)
	}
	emitters := []struct {
		backend string
		emit    func(*ir.Ruleset) ([]byte, diag.Diagnostics)
	}{
		{"nft", nft.Text},
		{"nft", func(*ir.Ruleset) ([]byte, diag.Diagnostics) { return nil, bds }},
		{"iptables", restore.IPv4},
		{"ip6tables", restore.IPv6},
	}
	refused := false
	for _, e := range emitters {
		_, cds := check.Check(parse(), check.Options{Backends: []string{e.backend}, ErrorsOnly: true})
		_, eds := e.emit(rs)
		got, want := lines(eds), lines(cds)
		if got != want {
			t.Errorf("%s: the emitter reports\n%sfwc check --backend %s reports\n%s", e.backend, got, e.backend, want)
		}
		refused = refused || cds.HasErrors()
	}
	if want && !refused {
		t.Errorf("no backend refuses %s: it tests nothing", name)
	}
}

// lines is ds one per line (position, severity, summary, code), sorted.
func lines(ds diag.Diagnostics) string {
	var ls []string
	for _, d := range ds {
		ls = append(ls, d.Error()+"\n")
	}
	slices.Sort(ls)
	return strings.Join(slices.Compact(ls), "")
}
