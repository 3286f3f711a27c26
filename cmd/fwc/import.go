package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/convert"
	"github.com/fwcproject/fwc/importer/ipset"
	"github.com/fwcproject/fwc/importer/iptables"
)

// maxImportInput bounds the size of one input file: the readers stream, but
// the converter keeps the text to quote the lines it cannot import.
const maxImportInput = 256 << 20

func newImportCmd(e *env) *cobra.Command {
	var from, outFile string
	var noOrigin bool
	cmd := &cobra.Command{
		Use:   "import [--from iptables|ip6tables|ipset] [-o FILE] [--no-origin] FILE...",
		Short: "Convert iptables-save and ipset save text to an fwc policy",
		Long: `Import reads the rulesets a host runs today and writes one fwc policy, in
fmt layout, on standard output (or to -o FILE):

  iptables-save and ip6tables-save text (any version; counters, CRLF line
  ends and "-I" lines are fine): tables become fwc tables, chains fwc chains
  in the same order, rules fwc rules, "-m comment" a comment above the rule;
  ipset save text: sets of addresses, networks and ports become typed sets.

The format of each file is told by its content (--from sets it for every
file). Give rules.v4 and rules.v6 together to get one dual-stack policy:
where the two files' chains correspond rule for rule, a pair of identical
rules becomes one rule for both families; every other rule says its family.
Each rule ends with the place it came from ("# rules.v4:42") unless
--no-origin.

What fwc cannot express (-m u32, -m recent, -j TCPMSS, ...) is reported at
its place in the input, the rule is written as a comment holding the
original line, and the exit status is 1: nothing is dropped silently.
docs/import.md lists what is imported.

Exit status: 0 when everything was imported exactly, 1 when something could
not be (the policy is still written) or an input has errors, 2 for usage or
I/O problems.`,
		Example: `  fwc import /etc/iptables/rules.v4
  fwc import -o host.fw rules.v4 rules.v6 ipsets
  fwc import --from ip6tables --no-origin ufw-before6.rules
  iptables-save > now.v4 && fwc import now.v4 && fwc check host.fw`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			var force convert.Format
			switch from {
			case "":
			case "iptables":
				force = convert.Iptables
			case "ip6tables":
				force = convert.Ip6tables
			case "ipset":
				force = convert.Ipset
			default:
				return usagef("--from takes iptables, ip6tables or ipset, not %q", from)
			}
			return runImport(e, files, force, outFile, noOrigin)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "read every file as `FORMAT`: iptables, ip6tables or ipset (default: by content)")
	cmd.Flags().StringVarP(&outFile, "output", "o", "", "write the policy to `FILE` instead of standard output")
	cmd.Flags().BoolVar(&noOrigin, "no-origin", false, "leave out the \"# FILE:LINE\" comment after each rule")
	return cmd
}

func readImportFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxImportInput+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxImportInput {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, maxImportInput>>20)
	}
	return b, nil
}

func runImport(e *env, files []string, force convert.Format, outFile string, noOrigin bool) error {
	var in convert.Input
	var ds diag.Diagnostics
	sources := map[string][]byte{}
	var byFamily [2]string
	for _, name := range files {
		src, err := readImportFile(name)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		sources[name] = src
		kind := force
		if kind == convert.Unknown {
			kind = convert.Detect(src)
		}
		switch kind {
		case convert.Iptables, convert.Ip6tables:
			fam := convert.IPv4
			if kind == convert.Ip6tables {
				fam = convert.IPv6
			}
			if byFamily[fam] != "" {
				return usagef("%s and %s are both %s rulesets; give one of each family", byFamily[fam], name, kind)
			}
			byFamily[fam] = name
			f, rds := iptables.ReadBytes(src, name, iptables.Options{})
			ds = append(ds, rds...)
			in.Rulesets = append(in.Rulesets, convert.Ruleset{File: f, Src: src, Family: fam})
		case convert.Ipset:
			f, rds := ipset.ReadBytes(src, name, ipset.Options{})
			ds = append(ds, rds...)
			in.Sets = append(in.Sets, f)
		default:
			return usagef("cannot tell what %s holds (no \"*table\" line, no ipset create line); name it with --from", name)
		}
	}
	out, cds := convert.Convert(in, convert.Options{NoOrigin: noOrigin})
	ds = append(ds, cds...)
	if len(ds) > 0 {
		src := func(name string) []byte { return sources[name] }
		if err := diag.RenderText(e.stderr, ds.Sort(), src, diag.TextOptions{Color: wantColor(e.stderr)}); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
	}
	if outFile != "" {
		if err := writeOutputs([]string{outFile}, [][]byte{out}); err != nil {
			return err
		}
	} else if _, err := e.stdout.Write(out); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if ds.HasErrors() {
		return findings
	}
	return nil
}
