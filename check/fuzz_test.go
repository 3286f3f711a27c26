package check_test

import (
	"fmt"
	"time"

	"os"
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/lang"
)

// FuzzCheck feeds arbitrary text through the parser and the checker: no
// input may panic, and every diagnostic must carry a position.
func FuzzCheck(f *testing.F) {
	for _, glob := range []string{"testdata/errors/*.txtar", "testdata/ok/*.fw", "../examples/*.fw", "../examples/*/*.fw", "../lang/testdata/*.fw"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("zone lan { iface eth1; net 10.0.0.0/8 }\nfrom lan to self tcp dport 22 accept\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		// Go's fuzzer has no per-input time limit: a slow input just stalls
		// the run. Crash instead, so the input is saved and reported.
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				panic(fmt.Sprintf("parse+check took over 10s on %q", src))
			}
		}()
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
