package golden_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/*/*.txtar")

// backends are the outputs of a translation, by txtar section name, in
// section order, with the backends the checker is told about (as fwc
// translate --to does).
var backends = []struct {
	section string
	check   []string
	emit    func(*ir.Ruleset) ([]byte, diag.Diagnostics)
}{
	{"want.iptables", []string{"iptables"}, restore.IPv4},
	{"want.ip6tables", []string{"ip6tables"}, restore.IPv6},
	{"want.ipset", []string{"iptables", "ip6tables"}, restore.IPSet},
	{"want.nft", []string{"nft"}, nft.Text},
}

// translation is what fwc makes of one policy: the text of each backend
// that succeeded, by section name, and every diagnostic rendered as
// `fwc check` renders it ("" when there are none).
type translation struct {
	out  map[string][]byte
	diag string
}

// translate loads the policy rooted at path (relative to the working
// directory, which fixes the file names in comments and diagnostics), and
// for each backend checks it for that backend, lowers it and emits the
// text. A backend whose check or emitter reports an error has no output.
func translate(t *testing.T, path string) translation {
	t.Helper()
	tr := translation{out: map[string][]byte{}}
	l, ds := lang.Load([]string{path})
	if l == nil || len(l.Units) != 1 {
		t.Fatalf("%s: want one policy, load gave %v", path, ds)
	}
	seen := map[string]bool{}
	add := func(more diag.Diagnostics) {
		for _, d := range more {
			k := d.Code + "\x00" + d.Subject.String() + "\x00" + d.Summary
			if !seen[k] {
				seen[k] = true
				ds = append(ds, d)
			}
		}
	}
	for _, b := range backends {
		prog, cds := check.Check(l.Units[0].Files, check.Options{Backends: b.check})
		add(cds)
		if cds.HasErrors() {
			continue
		}
		rs, lds := ir.Lower(prog)
		add(lds)
		text, bds := b.emit(rs)
		add(bds)
		if !lds.HasErrors() && !bds.HasErrors() {
			tr.out[b.section] = text
		}
	}
	var buf bytes.Buffer
	src := func(name string) []byte { return l.Sources[name] }
	if err := diag.RenderText(&buf, ds, src, diag.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	tr.diag = buf.String()
	return tr
}

// sections returns the want sections of tr in order.
func (tr translation) sections() []txtar.File {
	var fs []txtar.File
	for _, b := range backends {
		if text, ok := tr.out[b.section]; ok {
			fs = append(fs, txtar.File{Name: b.section, Data: text})
		}
	}
	if tr.diag != "" {
		fs = append(fs, txtar.File{Name: "want.diag", Data: []byte(tr.diag)})
	}
	return fs
}

// compare checks got against the want sections of the archive at path, or
// with -update rewrites them, keeping the comment and the input files.
func compare(t *testing.T, path string, ar *txtar.Archive, got []txtar.File) {
	t.Helper()
	if *update {
		var keep []txtar.File
		for _, f := range ar.Files {
			if !strings.HasPrefix(f.Name, "want.") {
				keep = append(keep, f)
			}
		}
		ar.Files = append(keep, got...)
		if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := map[string]string{}
	for _, f := range ar.Files {
		if strings.HasPrefix(f.Name, "want.") {
			want[f.Name] = string(f.Data)
		}
	}
	for _, f := range got {
		w, ok := want[f.Name]
		switch {
		case !ok:
			t.Errorf("%s: no %s section, got:\n%s(run with -update and read it)", path, f.Name, f.Data)
		case w != string(f.Data):
			t.Errorf("%s: %s differs (run with -update and read the diff)\n--- got\n%s--- want\n%s", path, f.Name, f.Data, w)
		}
		delete(want, f.Name)
	}
	for name := range want {
		t.Errorf("%s: section %s is no longer produced", path, name)
	}
}

// TestScenarios translates each testdata/scenarios/*.txtar (in.fw and the
// files it includes) and compares every backend's output and the
// diagnostics with the archive's want sections.
func TestScenarios(t *testing.T) {
	paths, err := filepath.Glob("testdata/scenarios/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, path := range paths {
		abs, _ := filepath.Abs(path)
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(abs)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for _, f := range ar.Files {
				if strings.HasPrefix(f.Name, "want.") {
					continue
				}
				name := filepath.Join(dir, f.Name)
				if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(name, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(dir)
			tr := translate(t, "in.fw")
			if len(tr.out) == 0 {
				t.Errorf("no backend translated the scenario:\n%s", tr.diag)
			}
			compare(t, abs, ar, tr.sections())
		})
	}
}

// examples lists every policy under examples/ (included files are not
// policies of their own) relative to the module root.
func examples(t *testing.T) []string {
	t.Helper()
	l, ds := lang.Load([]string{"examples"})
	if l == nil || ds.HasErrors() || len(l.Units) == 0 {
		t.Fatalf("loading examples/: %v", ds)
	}
	var roots []string
	for _, u := range l.Units {
		roots = append(roots, u.Root)
	}
	return roots
}

// exampleGolden is the archive holding the outputs of an example:
// examples/iptables-only/payload.fw -> iptables-only-payload.txtar.
func exampleGolden(root string) string {
	name := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(root), "examples/"), ".fw")
	return filepath.Join("testdata", "examples", strings.ReplaceAll(name, "/", "-")+".txtar")
}

// moduleRoot changes to the module root so that example paths (and the
// file names in comments) read examples/host.fw, and returns the package
// directory's absolute path.
func moduleRoot(t *testing.T) string {
	t.Helper()
	pkg, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(pkg, "..", ".."))
	return pkg
}

// TestExamples compares the outputs of every examples/**/*.fw with
// testdata/examples/NAME.txtar and checks that translating twice gives the
// same bytes.
func TestExamples(t *testing.T) {
	pkg := moduleRoot(t)
	seen := map[string]bool{}
	for _, root := range examples(t) {
		path := filepath.Join(pkg, exampleGolden(root))
		seen[path] = true
		t.Run(filepath.Base(path), func(t *testing.T) {
			tr := translate(t, root)
			again := translate(t, root)
			for k, v := range tr.out {
				if !bytes.Equal(again.out[k], v) {
					t.Errorf("%s is not deterministic", k)
				}
			}
			ar := &txtar.Archive{Comment: []byte("Outputs of " + filepath.ToSlash(root) + ".\n")}
			if data, err := os.ReadFile(path); err == nil {
				ar = txtar.Parse(data)
			} else if !*update {
				t.Fatalf("no golden file %s: run with -update and read it", path)
			}
			got := tr.sections()
			// The listing is not the translator's output; keep it.
			for _, f := range ar.Files {
				if f.Name == "want.nft.list" {
					got = append(got, f)
				}
			}
			compare(t, path, ar, got)
		})
	}
	stale, _ := filepath.Glob(filepath.Join(pkg, "testdata", "examples", "*.txtar"))
	for _, p := range stale {
		if !seen[p] {
			t.Errorf("%s belongs to no example", p)
		}
	}
}

