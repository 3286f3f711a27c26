package check_test

import (
	"testing"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/internal/fuzzutil"
	"github.com/fwcproject/fwc/lang"
)

// FuzzCheck feeds arbitrary text through the parser and the checker: no
// input may panic, and every diagnostic must carry a position.
func FuzzCheck(f *testing.F) {
	fuzzutil.AddFiles(f, "testdata/errors/*.txtar", "testdata/ok/*.fw", "../examples/*.fw", "../examples/*/*.fw", "../lang/testdata/*.fw")
	f.Add([]byte("zone lan { iface eth1; net 10.0.0.0/8 }\nfrom lan to self tcp dport 22 accept\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		defer fuzzutil.Deadline(10*time.Second, "parse+check", src)()
		file, ds := lang.ParseFile("fuzz.fw", src)
		if file == nil || ds.HasErrors() {
			return
		}
		_, cds := check.Check([]*ast.File{file}, check.Options{Backends: []string{"nft", "iptables"}})
		for _, d := range cds {
			if d.Subject.Start.Line == 0 || d.Subject.Filename != "fuzz.fw" {
				t.Errorf("diagnostic without a position: %v", d)
			}
			if d.Code == "FW1999" {
				t.Errorf("a lint pass failed: %v: %s", d, d.Detail)
			}
		}
	})
}
