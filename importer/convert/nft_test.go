package convert

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/nft"
	"github.com/fwcproject/fwc/internal/testnetns"
)

func importNft(t *testing.T, file string, json bool) ([]byte, *nft.File) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f *nft.File
	if json {
		f, _ = nft.ReadJSON(src, file, nft.Options{})
	} else {
		f, _ = nft.ReadText(src, file, nft.Options{ReadFile: nft.OSFiles})
	}
	out, ds := Convert(Input{Nft: []*nft.File{f}}, Options{})
	if ds.HasErrors() {
		t.Fatalf("import %s: %v", file, ds)
	}
	return out, f
}

// TestNftSameVerdicts: real packets meet the same verdicts in a namespace
// that loaded an nft file with nft -f and in one that loaded fwc's
// translation of its import.
func TestNftSameVerdicts(t *testing.T) {
	testnetns.RequireTools(t, "nft")
	for _, file := range []string{"testdata/nft/constructs.nft", "../nft/testdata/conf/nftables.conf"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, _ := importNft(t, file, false)
			src, _ := os.ReadFile(file)
			twin(t, func(ns string) {
				abs, _ := filepath.Abs(file)
				cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", abs)
				cmd.Dir = filepath.Dir(abs)
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("nft -f %s: %v: %s", file, err, b)
				}
			}, out, string(src))
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
		{"icmpx", "reject with icmpx type host-unreachable", "4:26", "icmpx host-unreachable"},
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
