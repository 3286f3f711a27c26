// Package corpus lists the real iptables-save rulesets the importer's tests
// read: the copies kept in importer/iptables/testdata (with their
// attribution) and, when the shared corpus sits beside the repository, its
// files not copied here.
package corpus

import (
	"path/filepath"
	"slices"
	"testing"
)

// Files returns the corpus files as paths relative to the calling test's
// package (which must be a directory of importer/, two levels below the
// repository root), plus extra, deduplicated by file name with the
// repository's copies first, sorted. A test with no files fails.
func Files(t testing.TB, extra ...string) []string {
	t.Helper()
	files, _ := filepath.Glob("../iptables/testdata/corpus/ip*tables/*")
	made, _ := filepath.Glob("../iptables/testdata/made/*.v4")
	files = append(append(files, made...), extra...)
	seen := map[string]bool{}
	for _, f := range files {
		seen[filepath.Base(f)] = true
	}
	shared, _ := filepath.Glob("../../../shared/corpus/rulesets/ip*tables/*")
	for _, f := range shared {
		if !seen[filepath.Base(f)] {
			files = append(files, f)
			seen[filepath.Base(f)] = true
		}
	}
	if len(files) == 0 {
		t.Fatal("no corpus files")
	}
	slices.Sort(files)
	return files
}

// IpsetFor names the ipset save file whose sets a corpus ruleset matches
// with -m set; loading it first is what makes the ruleset load.
var IpsetFor = map[string]string{
	"ipset-all-tables.v4": "echo-system-sets.ipset",
	"ipset-tor-ban.conf":  "tor-ban-sets.ipset",
}