// requireTools skips (or under FWC_REQUIRE_NETNS=1 fails) without the
// namespace tools and the iptables tools.
func requireTools(t *testing.T) {
	t.Helper()
	testnetns.RequireTools(t, "ipset", "iptables-restore", "ip6tables-restore")
}

// expiry is the countdown nft lists for element timeouts.
var expiry = regexp.MustCompile(` expires [0-9a-z]+`)

// loadAll feeds tr's outputs to the real tools in namespace ns, which it
// leaves empty: ipset restore, then a real
// iptables-restore and ip6tables-restore (which need the sets; --test
// only parses, and the kernel refuses some rules it lets through, such as
// a REJECT --reject-with tcp-reset without -p tcp), then, with the ruleset
// flushed again, nft -c -f and nft -f. It returns nft's listing of the
// loaded ruleset, without element expiry countdowns.
func loadAll(t *testing.T, ns string, tr translation) string {
	t.Helper()
	steps := []struct {
		section string
		argv    []string
	}{
		{"want.ipset", []string{"ipset", "restore"}},
		{"want.iptables", []string{"iptables-restore"}},
		{"want.ip6tables", []string{"ip6tables-restore"}},
		// iptables-nft keeps its tables in the nft ruleset: drop them
		// (and their references to the sets) before loading nft.
		{"", []string{"nft", "flush", "ruleset"}},
		{"want.nft", []string{"nft", "-c", "-f", "-"}},
		{"want.nft", []string{"nft", "-f", "-"}},
	}
	clearAll(t, ns)
	for _, s := range steps {
		text, ok := tr.out[s.section]
		if !ok && s.section != "" {
			continue
		}
		if out, err := testnetns.Feed(ns, text, s.argv...); err != nil {
			t.Errorf("%s < %s: %v\n%s", strings.Join(s.argv, " "), s.section, err, out)
		}
	}
	if _, ok := tr.out["want.nft"]; !ok {
		return ""
	}
	list, err := testnetns.Feed(ns, nil, "nft", "list", "ruleset")
	if err != nil {
		t.Fatalf("nft list ruleset: %v\n%s", err, list)
	}
	clearAll(t, ns)
	return expiry.ReplaceAllString(list, "")
}

