package convert

import (
	"bytes"
	"fmt"
	"github.com/fwcproject/fwc/importer/internal/corpus"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/ipset"
	"github.com/fwcproject/fwc/importer/iptables"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
)

// corpusFiles are the corpus files and what the corpus lacks: a ruleset
// with every construct the converter knows.
func corpusFiles(t testing.TB) []string { return corpus.Files(t, "testdata/constructs.v4") }

func ipsetPath(name string) string {
	for _, dir := range []string{"../ipset/testdata", "../../../shared/corpus/rulesets/ipset"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return filepath.Join(dir, name)
		}
	}
	return ""
}

// imported is one corpus file read and converted.
type imported struct {
	name    string
	fam     Family
	src     []byte
	sets    []byte // the ipset file, if the ruleset needs one
	out     []byte
	readDs  diag.Diagnostics
	convDs  diag.Diagnostics
	rules   int // rules in the input
	skipped int // rules written as comments
}

func importFile(t testing.TB, file string) *imported {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	im := &imported{name: filepath.Base(file), src: src}
	kind := Detect(src)
	if want := map[bool]Format{false: Iptables, true: Ip6tables}[strings.Contains(file, "ip6tables")]; kind != want {
		t.Errorf("%s: detected as %s, want %s", file, kind, want)
	}
	im.fam = map[Format]Family{Iptables: IPv4, Ip6tables: IPv6}[kind]
	f, ds := iptables.ReadBytes(src, im.name, iptables.Options{})
	im.readDs = ds
	in := Input{Rulesets: []Ruleset{{File: f, Src: src, Family: im.fam}}}
	if s, ok := corpus.IpsetFor[im.name]; ok {
		if p := ipsetPath(s); p != "" {
			im.sets, _ = os.ReadFile(p)
			sf, sds := ipset.ReadBytes(im.sets, s, ipset.Options{})
			im.readDs = append(im.readDs, sds...)
			in.Sets = append(in.Sets, sf)
		}
	}
	for _, tb := range f.Tables {
		if !tb.Replaced {
			for _, c := range tb.Chains {
				im.rules += len(c.Rules)
			}
		}
	}
	im.out, im.convDs = Convert(in, Options{})
	im.skipped = bytes.Count(im.out, []byte("# not imported ("))
	return im
}

