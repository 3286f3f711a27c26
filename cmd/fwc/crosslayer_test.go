package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestPlanCrossLayer: fwc plan warns, on standard error, about a mark the
// policy sets that no ip rule selects in the namespace, and its exit
// status still says only whether changes are pending.
func TestPlanCrossLayer(t *testing.T) {
	ns := testnetns.New(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "p.fw")
	src := "table mangle {\n\tchain prerouting {\n\t\ttcp dport 25 mark set 0x4\n\t}\n}\n"
	if err := os.WriteFile(policy, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	code := run([]string{"plan", "--netns", ns, "--state-dir", filepath.Join(dir, "state"), policy}, nil, &out, &stderr)
	if code != exitFindings {
		t.Errorf("exit %d, want %d (changes pending): %s", code, exitFindings, stderr.String())
	}
	want := "fwc: warning: mark 0x4/0xffffffff set at p.fw:3 selects no ip rule"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
	testnetns.Run(t, ns, "ip", "rule", "add", "fwmark", "0x4", "table", "40")
	stderr.Reset()
	run([]string{"plan", "--netns", ns, "--state-dir", filepath.Join(dir, "state"), policy}, nil, &out, &stderr)
	if strings.Contains(stderr.String(), "selects no ip rule") {
		t.Errorf("warned with an ip rule for the mark in place:\n%s", stderr.String())
	}
}
