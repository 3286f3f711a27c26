package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/equiv"
	"github.com/fwcproject/fwc/importer/convert"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

func newDiffCmd(e *env) *cobra.Command {
	var asJSON, live bool
	var netns string
	cmd := &cobra.Command{
		Use:   "diff [--json] OLD NEW | --live [--netns NS] NEW",
		Short: "Show which packets two policies treat differently",
		Long: `Diff compares two policies by what they do to packets, not by their text:
it prints the classes of packets whose fate differs, grouped by address
family and hook, each with a witness packet (written in fwc's match
words, so that it can be handed to fwc trace), the verdict before and
after, NAT and mark changes, and the rules responsible on each side
(file:line). Reordering rules that do not overlap, renaming zones, sets
and chains, merging rules into sets and splitting a rule by family change
nothing and print nothing.

OLD and NEW are policies (a file or a directory, like fwc check takes) or
ruleset files: iptables-save text (rules.v4, rules.v6), nft text (an
nftables.conf, nft list ruleset) or nft JSON (nft -j list ruleset), told
apart by their content as fwc import does and read through its converter.
An iptables-save text speaks of one address family: only that family is
compared. An nft ruleset is all the kernel does: a family it has no table
for is let through.

With --live, OLD is the ruleset the kernel runs now (in network namespace
NS with --netns), read with "nft -j list ruleset" as fwc import --live
reads it, and nothing is changed; its rules are named by their line in
that listing, indented as fwc import --live shows it ("live:NS:42").

Verdicts are compared per hook: a change that moves a drop from the
prerouting hook to the input hook is reported on both hooks. Conditions
fwc cannot model (rate limits, time, meters, sets filled at run time)
are compared by their text: an outcome that depends on one says so
("if limit rate ..."). docs/diff.md describes the method and --json.

Exit status: 0 when the policies are equivalent, 1 when they differ, 2
on errors (a policy with errors included).`,
		Example: `  fwc diff host.fw host-new.fw
  fwc diff --json /etc/fwc/policy.fw policy.fw
  fwc diff rules.v4 host.fw
  fwc diff /etc/nftables.conf host.fw
  fwc diff --live --netns web1 host.fw`,
		Args: func(cmd *cobra.Command, args []string) error {
			live, _ := cmd.Flags().GetBool("live")
			netns, _ := cmd.Flags().GetString("netns")
			switch {
			case netns != "" && !live:
				return usagef("--netns goes with --live")
			case live && len(args) != 1:
				return usagef("diff --live needs NEW only (OLD is the kernel's ruleset)")
			case !live && len(args) != 2:
				return usagef("diff needs OLD and NEW")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			old, nw := rulesetSource{live: true, netns: netns}, rulesetSource{path: args[0]}
			if !live {
				old, nw = rulesetSource{path: args[0]}, rulesetSource{path: args[1]}
			}
			res, sides, err := compareSources(e, old, nw)
			if err != nil {
				return err
			}
			if asJSON {
				err = writeDiffJSON(e.stdout, res, sides)
			} else {
				err = writeDiffText(e.stdout, res, sides)
			}
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if !res.Equivalent() {
				return &exitError{code: exitFindings}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the difference as JSON (see docs/diff.md)")
	cmd.Flags().BoolVar(&live, "live", false, "OLD is the kernel's current ruleset (nft -j list ruleset), read-only")
	cmd.Flags().StringVar(&netns, "netns", "", "with --live: the ruleset of network namespace `NS`")
	addIncludeRootFlag(cmd, e)
	return cmd
}

// compareSides loads OLD and NEW (rendering their diagnostics) and
// compares them.
func compareSides(e *env, oldPath, newPath string) (*equiv.Result, [2]*side, error) {
	return compareSources(e, rulesetSource{path: oldPath}, rulesetSource{path: newPath})
}

func compareSources(e *env, oldSrc, newSrc rulesetSource) (*equiv.Result, [2]*side, error) {
	var sides [2]*side
	var ds diag.Diagnostics
	for i, p := range []rulesetSource{oldSrc, newSrc} {
		s, sds, err := loadSide(e, p)
		ds = append(ds, sds...)
		if err != nil {
			return nil, sides, err
		}
		sides[i] = s
	}
	src := func(name string) []byte {
		for _, s := range sides {
			if s != nil && s.sources[name] != nil {
				return s.sources[name]
			}
		}
		return nil
	}
	if len(ds) > 0 {
		if err := diag.RenderText(e.stderr, ds.Sort(), src, diag.TextOptions{Color: wantColor(e.stderr)}); err != nil {
			return nil, sides, &exitError{code: exitUsage, err: err}
		}
	}
	if ds.HasErrors() || sides[0] == nil || sides[1] == nil {
		return nil, sides, &exitError{code: exitUsage}
	}
	fams := sides[0].families & sides[1].families
	if fams == 0 {
		return nil, sides, usagef("%s holds only %s rules and %s only %s ones: nothing to compare",
			oldSrc, sides[0].families, newSrc, sides[1].families)
	}
	return equiv.Compare(sides[0].prog, sides[1].prog, equiv.Options{Families: fams}), sides, nil
}

// semanticPlan prints, after a plan, the semantic difference from the
// policy applied now, and reports whether there is one.
func semanticPlan(e *env, old, path string) (bool, error) {
	res, sides, err := compareSides(e, old, path)
	if err != nil {
		return false, err
	}
	if res.Equivalent() {
		_, err = fmt.Fprintf(e.stdout, "\nSemantic difference from %s: none, every packet is treated the same.\n", old)
	} else {
		if _, err = fmt.Fprintf(e.stdout, "\nSemantic difference from %s (old -> new):\n", old); err == nil {
			err = writeDiffText(e.stdout, res, sides)
		}
	}
	if err != nil {
		return false, &exitError{code: exitUsage, err: err}
	}
	return !res.Equivalent(), nil
}

// side is one policy of a diff with the text of its files.
type side struct {
	prog *policy.Program
	// families are those the side speaks of: both for a policy, one for
	// an imported iptables-save text. Only those both sides speak of are
	// compared.
	families policy.Family
	sources  map[string][]byte
	// origin maps, for a converted ruleset, each rule's line of the
	// generated source to the "file:line" of the input rule it came from
	// (the comment fwc import writes after each rule).
	origin map[string]map[int]string
	lines  map[string][]string // sources split in lines, made on first use
}

// loadSide reads a policy, or an iptables-save text through the importer.
// Errors reading it are returned; diagnostics of the policy are returned
// for the caller to render (a side with errors is nil).
func loadSide(e *env, from rulesetSource) (*side, diag.Diagnostics, error) {
	ii, main, err := rulesetInput(from)
	if err != nil {
		return nil, nil, err
	}
	if ii != nil {
		s, ds := importSide(ii, main)
		return s, ds, nil
	}
	path := from.path
	l, ds := loadPolicies(e, []string{path})
	s := &side{sources: l.Sources}
	switch {
	case ds.HasErrors():
		return nil, ds, nil
	case len(l.Units) == 0:
		return nil, ds, usagef("%s holds no policy", path)
	case len(l.Units) > 1:
		return nil, ds, usagef("%s holds %d policies (%s); diff takes one on each side", path, len(l.Units), strings.Join(unitRoots(l), ", "))
	}
	prog, cds := compile.Check(l.Units[0].Files, check.Options{NoLint: true})
	ds = append(ds, cds...)
	if ds.HasErrors() {
		return nil, ds, nil
	}
	s.prog, s.families = prog, policy.Both
	return s, ds, nil
}

// importSide converts an imported ruleset (fwc import) and compiles it;
// the rules are named by their place in the input.
func importSide(ii *importInput, main string) (*side, diag.Diagnostics) {
	out, cds := convert.Convert(ii.in, convert.Options{})
	ds := append(append(diag.Diagnostics{}, ii.ds...), cds...)
	if ds.HasErrors() {
		return nil, ds
	}
	name := main + " (imported)"
	file, pds := lang.ParseFile(name, out)
	ds = append(ds, pds...)
	if ds.HasErrors() {
		return nil, ds
	}
	prog, kds := compile.Check([]*ast.File{file}, check.Options{NoLint: true})
	ds = append(ds, kds...)
	if ds.HasErrors() {
		return nil, ds
	}
	sources := map[string][]byte{name: out}
	for n, src := range ii.sources {
		sources[n] = src
	}
	lines := map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, len(out)+1)
	for n := 1; sc.Scan(); n++ {
		if base, line, ok := convert.Origin(sc.Text()); ok {
			lines[n] = originSource(ii.sources, base, main) + ":" + strconv.Itoa(line)
		}
	}
	return &side{prog: prog, families: importedFamilies(ii), sources: sources, origin: map[string]map[int]string{name: lines}}, ds
}

// ruleRef is a rule's place and text, for output.
type ruleRef struct {
	File string `json:"file"`
	Line int    `json:"line"`
	// Text is the source line.
	Text string `json:"text"`
}

func (s *side) ref(r *policy.Rule) ruleRef {
	if r == nil || r.Src == nil {
		return ruleRef{}
	}
	return s.refAt(r.Src.Span())
}

func (s *side) refAt(sp diag.Range) ruleRef {
	ref := ruleRef{File: sp.Filename, Line: sp.Start.Line}
	if o := s.origin[sp.Filename][sp.Start.Line]; o != "" {
		k := strings.LastIndex(o, ":")
		ref.File = o[:k]
		ref.Line, _ = strconv.Atoi(o[k+1:])
	}
	ls := s.fileLines(ref.File)
	if ref.Line >= 1 && ref.Line <= len(ls) {
		ref.Text = strings.TrimSpace(ls[ref.Line-1])
	}
	if isJSONLine(ref.Text) && ref.File != sp.Filename {
		// A line of nft JSON ("rule": {) says nothing: the rule as
		// imported does, without its origin comment.
		if gen := s.fileLines(sp.Filename); sp.Start.Line >= 1 && sp.Start.Line <= len(gen) {
			g := gen[sp.Start.Line-1]
			if k := strings.LastIndex(g, "#"); k >= 0 {
				g = g[:k]
			}
			ref.Text = strings.TrimSpace(g)
		}
	}
	return ref
}

// fileLines is the text of a source split in lines.
func (s *side) fileLines(name string) []string {
	if s.lines == nil {
		s.lines = map[string][]string{}
	}
	ls, ok := s.lines[name]
	if !ok {
		if text := s.sources[name]; text != nil {
			ls = strings.Split(string(text), "\n")
		}
		s.lines[name] = ls
	}
	return ls
}

// outcomeJSON is one side of a difference in --json.
type outcomeJSON struct {
	Verdict string    `json:"verdict"`
	Effects []string  `json:"effects"`
	Guards  []string  `json:"guards"`
	Rules   []ruleRef `json:"rules"`
	// Policy is the chain whose policy decided, when no rule did.
	Policy *policyJSON `json:"policy,omitempty"`
}

type policyJSON struct {
	Chain string `json:"chain"`
	ruleRef
}

func (s *side) outcome(o equiv.Outcome) outcomeJSON {
	j := outcomeJSON{Verdict: o.Verdict, Effects: nonNil(o.Effects), Guards: []string{}, Rules: []ruleRef{}}
	for _, g := range o.Guards {
		j.Guards = append(j.Guards, s.mapGuard(g))
	}
	for _, r := range o.Rules {
		j.Rules = append(j.Rules, s.ref(r))
	}
	if o.Policy != nil {
		p := &policyJSON{Chain: o.Policy.Table.Name + " " + o.Policy.Name}
		if o.Policy.Policy != nil && o.Policy.Policy.Node != nil {
			p.ruleRef = s.refAt(o.Policy.Policy.Node.Span())
		}
		j.Policy = p
	}
	return j
}

// guardAt is the "(file:line)" that ends a guard.
var guardAt = regexp.MustCompile(`\((.+):(\d+)\)$`)

// mapGuard rewrites the place a guard names in a converted ruleset's
// generated source to the input line it came from.
func (s *side) mapGuard(g string) string {
	m := guardAt.FindStringSubmatchIndex(g)
	if m == nil {
		return g
	}
	line, _ := strconv.Atoi(g[m[4]:m[5]])
	if o := s.origin[g[m[2]:m[3]]][line]; o != "" {
		return g[:m[0]] + "(" + o + ")"
	}
	return g
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type diffJSON struct {
	Equivalent  bool        `json:"equivalent"`
	Differences []classJSON `json:"differences"`
}

type classJSON struct {
	Family  string      `json:"family"`
	Hook    string      `json:"hook"`
	Class   string      `json:"class"`
	Witness string      `json:"witness"`
	Old     outcomeJSON `json:"old"`
	New     outcomeJSON `json:"new"`
}

func diffClasses(res *equiv.Result, sides [2]*side) []classJSON {
	out := []classJSON{}
	for _, d := range res.Diffs {
		out = append(out, classJSON{
			Family: d.Family(), Hook: string(d.Hook), Class: d.Describe(),
			Witness: equiv.Words(d.Witness, d.Hook),
			Old:     sides[0].outcome(d.Old), New: sides[1].outcome(d.New),
		})
	}
	return out
}

func writeDiffJSON(w io.Writer, res *equiv.Result, sides [2]*side) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(diffJSON{Equivalent: res.Equivalent(), Differences: diffClasses(res, sides)})
}

// writeDiffText prints the classes, a heading per family and hook.
func writeDiffText(w io.Writer, res *equiv.Result, sides [2]*side) error {
	var b strings.Builder
	group := ""
	for _, c := range diffClasses(res, sides) {
		if g := c.Family + " " + c.Hook; g != group {
			if group != "" {
				b.WriteByte('\n')
			}
			group = g
			fmt.Fprintf(&b, "%s:\n", g)
		}
		fmt.Fprintf(&b, "  %s: %s -> %s\n", c.Class, outcomeText(c.Old), outcomeText(c.New))
		fmt.Fprintf(&b, "    witness: %s\n", c.Witness)
		for i, o := range []outcomeJSON{c.Old, c.New} {
			fmt.Fprintf(&b, "    %s: %s\n", [2]string{"old", "new"}[i], responsible(o))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func outcomeText(o outcomeJSON) string {
	s := o.Verdict
	for _, e := range o.Effects {
		s += ", " + e
	}
	for _, g := range o.Guards {
		s += " " + g
	}
	return s
}

func responsible(o outcomeJSON) string {
	var parts []string
	for _, r := range o.Rules {
		parts = append(parts, refText(r))
	}
	if o.Policy != nil {
		t := "policy of chain " + o.Policy.Chain
		if o.Policy.File != "" {
			t += " (" + refText(o.Policy.ruleRef) + ")"
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "no rule: every chain of the hook let it through"
	}
	return strings.Join(parts, "; ")
}

func refText(r ruleRef) string {
	s := fmt.Sprintf("%s:%d", r.File, r.Line)
	if r.Text != "" {
		s += " " + r.Text
	}
	return s
}