// checkOutput parses and checks an imported policy, lint passes included,
// and returns its errors.
func checkOutput(t testing.TB, out []byte) (*ir.Ruleset, diag.Diagnostics) {
	t.Helper()
	f, ds := lang.ParseFile("import.fw", out)
	if ds.HasErrors() {
		return nil, ds
	}
	prog, cds := check.Check([]*ast.File{f}, check.Options{})
	var errs diag.Diagnostics
	for _, d := range cds {
		if d.Severity == diag.Error {
			errs = append(errs, d)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	rs, lds := ir.Lower(prog)
	if lds.HasErrors() {
		return nil, lds
	}
	return rs, nil
}

// TestCorpus imports every corpus file: the output must parse and check
// without errors whether or not some rules could not be imported, every
// rule left out must have its diagnostic, and the figures are logged
// (go test ./importer/convert -run TestCorpus -v).
func TestCorpus(t *testing.T) {
	var clean, withDiag, rules, skipped int
	counts := map[string]int{}
	for _, file := range corpusFiles(t) {
		im := importFile(t, file)
		if _, errs := checkOutput(t, im.out); len(errs) > 0 {
			t.Errorf("%s: the imported policy does not check: %v\n%s", im.name, errs, im.out)
		}
		errs := 0
		for _, d := range im.convDs {
			if d.Severity == diag.Error {
				errs++
				// What fwc lacks, by construct: the summary up to its
				// first quoted value.
				k, _, _ := strings.Cut(d.Summary, " \"")
				counts[k]++
			}
		}
		if errs < im.skipped {
			t.Errorf("%s: %d rules left out, %d errors", im.name, im.skipped, errs)
		}
		if im.convDs.HasErrors() || im.readDs.HasErrors() {
			withDiag++
		} else {
			clean++
		}
		rules += im.rules
		skipped += im.skipped
	}
	var ks []string
	for k := range counts {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		return counts[ks[i]] > counts[ks[j]] || counts[ks[i]] == counts[ks[j]] && ks[i] < ks[j]
	})
	var lines []string
	for _, k := range ks {
		lines = append(lines, fmt.Sprintf("  %4d %s", counts[k], k))
	}
	t.Logf("corpus: %d files, %d imported with no error, %d with diagnostics; %d of %d rules imported (%.1f%%)\nnot imported, by construct:\n%s",
		clean+withDiag, clean, withDiag, rules-skipped, rules, 100*float64(rules-skipped)/float64(max(rules, 1)), strings.Join(lines, "\n"))
}

// canon is an iptables-save listing in a form where two rulesets the kernel
// runs the same way compare equal: counters and comments dropped (fwc writes
// its own comments, the importer keeps the original ones in the policy),
// chains and tables in name order, a table with nothing in it left out
// (iptables-restore makes a table only when the input names it; fwc writes
// those it has rules for), an empty user chain nothing jumps to, and in a
// rule the pure matches in a sorted order. The state match is written as conntrack, whose --ctstate is the
// same test of the same connection field, a multiport of one port as
// the protocol's own --dport/--sport, and a match that tests nothing more
// than -p ("-p tcp -m tcp", "-p icmp -m icmp --icmp-type any") is left out.
func canon(t testing.TB, save string) string {
	t.Helper()
	f, ds := iptables.ReadBytes([]byte(save), "save", iptables.Options{})
	if ds.HasErrors() {
		t.Fatalf("reading a save: %v\n%s", ds, save)
	}
	var tables []string
	for _, tb := range f.Tables {
		var chains []string
		empty := true
		jumped := map[string]bool{}
		for _, c := range tb.Chains {
			for _, r := range c.Rules {
				if r.Target != nil {
					jumped[r.Target.Name] = true
				}
			}
		}
		for _, c := range tb.Chains {
			if !c.Declared || !c.Builtin && len(c.Rules) == 0 && !jumped[c.Name] {
				// An empty user chain nothing jumps to runs nothing: a
				// dual-stack policy has the chains of both files in each
				// family's translation.
				continue
			}
			if !c.Builtin || c.Policy != "ACCEPT" || len(c.Rules) > 0 {
				empty = false
			}
			var b strings.Builder
			fmt.Fprintf(&b, ":%s %s\n", c.Name, c.Policy)
			for _, r := range c.Rules {
				b.WriteString(canonRule(r) + "\n")
			}
			chains = append(chains, b.String())
		}
		if empty {
			continue
		}
		slices.Sort(chains)
		tables = append(tables, "*"+tb.Name+"\n"+strings.Join(chains, ""))
	}
	slices.Sort(tables)
	return strings.Join(tables, "")
}

func canonOpt(o *iptables.Option) string {
	s := o.Name
	if o.Negated {
		s = "! " + s
	}
	for _, v := range o.Values {
		s += " " + v.Text
	}
	return s
}

func canonRule(r *iptables.Rule) string {
	var parts []string
	for _, o := range []*iptables.Option{r.Protocol, r.Source, r.Destination, r.InIface, r.OutIface, r.Fragment} {
		if o != nil {
			parts = append(parts, canonOpt(o))
		}
	}
	var ms []string // in the rule's order
	for _, m := range r.Matches {
		name := m.Name
		var opts []string
		for _, o := range m.Options {
			c := *o
			switch {
			case name == "state" && o.Name == "--state":
				c.Name = "--ctstate"
			case name == "multiport" && len(o.Values) == 1 && !strings.Contains(o.Value(), ","):
				c.Name = strings.TrimSuffix(o.Name, "s")
			}
			opts = append(opts, canonOpt(&c))
		}
		switch {
		case name == "comment":
			continue
		case len(opts) == 0 && r.Protocol != nil && name == r.Protocol.Value():
			// "-p tcp -m tcp" with no option tests what -p tests.
			continue
		case name == "icmp" && len(opts) == 1 && opts[0] == "--icmp-type any":
			// Every icmp type: what -p icmp tests.
			continue
		}
		switch name {
		case "state":
			name = "conntrack"
		case "multiport":
			if len(opts) == 1 && !strings.Contains(opts[0], ",") && r.Protocol != nil {
				name = r.Protocol.Value()
			}
		}
		ms = append(ms, "-m "+name+" "+strings.Join(opts, " "))
	}
	// fwc writes the days and the hours of a time match as two matches,
	// which hold together exactly when one match with both options holds.
	var times []string
	for i := 0; i < len(ms); i++ {
		if rest, ok := strings.CutPrefix(ms[i], "-m time "); ok {
			times = append(times, strings.Split(rest, " --")...)
			ms = append(ms[:i], ms[i+1:]...)
			i--
		}
	}
	if len(times) > 0 {
		for i := range times {
			times[i] = "--" + strings.TrimPrefix(times[i], "--")
		}
		slices.Sort(times)
		// Both print the default --datestop (the end of 32-bit time).
		times = slices.Compact(times)
		ms = append(ms, "-m time "+strings.Join(times, " "))
	}
	// fwc writes "ct state != related ct status != dnat" as two negated
	// --ctstate tests; the kernel tests a bit mask, so two negated lists
	// hold together exactly when the negated union does.
	var negStates []string
	for i := 0; i < len(ms); i++ {
		if rest, ok := strings.CutPrefix(ms[i], "-m conntrack ! --ctstate "); ok && !strings.Contains(rest, " ") {
			negStates = append(negStates, strings.Split(rest, ",")...)
			ms = append(ms[:i], ms[i+1:]...)
			i--
		}
	}
	if len(negStates) > 0 {
		slices.Sort(negStates)
		ms = append(ms, "-m conntrack ! --ctstate "+strings.Join(negStates, ","))
	}
	// Pure matches are tests: their order does not change what the rule
	// matches, so they are sorted. A stateful match (a limit's tokens, a
	// random draw) changes state only for the packets that reach it, so it
	// keeps its place: it is written with the number of pure matches
	// before it.
	var pure, stateful []string
	for _, m := range ms {
		name, _, _ := strings.Cut(strings.TrimPrefix(m, "-m "), " ")
		switch name {
		case "limit", "hashlimit", "connlimit", "statistic", "recent":
			stateful = append(stateful, fmt.Sprintf("%s@%d", m, len(pure)))
		default:
			pure = append(pure, m)
		}
	}
	slices.Sort(pure)
	parts = append(append(parts, pure...), stateful...)
	if r.Target != nil {
		j := "-j "
		if r.Target.Goto {
			j = "-g "
		}
		s := j + r.Target.Name
		if r.Target.Name == "NOTRACK" {
			// The kernel's NOTRACK target is CT --notrack under its
			// old name (xt_CT registers both).
			s = "-j CT --notrack"
		}
		for _, o := range r.Target.Options {
			s += " " + canonOpt(o)
		}
		parts = append(parts, s)
	}
	return "-A " + r.Chain + " " + strings.Join(parts, " ")
}

// creates keeps the create lines of an ipset save text: the rules need
// the sets, and the kernel rejects some members of the corpus's sets (a
// 0.0.0.0/0 in a hash:net,port).
func creates(b []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("create ")) {
			out = append(append(out, bytes.TrimSuffix(l, []byte("\r"))...), '\n')
		}
	}
	return out
}

