package nft_test

import (
	"flag"
	"github.com/fwcproject/fwc/internal/irfixture"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/internal/testnetns"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs (run with -update and read the diff):\n%s", name, got)
	}
}

func hostText(t *testing.T) []byte {
	t.Helper()
	rs := irfixture.Lower(t, "host.fw", irfixture.Host)
	out, ds := nft.Text(rs)
	if len(ds) > 0 {
		t.Fatalf("Text: %v", ds)
	}
	return out
}

func TestHostGolden(t *testing.T) {
	out := hostText(t)
	golden(t, "host.nft", out)
	if again := hostText(t); string(again) != string(out) {
		t.Error("output is not deterministic")
	}
	if strings.Contains(string(out), "flush ruleset") || strings.Contains(string(out), "#") {
		t.Error("script flushes the ruleset or carries a comment line")
	}
}

// TestHostLoad checks the script with nft -c, loads it twice (the second
// load must replace the table, not fail), and compares nft's own listing
// with the golden listing.
func TestHostLoad(t *testing.T) {
	t.Parallel()
	ns := testnetns.New(t)
	out := hostText(t)
	if o, err := testnetns.Feed(ns, out, "nft", "-c", "-f", "-"); err != nil {
		t.Fatalf("nft -c: %v\n%s", err, o)
	}
	for i := 0; i < 2; i++ {
		if o, err := testnetns.Feed(ns, out, "nft", "-f", "-"); err != nil {
			t.Fatalf("nft -f (load %d): %v\n%s", i+1, err, o)
		}
	}
	list, err := testnetns.Feed(ns, nil, "nft", "list", "ruleset")
	if err != nil {
		t.Fatalf("nft list ruleset: %v\n%s", err, list)
	}
	// Element expiry counts down while the test runs.
	list = regexp.MustCompile(` expires [0-9a-z]+`).ReplaceAllString(list, "")
	golden(t, "host.nft.list", []byte(list))
}

// TestStringIsError: a rule nft cannot express is left out with the
// checker's diagnostic (package limits), at the condition refused.
func TestStringIsError(t *testing.T) {
	rs := irfixture.Lower(t, "string.fw", irfixture.StringMatch)
	out, ds := nft.Text(rs)
	if len(ds) != 1 || ds[0].Code != "FW1901" || ds[0].Summary != "nft cannot express a string match" {
		t.Fatalf("diagnostics = %v, want one FW1901", ds)
	}
	if ds[0].Subject.Filename != "string.fw" || ds[0].Subject.Start.Line != 3 {
		t.Errorf("diagnostic at %v, want string.fw:3", ds[0].Subject)
	}
	if strings.Contains(string(out), "OOXX") || strings.Contains(string(out), "dport 80") {
		t.Errorf("the rule was emitted anyway:\n%s", out)
	}
}
