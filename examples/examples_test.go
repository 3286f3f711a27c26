// Package examples_test keeps the example policies honest: every policy
// under examples/ parses, checks without a single diagnostic (warnings
// included: an example is a policy a careful operator would sign), and is
// in the canonical layout `fwc fmt` prints.
package examples_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/lang"
)

// backends are the translations every example except those under
// iptables-only/ must be fit for.
var backends = []string{"nft", "iptables", "ip6tables"}

// scenarioFiles are the policies the scenarios (docs/scenarios.md S1-S14) are
// written in; the test fails if one goes missing, so the coverage the
// README promises cannot silently shrink.
var scenarioFiles = []string{
	"host.fw", "gateway.fw", "dual-uplink.fw", "sets.fw", "user-chains.fw",
	"time-and-string.fw", "iptables-only/payload.fw", "loadbalancer.fw",
	"raw-mangle.fw", "dual-stack.fw",
}

func TestExamplesCheckClean(t *testing.T) {
	l, ds := lang.Load([]string{"."})
	report(t, "load", ds)
	var roots []string
	for _, u := range l.Units {
		root := filepath.ToSlash(u.Root)
		roots = append(roots, root)
		bs := backends
		if strings.HasPrefix(root, "iptables-only/") {
			bs = []string{"iptables"}
		}
		t.Run(root, func(t *testing.T) {
			_, ds := check.Check(u.Files, check.Options{Backends: bs})
			report(t, root, ds)
		})
	}
	for _, want := range scenarioFiles {
		if !slices.Contains(roots, want) {
			t.Errorf("%s is not a policy of its own (missing, or included by another file); found %v", want, roots)
		}
	}
	// Shared pieces are included, never policies of their own.
	for _, r := range roots {
		if strings.HasPrefix(r, "common/") {
			t.Errorf("%s is a policy root; files under common/ are meant to be included", r)
		}
	}
}

func TestExamplesFormatted(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".fw") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, ds := lang.ParseFile(path, src)
		if len(ds) > 0 {
			report(t, path, ds)
			return nil
		}
		if got := lang.Format(f); !bytes.Equal(got, src) {
			t.Errorf("%s is not in canonical layout; run: go run ./cmd/fwc fmt -w examples/%s", path, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func report(t *testing.T, what string, ds diag.Diagnostics) {
	t.Helper()
	for _, d := range ds.Sort() {
		t.Errorf("%s: %s", what, d.Error())
		if d.Detail != "" {
			t.Logf("\t%s", d.Detail)
		}
	}
}