// oldSyntax are files in a syntax older than the installed iptables takes.
var oldSyntax = map[string]bool{"v1.3.5-rhel5.v4": true}

// loadSave loads ipsets and rules in a fresh namespace and returns what
// iptables-save (or ip6tables-save) prints, or the loader's error.
func loadSave(t *testing.T, rules, sets []byte, fam Family) (string, error) {
	ns := testnetns.New(t)
	if len(sets) > 0 {
		if out, err := testnetns.Feed(ns, sets, "ipset", "restore"); err != nil {
			return out, fmt.Errorf("ipset restore: %v", err)
		}
		t.Cleanup(func() { _, _ = testnetns.Try(ns, "ipset", "destroy") })
	}
	load, save := "iptables-restore", "iptables-save"
	if fam == IPv6 {
		load, save = "ip6tables-restore", "ip6tables-save"
	}
	if out, err := testnetns.Feed(ns, rules, load); err != nil {
		return out, err
	}
	return testnetns.Run(t, ns, save), nil
}

// TestTranslationMatchesKernel validates the translation: each corpus file
// that imports with no error is loaded for real in one namespace, the
// imported policy's `fwc translate --to iptables` (or ip6tables, with its
// ipset text) in another, and the two iptables-save listings must be the
// same ruleset (canon says what is set aside). The figures are logged
// (go test ./importer/convert -run TestTranslationMatchesKernel -v).
func TestTranslationMatchesKernel(t *testing.T) {
	testnetns.RequireTools(t, "iptables-restore", "ip6tables-restore", "iptables-save", "ip6tables-save", "ipset")
	var clean, same int
	var notLoadable []string
	for _, file := range corpusFiles(t) {
		im := importFile(t, file)
		if im.convDs.HasErrors() || im.readDs.HasErrors() {
			continue
		}
		clean++
		t.Run(im.name, func(t *testing.T) {
			rs, errs := checkOutput(t, im.out)
			if len(errs) > 0 {
				t.Fatalf("the imported policy does not check: %v", errs)
			}
			// Rule by rule: the listings are compared line by line, and
			// translate's lookups (several rules in one ipset) would
			// differ from the file in form, not in meaning.
			byRule := restore.Options{RuleByRule: true}
			emit := byRule.IPv4
			if im.fam == IPv6 {
				emit = byRule.IPv6
			}
			text, ds := emit(rs)
			if ds.HasErrors() {
				t.Fatalf("translate: %v", ds)
			}
			sets, ds := byRule.IPSet(rs)
			if ds.HasErrors() {
				t.Fatalf("translate --to ipset: %v", ds)
			}
			// iptables-restore reads a CR as part of the last word.
			orig := bytes.ReplaceAll(im.src, []byte("\r\n"), []byte("\n"))
			want, err := loadSave(t, orig, creates(im.sets), im.fam)
			if err != nil && oldSyntax[im.name] {
				// Written for an iptables older than the one installed,
				// which rejects its syntax: load the model as the
				// reader prints it instead (in the current syntax; the
				// reader's TestRoundTripKernel proves that loses nothing).
				f, _ := iptables.ReadBytes(im.src, im.name, iptables.Options{})
				var printed bytes.Buffer
				if err := iptables.Print(&printed, f, iptables.PrintOptions{}); err != nil {
					t.Fatal(err)
				}
				want, err = loadSave(t, printed.Bytes(), creates(im.sets), im.fam)
			}
			if err != nil {
				// The same files the reader's round trip lists: not
				// loadable on their own (ufw's, a host name).
				notLoadable = append(notLoadable, im.name)
				t.Skipf("the original does not load alone: %v\n%s", err, want)
			}
			got, err := loadSave(t, text, sets, im.fam)
			if err != nil {
				t.Fatalf("the translation does not load: %v\n%s\n%s", err, got, text)
			}
			if cw, cg := canon(t, want), canon(t, got); cw != cg {
				t.Fatalf("the rulesets differ\n--- original, loaded and saved\n%s\n--- imported and translated, loaded and saved\n%s\n--- the policy\n%s", cw, cg, im.out)
			}
			same++
		})
	}
	t.Logf("validated: %d of %d files imported with no error load to the same ruleset (%d do not load alone: %v)",
		same, clean, len(notLoadable), notLoadable)
}

