package convert

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	nftbackend "github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/nft"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestNftSameVerdicts: real packets meet the same verdicts in a namespace
// that loaded an nft file with nft -f and in one that loaded fwc's
// translation of its import.
func TestNftSameVerdicts(t *testing.T) {
	testnetns.RequireTools(t, "nft")
	// The shared corpus's files too, when it is beside the repository:
	// those imported with no error that nft loads alone.
	shared, _ := filepath.Glob("../../../shared/corpus/rulesets/nft/*.nft")
	own, _ := filepath.Glob("testdata/nft/*.nft")
	for _, file := range append(append(own, "../nft/testdata/conf/nftables.conf"), shared...) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, rds := nft.ReadText(src, file, nft.Options{ReadFile: nft.OSFiles})
			out, cds := Convert(Input{Nft: []*nft.File{f}}, Options{})
			if len(rds)+len(cds) > 0 {
				if !strings.Contains(file, "shared/corpus") {
					t.Fatalf("import: %v %v", rds, cds)
				}
				t.Skipf("not imported with no error: %d diagnostics", len(rds)+len(cds))
			}
			probeNS := testnetns.New(t)
			for _, i := range []string{"eth0", "eth1", "eth2", "eth3"} {
				testnetns.Run(t, probeNS, "ip", "link", "add", i, "type", "veth", "peer", "name", "x"+i)
			}
			abs, _ := filepath.Abs(file)
			cmd := exec.Command("ip", "netns", "exec", probeNS, "nft", "-f", abs)
			cmd.Dir = filepath.Dir(abs)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Skipf("nft -f %s does not load alone: %v: %s", file, err, b)
			}
			kinds := twin(t, func(ns string) {
				cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", abs)
				cmd.Dir = filepath.Dir(abs)
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("nft -f %s: %v: %s", file, err, b)
				}
			}, out, string(src))
			if strings.HasSuffix(file, "constructs.nft") && (kinds["dropped"] == 0 || kinds["input"] == 0 || kinds["forward"] == 0 || kinds["sent"] == 0) {
				t.Errorf("the probes do not tell verdicts apart: %v", kinds)
			}
		})
	}
}

// TestNftNotImported: what fwc cannot express is an error at the word of
// the input that names it, and the rule is kept as a comment holding its
// text, where it stood.
func TestNftNotImported(t *testing.T) {
	for _, tc := range []struct {
		name, rule string
		at         string // line:col of the diagnostic in x.nft
		says       string
	}{
		{"queue", "udp dport 1 queue num 3", "4:15", "nft queue"},
		{"nexthdr", "ip6 nexthdr tcp accept", "4:3", "ip6 nexthdr"},
		{"byte limit", "limit rate 1 mbytes/second accept", "4:3", "limit in bytes"},
		{"add to set", "add @s { ip saddr } accept", "4:3", "set filled by the rule"},
		{"after verdict", "accept counter", "4:10", "after a verdict"},
		{"th without proto", "th dport 22 accept", "4:3", "th dport"},
		{"jump nowhere", "jump nowhere", "4:3", "does not have"},
		{"icmpx", "reject with icmpx type no-route", "4:26", "icmpx no-route"},
		{"several flags implicit", "tcp flags syn,ack accept", "4:13", "several flags"},
		{"vmap on mark", "meta mark vmap { 1 : jump c2 }", "4:3", "vmap on a mark"},
		{"log group", "log group 2 accept", "4:7", "log group"},
		{"meter under rate", "meter m { ip saddr limit rate 10/second } accept", "4:3", "under its rate"},
		{"wrong family address", "ip saddr fd00::1 accept", "4:12", "cannot be imported"},
		{"iif index", "iif 3 accept", "4:7", "cannot be written"},
		{"ct status and", "ct status == snat,dnat accept", "4:16", "several"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "table inet t {\n\tset s { type ipv4_addr; flags dynamic; }\n\tchain c { type filter hook input priority 0;\n\t\t" + tc.rule + "\n\t}\n\tchain c2 { accept; }\n}\n"
			src = strings.Replace(src, "\t\t", "  ", 1)
			f, rds := nft.ReadText([]byte(src), "x.nft", nft.Options{})
			if len(rds) > 0 {
				t.Fatalf("reader: %v", rds)
			}
			out, ds := Convert(Input{Nft: []*nft.File{f}}, Options{})
			if len(ds) != 1 || ds[0].Code != CodeNoEquivalent {
				t.Fatalf("diagnostics %v, want one %s", ds, CodeNoEquivalent)
			}
			if got := fmt.Sprintf("%d:%d", ds[0].Subject.Start.Line, ds[0].Subject.Start.Column); got != tc.at || !strings.Contains(ds[0].Summary, tc.says) {
				t.Errorf("%s: %s, want at %s saying %q", got, ds[0].Summary, tc.at, tc.says)
			}
			if want := "# not imported (x.nft:4): " + tc.rule; !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
			if _, errs := checkOutput(t, out); len(errs) > 0 {
				t.Errorf("the output does not check: %v\n%s", errs, out)
			}
		})
	}
}

// TestNftJSONMatchesText: the JSON reader and the text reader make the
// same policy of one ruleset as the kernel lists it (nft -j list ruleset
// and nft list ruleset of testdata/conf, made with nft 1.0.6).
func TestNftJSONMatchesText(t *testing.T) {
	conv := func(file string, json bool) string {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var f *nft.File
		var ds diag.Diagnostics
		if json {
			f, ds = nft.ReadJSON(src, "listed", nft.Options{})
		} else {
			f, ds = nft.ReadText(src, "listed", nft.Options{})
		}
		out, cds := Convert(Input{Nft: []*nft.File{f}}, Options{NoOrigin: true})
		if ds = append(ds, cds...); len(ds) > 0 {
			t.Fatalf("%s: %v", file, ds)
		}
		return string(out)
	}
	text, js := conv("../nft/testdata/listed.nft", false), conv("../nft/testdata/listed.json", true)
	if text != js {
		t.Errorf("the readers differ\n--- text\n%s\n--- json\n%s", text, js)
	}
	if !strings.Contains(text, "meter web per saddr over 20/second burst 40") || !strings.Contains(text, "udp dport 25 drop") {
		t.Errorf("the listing's meter or verdict map is missing:\n%s", text)
	}
}

