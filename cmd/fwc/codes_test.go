package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fwcproject/fwc/diag"
)

// codeRef matches a diagnostic code, or a range of them ("FW1000-FW1999"),
// with an optional "=LEVEL" as --severity takes it.
var codeRef = regexp.MustCompile(`\bFW\d{4}(?:[-–]FW\d{4})?(?:=\w+)?`)

// checkCodeRefs fails for every code named in text that fwc explain does
// not know; a CODE=LEVEL must also be accepted by --severity. Ranges name
// a span of codes, not codes, and are skipped.
func checkCodeRefs(t *testing.T, where, text string) {
	t.Helper()
	for _, ref := range codeRef.FindAllString(text, -1) {
		code, level, hasLevel := strings.Cut(ref, "=")
		if strings.ContainsAny(code, "-–") {
			continue
		}
		if _, ok := diag.Lookup(code); !ok {
			t.Errorf("%s names %s, which is not a registered code (fwc explain %s fails)", where, code, code)
			continue
		}
		if hasLevel {
			if _, err := lintOptions(nil, []string{code + "=" + level}); err != nil {
				t.Errorf("%s suggests %s, which --severity refuses: %v", where, ref, err)
			}
		}
	}
}

// TestHelpCodesExist: every code a --help text names (Long, Example, flag
// usages, of every command) is one fwc explain documents, and every
// CODE=LEVEL it suggests is accepted by --severity. (check --help once
// suggested FW1003=off, a code that does not exist.)
func TestHelpCodesExist(t *testing.T) {
	root := newRoot(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	var walk func(c *cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		where := c.CommandPath() + " --help"
		text := c.Long + "\n" + c.Example + "\n" + c.Short
		c.Flags().VisitAll(func(f *pflag.Flag) { text += "\n" + f.Usage })
		seen += len(codeRef.FindAllString(text, -1))
		checkCodeRefs(t, where, text)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if seen == 0 {
		t.Fatal("no code found in any --help text: the pattern or the walk is broken")
	}
}

// TestDocsCodesExist: every code named in docs/ and the README is one fwc
// explain documents.
func TestDocsCodesExist(t *testing.T) {
	files := []string{"../../README.md"}
	err := filepath.WalkDir("../../docs", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(codeRef.FindAllString(string(b), -1))
		checkCodeRefs(t, filepath.ToSlash(strings.TrimPrefix(f, "../../")), string(b))
	}
	if seen == 0 {
		t.Fatal("no code found in docs/: the pattern or the walk is broken")
	}
}

// TestDocCodeRanges: docs/language.md says which ranges of codes come
// from where ("Codes FW0001–FW0099 come from the parser ..."). Every
// registered code lies in one of those ranges, and every range holds a
// registered code, so the paragraph cannot name a range no code uses or
// leave codes out (it once gave the backends' refusals FW2000–FW2999 while
// they were FW1901–FW1905).
func TestDocCodeRanges(t *testing.T) {
	md, err := os.ReadFile("../../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	_, para, ok := strings.Cut(string(md), "Codes FW0001")
	if !ok {
		t.Fatal("docs/language.md has no paragraph of code ranges")
	}
	para, _, _ = strings.Cut("FW0001"+para, "\n\n")
	type span struct{ lo, hi string }
	var spans []span
	for _, m := range regexp.MustCompile(`(FW\d{4})–(FW\d{4})`).FindAllStringSubmatch(para, -1) {
		spans = append(spans, span{m[1], m[2]})
	}
	if len(spans) < 3 {
		t.Fatalf("found %d ranges in the paragraph: %q", len(spans), para)
	}
	used := make([]bool, len(spans))
	for _, d := range diag.Codes() {
		in := false
		for i, s := range spans {
			if d.Code >= s.lo && d.Code <= s.hi {
				in, used[i] = true, true
			}
		}
		if !in {
			t.Errorf("%s (%s) is in none of docs/language.md's code ranges", d.Code, d.Title)
		}
	}
	for i, s := range spans {
		if !used[i] {
			t.Errorf("docs/language.md names the range %s–%s, which holds no code", s.lo, s.hi)
		}
	}
}