// corpusPairs are rules.v4 and rules.v6 of one host in the corpus, and
// whether some of their chains correspond rule for rule, so that rules fold.
var corpusPairs = []struct {
	v4, v6 string
	folds  bool
}{
	{"zerotier-v4.v4", "zerotier-v6.v6", true},
	{"ds82-server-f2b.v4", "ds82-server-v6.v6", false},
}

// TestPairsMatchKernel validates dual-stack imports: a host's rules.v4 and
// rules.v6 imported together (folding the rules that are the same) must
// translate back to what each file loads as, family by family.
func TestPairsMatchKernel(t *testing.T) {
	testnetns.RequireTools(t, "iptables-restore", "ip6tables-restore", "iptables-save", "ip6tables-save")
	paths := map[string]string{}
	for _, f := range corpusFiles(t) {
		paths[filepath.Base(f)] = f
	}
	ran := 0
	for _, pair := range corpusPairs {
		pair, folds := [2]string{pair.v4, pair.v6}, pair.folds
		if paths[pair[0]] == "" || paths[pair[1]] == "" {
			continue // in the shared corpus only, which is not here
		}
		ran++
		t.Run(pair[0], func(t *testing.T) {
			var in Input
			var srcs [2][]byte
			for i, name := range pair {
				src, err := os.ReadFile(paths[name])
				if err != nil {
					t.Fatal(err)
				}
				srcs[i] = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
				f, _ := iptables.ReadBytes(src, name, iptables.Options{})
				in.Rulesets = append(in.Rulesets, Ruleset{File: f, Src: src, Family: Family(i)})
			}
			out, ds := Convert(in, Options{})
			if ds.HasErrors() {
				t.Fatalf("import: %v", ds)
			}
			if folds != bytes.Contains(out, []byte(", "+pair[1]+":")) {
				t.Errorf("folded rules: %v, want %v:\n%s", !folds, folds, out)
			}
			rs, errs := checkOutput(t, out)
			if len(errs) > 0 {
				t.Fatalf("the imported policy does not check: %v\n%s", errs, out)
			}
			byRule := restore.Options{RuleByRule: true} // compared line by line, as above
			for i, emit := range []func(*ir.Ruleset) ([]byte, diag.Diagnostics){byRule.IPv4, byRule.IPv6} {
				text, ds := emit(rs)
				if ds.HasErrors() {
					t.Fatal(ds)
				}
				want, err := loadSave(t, srcs[i], nil, Family(i))
				if err != nil {
					t.Fatalf("%s does not load: %v\n%s", pair[i], err, want)
				}
				got, err := loadSave(t, text, nil, Family(i))
				if err != nil {
					t.Fatalf("the translation does not load: %v\n%s\n%s", err, got, text)
				}
				if cw, cg := canon(t, want), canon(t, got); cw != cg {
					t.Errorf("%s: the rulesets differ\n--- original\n%s\n--- imported and translated\n%s\n--- the policy\n%s", pair[i], cw, cg, out)
				}
			}
		})
	}
	if ran == 0 {
		t.Fatal("no pair of the corpus is here")
	}
}
