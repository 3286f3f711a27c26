package convert

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/ipset"
	"github.com/fwcproject/fwc/importer/iptables"
	"github.com/fwcproject/fwc/internal/fuzzutil"
	"github.com/fwcproject/fwc/lang"
)

// setsSep separates the iptables-save text of a fuzz input from the ipset
// save text after it.
var setsSep = []byte("\n=====\n")

// FuzzConvert: whatever the readers make of an input, converting it never
// panics or hangs, and gives fwc source that parses and checks without
// errors unless the converter (or a reader) reported an error itself: what
// the importer cannot express is a diagnostic, never a broken policy.
func FuzzConvert(f *testing.F) {
	fuzzutil.AddFiles(f, "../iptables/testdata/corpus/*/*", "../iptables/testdata/made/*.v4")
	if sets, err := os.ReadFile("../ipset/testdata/kernel-made.ipset"); err == nil {
		f.Add(append([]byte(filter("-A INPUT -m set --match-set allow4 src -j ACCEPT")), append(setsSep, sets...)...))
	}
	f.Add([]byte(filter("-A INPUT -p tcp -m multiport --dports 22,80:90 -m conntrack ! --ctstate NEW,SNAT -j web",
		"-A web -m mark --mark 0x1/0x3 -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff")))
	f.Add([]byte("*nat\n:PREROUTING ACCEPT\n-A PREROUTING -p udp -j DNAT --to-destination 10.0.0.1:53\nCOMMIT\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		stop := fuzzutil.Deadline(10e9, "convert.Convert", src)
		defer stop()
		rules, sets, _ := bytes.Cut(src, setsSep)
		fam := IPv4
		if Detect(rules) == Ip6tables {
			fam = IPv6
		}
		fl, ds := iptables.ReadBytes(rules, "fuzz.v4", iptables.Options{MaxLine: 4096})
		in := Input{Rulesets: []Ruleset{{File: fl, Src: rules, Family: fam}}}
		if len(sets) > 0 {
			sf, sds := ipset.ReadBytes(sets, "fuzz.ipset", ipset.Options{MaxLine: 4096})
			ds = append(ds, sds...)
			in.Sets = append(in.Sets, sf)
		}
		out, cds := Convert(in, Options{})
		for _, d := range cds {
			if d.Code == CodeInternal {
				t.Fatalf("the output does not parse: %s\n--- input\n%q\n--- output\n%s", d.Detail, src, out)
			}
			if d.Subject.Filename != "fuzz.v4" && d.Subject.Filename != "fuzz.ipset" || d.Subject.Start.Line == 0 {
				t.Fatalf("diagnostic without a place in the input: %v\n--- input\n%q", d, src)
			}
		}
		file, pds := lang.ParseFile("import.fw", out)
		if pds.HasErrors() {
			t.Fatalf("the output does not parse: %v\n%s", pds, out)
		}
		if ds.HasErrors() || cds.HasErrors() {
			return
		}
		_, kds := check.Check([]*ast.File{file}, check.Options{NoLint: true})
		var errs []string
		for _, d := range kds {
			if d.Severity == diag.Error {
				errs = append(errs, d.Error())
			}
		}
		if len(errs) > 0 {
			t.Fatalf("imported without a diagnostic, but the policy does not check:\n%s\n--- input\n%q\n--- output\n%s", strings.Join(errs, "\n"), src, out)
		}
	})
}