// emptyTables is iptables-save text of every table with no rules: restored,
// it removes the rules and user chains a previous load left, whether
// iptables keeps them in the nft ruleset or in the legacy tables.
const emptyTables = "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n" +
	"*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n" +
	"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n" +
	"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n" +
	"*security\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"

// clearAll empties namespace ns: the iptables rules first (a set an
// iptables rule references cannot be destroyed), the nft ruleset, then the
// sets.
func clearAll(t *testing.T, ns string) {
	t.Helper()
	for _, cmd := range []struct {
		stdin string
		argv  []string
	}{
		{emptyTables, []string{"iptables-restore"}},
		{emptyTables, []string{"ip6tables-restore"}},
		{"", []string{"nft", "flush", "ruleset"}},
		{"", []string{"ipset", "destroy"}},
	} {
		if out, err := testnetns.Feed(ns, []byte(cmd.stdin), cmd.argv...); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmd.argv, " "), err, out)
		}
	}
}

// TestKernelAccepts feeds the outputs of every scenario and example to
// the real tools in a throwaway namespace, and compares nft's listing of
// each example's loaded ruleset with its want.nft.list (the round trip:
// what the kernel holds is what fwc meant to load).
//
// Each case has its own namespace, so the cases run in parallel.
func TestKernelAccepts(t *testing.T) {
	requireTools(t)
	pkg := moduleRoot(t)
	for _, root := range examples(t) {
		path := filepath.Join(pkg, exampleGolden(root))
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			ns := testnetns.New(t)
			tr := translate(t, root)
			list := loadAll(t, ns, tr)
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(ar.Files, func(f txtar.File) bool { return f.Name == "want.nft.list" })
			switch {
			case *update:
				if i >= 0 {
					ar.Files = slices.Delete(ar.Files, i, i+1)
				}
				if list != "" {
					ar.Files = append(ar.Files, txtar.File{Name: "want.nft.list", Data: []byte(list)})
				}
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			case i < 0 && list != "":
				t.Errorf("%s: no want.nft.list section; run with -update and read it", path)
			case i >= 0 && string(ar.Files[i].Data) != list:
				t.Errorf("%s: nft list ruleset differs\n--- got\n%s--- want\n%s", path, list, ar.Files[i].Data)
			}
		})
	}
	scen, _ := filepath.Glob(filepath.Join(pkg, "testdata", "scenarios", "*.txtar"))
	for _, path := range scen {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			ns := testnetns.New(t)
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			tr := translation{out: map[string][]byte{}}
			for _, f := range ar.Files {
				if strings.HasPrefix(f.Name, "want.") && f.Name != "want.diag" {
					tr.out[f.Name] = f.Data
				}
			}
			loadAll(t, ns, tr)
		})
	}
}
