package diag

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/render/*.txtar")

func init() {
	// Codes for the golden files; FW99xx is not used by any stage.
	for _, d := range []Doc{
		{Code: "FW9901", Title: "Unknown name", Severity: Error, Doc: "A name is used that is not declared.\n\nDeclare it, or fix the spelling."},
		{Code: "FW9902", Title: "Wrong set element type", Severity: Error, Doc: "A set element does not match the set's type."},
		{Code: "FW9903", Title: "Log prefix too long", Severity: Warning, Doc: "The kernel keeps at most 29 characters of a log prefix."},
		{Code: "FW9904", Title: "Long set", Severity: Info},
		{Code: "FW9905", Title: "No input", Severity: Error, Doc: "Nothing to check."},
		{Code: "FW9906", Title: "Include cycle", Severity: Error, Doc: "Files include each other."},
	} {
		Register(d)
	}
}

// TestRenderGolden renders the diagnostics of each testdata/render/*.txtar
// (section in.json, positions in bytes) against its other sections as
// sources, and compares with want.text, want.json and want.sarif.
func TestRenderGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/render/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string][]byte{}
			for _, f := range ar.Files {
				sections[f.Name] = f.Data
			}
			var ds Diagnostics
			if err := json.Unmarshal(sections["in.json"], &ds); err != nil {
				t.Fatalf("in.json: %v", err)
			}
			src := func(name string) []byte { return sections[name] }

			var text, js, sf bytes.Buffer
			if err := RenderText(&text, ds, src, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := RenderJSON(&js, ds); err != nil {
				t.Fatal(err)
			}
			if err := RenderSARIF(&sf, ds, src, SARIFOptions{Version: "v0.0.0-test"}); err != nil {
				t.Fatal(err)
			}
			got := map[string][]byte{"want.text": text.Bytes(), "want.json": js.Bytes(), "want.sarif": sf.Bytes()}

			if *update {
				for i := 0; i < len(ar.Files); i++ {
					if _, ok := got[ar.Files[i].Name]; ok {
						ar.Files = append(ar.Files[:i], ar.Files[i+1:]...)
						i--
					}
				}
				for _, name := range []string{"want.text", "want.json", "want.sarif"} {
					ar.Files = append(ar.Files, txtar.File{Name: name, Data: got[name]})
				}
				if err := os.WriteFile(file, txtar.Format(ar), 0o666); err != nil {
					t.Fatal(err)
				}
				return
			}
			for name, g := range got {
				want, ok := sections[name]
				if !ok {
					t.Errorf("missing section %s; run go test -update", name)
					continue
				}
				if diff := cmp.Diff(string(want), string(g)); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

// TestRenderJSONRoundTrip checks that RenderJSON's output reads back into
// the same diagnostics, so tools can consume it with this package.
func TestRenderJSONRoundTrip(t *testing.T) {
	var ds Diagnostics
	ds.Add(Error, "FW9901", Range{Filename: "a.fw", Start: Pos{1, 2, 1}, End: Pos{1, 5, 4}}, "unknown zone", "Detail.",
		Related{Message: "here", Range: Range{Filename: "b.fw", Start: Pos{3, 1, 20}, End: Pos{3, 2, 21}}})
	ds.Warnf("FW9903", Range{Filename: "a.fw", Start: Pos{2, 1, 10}}, "too long")
	var buf bytes.Buffer
	if err := RenderJSON(&buf, ds); err != nil {
		t.Fatal(err)
	}
	var back Diagnostics
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ds, back, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-sent +read):\n%s", diff)
	}

	buf.Reset()
	if err := RenderJSON(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "[]\n" {
		t.Errorf("no diagnostics: got %q, want %q", got, "[]\n")
	}
}

func TestRenderTextCap(t *testing.T) {
	var ds Diagnostics
	for i := 1; i <= 7; i++ {
		ds.Errorf("FW9901", Range{Filename: "a.fw", Start: Pos{Line: i, Column: 1}}, "problem %d", i)
	}
	ds.Warnf("FW9903", Range{Filename: "a.fw", Start: Pos{Line: 8, Column: 1}}, "last")
	var buf bytes.Buffer
	if err := RenderText(&buf, ds, nil, TextOptions{Max: 3}); err != nil {
		t.Fatal(err)
	}
	want := `a.fw:1:1: error: problem 1 [FW9901]
a.fw:2:1: error: problem 2 [FW9901]
a.fw:3:1: error: problem 3 [FW9901]
and 5 more
7 errors, 1 warning
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("capped output (-want +got):\n%s", diff)
	}

	buf.Reset()
	if err := RenderText(&buf, ds, nil, TextOptions{Max: -1}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 9 {
		t.Errorf("uncapped: %d lines, want 8 diagnostics and a count:\n%s", n, buf.String())
	}

	buf.Reset()
	if err := RenderText(&buf, nil, nil, TextOptions{}); err != nil || buf.Len() != 0 {
		t.Errorf("no diagnostics: wrote %q, %v; want nothing", buf.String(), err)
	}
}

func TestRenderTextDefaultCap(t *testing.T) {
	var ds Diagnostics
	for i := 1; i <= DefaultMax+2; i++ {
		ds.Errorf("FW9901", Range{Filename: "a.fw", Start: Pos{Line: i, Column: 1}}, "problem %d", i)
	}
	var buf bytes.Buffer
	if err := RenderText(&buf, ds, nil, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	tail := fmt.Sprintf("a.fw:%d:1: error: problem %d [FW9901]\nand 2 more\n%d errors\n", DefaultMax, DefaultMax, DefaultMax+2)
	if !strings.HasSuffix(buf.String(), tail) {
		t.Errorf("output does not end in\n%s\ngot:\n%s", tail, buf.String())
	}
}

func TestRenderTextColor(t *testing.T) {
	var ds Diagnostics
	ds.Errorf("FW9901", Range{Filename: "a.fw", Start: Pos{1, 1, 0}, End: Pos{1, 5, 4}}, "bad")
	src := func(string) []byte { return []byte("zone x\n") }
	for _, on := range []bool{false, true} {
		var buf bytes.Buffer
		if err := RenderText(&buf, ds, src, TextOptions{Color: on}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(buf.String(), "\x1b["); got != on {
			t.Errorf("Color %v: escape codes present = %v:\n%q", on, got, buf.String())
		}
	}
}

func TestRelPathAndControlChars(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "sub", "a.fw")
	var ds Diagnostics
	ds.Errorf("FW9901", Range{Filename: abs, Start: Pos{1, 3, 2}, End: Pos{1, 4, 3}}, "bad")
	src := func(string) []byte { return []byte("a\x1b[31mb\n") }
	var buf bytes.Buffer
	if err := RenderText(&buf, ds, src, TextOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	want := "sub/a.fw:1:3: error: bad [FW9901]\n  1 | a?[31mb\n    |   ^\n1 error\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ dir, name, want string }{
		{"/a/b", "/a/b/c.fw", "c.fw"},
		{"/a/b", "/a/c.fw", "/a/c.fw"},
		{"/a/b", "/a/b..c/d.fw", "/a/b..c/d.fw"},
		{"/a/b", "rel.fw", "rel.fw"},
		{"", "/x.fw", "/x.fw"},
	} {
		if got := RelPath(tc.dir, tc.name); got != tc.want {
			t.Errorf("RelPath(%q, %q) = %q, want %q", tc.dir, tc.name, got, tc.want)
		}
	}
}
