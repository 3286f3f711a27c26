package check_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/lang"
)

var update = flag.Bool("update", false, "rewrite the want sections of golden files")

// checkDir loads in.fw from the current directory and checks every unit,
// returning the rendered diagnostics.
func checkDir(t *testing.T) (string, diag.Diagnostics) {
	t.Helper()
	loaded, ds := lang.Load([]string{"in.fw"})
	if loaded != nil {
		for _, u := range loaded.Units {
			_, cds := check.Check(u.Files, check.Options{})
			ds = append(ds, cds...)
		}
	}
	var buf bytes.Buffer
	src := func(name string) []byte {
		if loaded == nil {
			return nil
		}
		return loaded.Sources[name]
	}
	if err := diag.RenderText(&buf, ds, src, diag.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	return buf.String(), ds
}

// TestErrors pins the exact rendered diagnostics of one-mistake policies.
// Each testdata/errors/*.txtar holds in.fw (and files it includes) and
// want.diag; `go test ./check -update` rewrites want.diag.
func TestErrors(t *testing.T) {
	paths, err := filepath.Glob("testdata/errors/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range paths {
		abs, _ := filepath.Abs(path)
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(abs)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			want, haveWant := "", false
			for _, f := range ar.Files {
				if f.Name == "want.diag" {
					want, haveWant = string(f.Data), true
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(dir)
			got, ds := checkDir(t)
			if ds.Count(diag.Error)+ds.Count(diag.Warning) == 0 {
				t.Fatalf("a one-mistake policy produced no diagnostic")
			}
			if *update {
				var files []txtar.File
				for _, f := range ar.Files {
					if f.Name != "want.diag" {
						files = append(files, f)
					}
				}
				ar.Files = append(files, txtar.File{Name: "want.diag", Data: []byte(got)})
				if err := os.WriteFile(abs, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !haveWant {
				t.Fatalf("no want.diag section; run with -update and review it")
			}
			if got != want {
				t.Errorf("diagnostics differ\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}
