package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestLayoutOrder: README's layout table says data flows down the table
// and a package imports only those above it. For every package of the
// module (not its tests), `go list` shows its imports; each must belong to
// a row at or above the package's own. Two rows are not stages of the
// pipeline and are left out: internal/ (test support and safefile, which
// any stage may use) and importer/ (readers of foreign rulesets, which
// only the command line imports).
func TestLayoutOrder(t *testing.T) {
	md, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(md), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no layout section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	// rows[i] are the package folders of row i: `backend/nft/`, `backend/restore/`.
	var rows [][]string
	cell := regexp.MustCompile("`([a-z0-9/]+)/`")
	for _, l := range strings.Split(table, "\n") {
		first, _, ok := strings.Cut(strings.TrimPrefix(l, "| "), " | ")
		if !ok || !strings.HasPrefix(l, "| `") {
			continue
		}
		var dirs []string
		for _, m := range cell.FindAllStringSubmatch(first, -1) {
			dirs = append(dirs, m[1])
		}
		rows = append(rows, dirs)
	}
	const mod = "github.com/fwcproject/fwc/"
	row := func(pkg string) int {
		best, at := -1, -1
		for i, dirs := range rows {
			for _, d := range dirs {
				if (pkg == d || strings.HasPrefix(pkg, d+"/")) && len(d) > best {
					best, at = len(d), i
				}
			}
		}
		return at
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "github.com/fwcproject/fwc/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	exempt := func(pkg string) bool {
		return strings.HasPrefix(pkg, "internal/") || strings.HasPrefix(pkg, "importer/")
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fs := strings.Fields(l)
		pkg := strings.TrimPrefix(fs[0], mod)
		if pkg == fs[0] || exempt(pkg) {
			continue
		}
		at := row(pkg)
		if at < 0 {
			t.Errorf("package %s is in no row of README's layout table", pkg)
			continue
		}
		for _, imp := range fs[1:] {
			dep, ok := strings.CutPrefix(imp, mod)
			if !ok || exempt(dep) {
				continue
			}
			n++
			if r := row(dep); r > at {
				t.Errorf("%s imports %s, which README's layout table puts below it", pkg, dep)
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d imports within the module checked", n)
	}
}
