package assert_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/assert"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/lang"
)

// TestLanguageDoc: the policy of docs/language.md's Asserts section holds
// every assert it makes, and with the assert the section appends, fwc
// check prints the error the section shows, to the byte.
func TestLanguageDoc(t *testing.T) {
	md, err := os.ReadFile("../../../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(md), "\n## Asserts\n")
	if !ok {
		t.Fatal("no Asserts section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	block := func(fence string) string {
		_, rest, ok := strings.Cut(sec, fence)
		if !ok {
			t.Fatalf("no %q block", fence)
		}
		body, _, _ := strings.Cut(rest, "```\n")
		return body
	}
	src := block("```fw\n")
	want := block("```text\n")
	_, appended, _ := strings.Cut(sec, "Appended to the policy above, `")
	appended, _, _ = strings.Cut(appended, "`")
	appended = strings.Join(strings.Fields(appended), " ")

	run := func(src string) string {
		dir := t.TempDir()
		t.Chdir(dir)
		if err := os.WriteFile(filepath.Join(dir, "host.fw"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		l, ds := lang.Load([]string{"host.fw"})
		if ds.HasErrors() {
			t.Fatalf("load: %v", ds)
		}
		_, ds = check.Check(l.Units[0].Files, check.Options{Passes: []*analysis.Analyzer{assert.Analyzer}})
		var b bytes.Buffer
		if err := diag.RenderText(&b, ds, func(n string) []byte { return l.Sources[n] }, diag.TextOptions{}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if got := run(src); got != "" {
		t.Errorf("the section's policy breaks its asserts:\n%s", got)
	}
	got := run(src + appended + "\n")
	if !strings.HasPrefix(got, want) {
		t.Errorf("with %q, fwc check prints\n%s\nthe section shows\n%s", appended, got, want)
	}
}