// nftCorpusFiles are the nft rulesets the figures are taken on: this
// package's and the reader's testdata, and the nft files of the shared
// corpus when it is beside the repository (not copied here: none is under
// a licence compatible with Apache-2.0).
func nftCorpusFiles(t *testing.T) []string {
	files, _ := filepath.Glob("testdata/nft/*.nft")
	more, _ := filepath.Glob("../nft/testdata/conf/nftables.conf")
	shared, _ := filepath.Glob("../../../shared/corpus/rulesets/nft/*.nft")
	files = append(append(files, more...), shared...)
	if len(files) == 0 {
		t.Fatal("no nft files")
	}
	return files
}

// TestNftCorpus imports every nft file: the output must check without
// errors whatever was left out, every rule left out has its diagnostic,
// and the figures are logged (go test ./importer/convert -run
// TestNftCorpus -v).
func TestNftCorpus(t *testing.T) {
	var clean, withDiag, rules, skipped int
	counts := map[string]int{}
	for _, file := range nftCorpusFiles(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, rds := nft.ReadText(src, file, nft.Options{ReadFile: nft.OSFiles})
		out, cds := Convert(Input{Nft: []*nft.File{f}}, Options{})
		if _, errs := checkOutput(t, out); len(errs) > 0 {
			t.Errorf("%s: the imported policy does not check: %v\n%s", file, errs, out)
		}
		n := 0
		for _, tb := range f.Tables {
			for _, c := range tb.Chains {
				n += len(c.Rules)
			}
		}
		left := strings.Count(string(out), "# not imported (")
		errs := 0
		for _, d := range append(rds, cds...) {
			if d.Severity == diag.Error {
				errs++
				k, _, _ := strings.Cut(d.Summary, " \"")
				counts["["+d.Code+"] "+k]++
			}
		}
		if left > 0 && errs == 0 {
			t.Errorf("%s: %d rules left out without an error", file, left)
		}
		if errs > 0 {
			withDiag++
		} else {
			clean++
		}
		rules += n
		skipped += left
		t.Logf("%s: %d rules, %d imported, %d errors", filepath.Base(file), n, n-left, errs)
	}
	var ks []string
	for k := range counts {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	var lines []string
	for _, k := range ks {
		lines = append(lines, fmt.Sprintf("  %4d %s", counts[k], k))
	}
	t.Logf("nft corpus: %d files, %d imported with no error, %d with diagnostics; %d of %d rules imported (%.1f%%)\nerrors, by construct:\n%s",
		clean+withDiag, clean, withDiag, rules-skipped, rules, 100*float64(rules-skipped)/float64(max(rules, 1)), strings.Join(lines, "\n"))
}

// TestIptablesSameVerdicts: real packets meet the same verdicts in a
// namespace that loaded an iptables-save file of the corpus with
// iptables-restore (its ipset file first) and in one that loaded the nft
// translation of its import, for every corpus file imported with no error
// whose original loads alone. Probes are of the file's family: for the
// other one the import says only the chain policies apply.
func TestIptablesSameVerdicts(t *testing.T) {
	testnetns.RequireTools(t, "nft", "iptables-restore", "ip6tables-restore", "ipset")
	n := 0
	for _, file := range corpusFiles(t) {
		im := importFile(t, file)
		if im.convDs.HasErrors() || im.readDs.HasErrors() || oldSyntax[im.name] {
			continue
		}
		t.Run(im.name, func(t *testing.T) {
			orig := bytes.ReplaceAll(im.src, []byte("\r\n"), []byte("\n"))
			// Probe the original alone first: files that do not load
			// alone (ufw's, a host name) are the translation test's
			// skips too.
			probeNS := testnetns.New(t)
			if len(im.sets) > 0 {
				if out, err := testnetns.Feed(probeNS, creates(im.sets), "ipset", "restore"); err != nil {
					t.Fatalf("ipset: %v: %s", err, out)
				}
				t.Cleanup(func() { _, _ = testnetns.Try(probeNS, "ipset", "destroy") })
			}
			load := map[Family]string{IPv4: "iptables-restore", IPv6: "ip6tables-restore"}[im.fam]
			if out, err := testnetns.Feed(probeNS, orig, load); err != nil {
				t.Skipf("the original does not load alone: %v: %s", err, out)
			}
			if rs, errs := checkOutput(t, im.out); len(errs) == 0 {
				if _, ds := nftbackend.Text(rs); ds.HasErrors() {
					t.Skipf("the import has no nft translation: %v", ds)
				}
			}
			twinFamilies(t, func(ns string) {
				if len(im.sets) > 0 {
					if out, err := testnetns.Feed(ns, creates(im.sets), "ipset", "restore"); err != nil {
						t.Fatalf("ipset: %v: %s", err, out)
					}
					t.Cleanup(func() { _, _ = testnetns.Try(ns, "ipset", "destroy") })
				}
				if out, err := testnetns.Feed(ns, orig, load); err != nil {
					t.Fatalf("%s: %v: %s", load, err, out)
				}
			}, im.out, im.fam == IPv4, im.fam == IPv6, string(orig))
			n++
		})
	}
	if n == 0 {
		t.Error("no corpus file was compared")
	}
}
