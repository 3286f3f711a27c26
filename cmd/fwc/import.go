package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/convert"
	"github.com/fwcproject/fwc/importer/ipset"
	"github.com/fwcproject/fwc/importer/iptables"
	"github.com/fwcproject/fwc/importer/nft"
)

// maxImportInput bounds the size of one input file: the readers stream, but
// the converter keeps the text to quote the lines it cannot import.
const maxImportInput = 256 << 20

var importFormats = map[string]convert.Format{
	"iptables": convert.Iptables, "ip6tables": convert.Ip6tables, "ipset": convert.Ipset,
	"nft": convert.Nft, "nft-json": convert.NftJSON,
}

func parseFrom(from string) (convert.Format, error) {
	if from == "" {
		return convert.Unknown, nil
	}
	f, ok := importFormats[from]
	if !ok {
		return 0, usagef("--from takes iptables, ip6tables, ipset, nft or nft-json, not %q", from)
	}
	return f, nil
}

func newImportCmd(e *env) *cobra.Command {
	var from, outFile, netns string
	var noOrigin, live bool
	cmd := &cobra.Command{
		Use:   "import [--from FORMAT] [-o FILE] [--no-origin] FILE... | --live [--netns NS]",
		Short: "Convert iptables, ipset and nft rulesets to an fwc policy",
		Long: `Import reads the rulesets a host runs today and writes one fwc policy, in
fmt layout, on standard output (or to -o FILE):

  iptables-save and ip6tables-save text (any version; counters, CRLF line
  ends and "-I" lines are fine): tables become fwc tables, chains fwc chains
  in the same order, rules fwc rules, "-m comment" a comment above the rule;
  ipset save text: sets of addresses, networks and ports become typed sets;
  nft text (nft list ruleset, or an nftables.conf with flush ruleset,
  define and include) and nft JSON (nft -j list ruleset): base chains go to
  the fwc table their type and priority say, sets to typed sets, verdict
  maps to one rule per element.

The format of each file is told by its content (--from sets it for every
file: iptables, ip6tables, ipset, nft or nft-json). Give rules.v4 and
rules.v6 together to get one dual-stack policy: where the two files' chains
correspond rule for rule, a pair of identical rules becomes one rule for
both families; every other rule says its family. Each rule ends with the
place it came from ("# rules.v4:42") unless --no-origin.

--live reads the ruleset the kernel runs now, with "nft -j list ruleset"
(in network namespace NS with --netns), tables of other tools included. It
only reads.

What fwc cannot express (-m u32, -m recent, -j TCPMSS, nft queue, ...) is
reported at its place in the input, the rule is written as a comment
holding the original text, and the exit status is 1: nothing is dropped
silently. docs/import.md lists what is imported.

Exit status: 0 when everything was imported exactly, 1 when something could
not be (the policy is still written) or an input has errors, 2 for usage or
I/O problems.`,
		Example: `  fwc import /etc/iptables/rules.v4
  fwc import -o host.fw rules.v4 rules.v6 ipsets
  fwc import /etc/nftables.conf
  fwc import --live --netns web1
  fwc import --from ip6tables --no-origin ufw-before6.rules`,
		RunE: func(cmd *cobra.Command, files []string) error {
			force, err := parseFrom(from)
			if err != nil {
				return err
			}
			switch {
			case live && len(files) > 0:
				return usagef("--live reads the kernel's ruleset: give no FILE")
			case !live && len(files) == 0:
				return usagef("import needs a FILE or --live")
			case netns != "" && !live:
				return usagef("--netns goes with --live")
			}
			var in *importInput
			if live {
				in, err = readLive(netns)
			} else {
				in, err = readImportInputs(files, force)
			}
			if err != nil {
				return err
			}
			return runImport(e, in, outFile, noOrigin)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "read every file as `FORMAT`: iptables, ip6tables, ipset, nft or nft-json (default: by content)")
	cmd.Flags().StringVarP(&outFile, "output", "o", "", "write the policy to `FILE` instead of standard output")
	cmd.Flags().BoolVar(&noOrigin, "no-origin", false, "leave out the \"# FILE:LINE\" comment after each rule")
	cmd.Flags().BoolVar(&live, "live", false, "read the kernel's current ruleset (nft -j list ruleset), read-only")
	cmd.Flags().StringVar(&netns, "netns", "", "with --live: read the ruleset of network namespace `NS`")
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

// importInput is what the readers made of the inputs, with their
// diagnostics and the text of every file read (for rendering).
type importInput struct {
	in      convert.Input
	ds      diag.Diagnostics
	sources map[string][]byte
}

func (ii *importInput) source(name string) []byte { return ii.sources[name] }

// readImportInputs reads each file in its format (told by content unless
// force says).
func readImportInputs(files []string, force convert.Format) (*importInput, error) {
	ii := &importInput{sources: map[string][]byte{}}
	var byFamily [2]string
	for _, name := range files {
		src, err := readImportFile(name)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		ii.sources[name] = src
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
				return nil, usagef("%s and %s are both %s rulesets; give one of each family", byFamily[fam], name, kind)
			}
			byFamily[fam] = name
			f, rds := iptables.ReadBytes(src, name, iptables.Options{})
			ii.ds = append(ii.ds, rds...)
			ii.in.Rulesets = append(ii.in.Rulesets, convert.Ruleset{File: f, Src: src, Family: fam})
		case convert.Ipset:
			f, rds := ipset.ReadBytes(src, name, ipset.Options{})
			ii.ds = append(ii.ds, rds...)
			ii.in.Sets = append(ii.in.Sets, f)
		case convert.Nft, convert.NftJSON:
			var f *nft.File
			var rds diag.Diagnostics
			if kind == convert.Nft {
				f, rds = nft.ReadText(src, name, nft.Options{ReadFile: nft.OSFiles})
			} else {
				f, rds = nft.ReadJSON(src, name, nft.Options{})
			}
			for n, s := range f.Sources {
				ii.sources[n] = s
			}
			ii.ds = append(ii.ds, rds...)
			ii.in.Nft = append(ii.in.Nft, f)
		default:
			return nil, usagef("cannot tell what %s holds (no \"*table\" line, no ipset create line, no nft table); name it with --from", name)
		}
	}
	return ii, nil
}

// readLive reads the kernel's ruleset with nft -j (inside netns NS when
// given): read-only, every table, those of other tools too.
func readLive(netns string) (*importInput, error) {
	args := []string{"nft", "-j", "list", "ruleset"}
	name := "live"
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
		name = "live:" + netns
	}
	var stdout, stderr bytes.Buffer
	c := exec.Command(args[0], args[1:]...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("%v: %v: %s", args, err, bytes.TrimSpace(stderr.Bytes()))}
	}
	// nft -j writes one line; indented, the diagnostics' snippets show
	// the one object they are about.
	var indented bytes.Buffer
	src := stdout.Bytes()
	if json.Indent(&indented, src, "", "  ") == nil {
		src = indented.Bytes()
	}
	ii := &importInput{sources: map[string][]byte{name: src}}
	f, rds := nft.ReadJSON(src, name, nft.Options{})
	ii.ds = rds
	ii.in.Nft = []*nft.File{f}
	return ii, nil
}

func runImport(e *env, ii *importInput, outFile string, noOrigin bool) error {
	out, cds := convert.Convert(ii.in, convert.Options{NoOrigin: noOrigin})
	ds := append(ii.ds, cds...)
	if len(ds) > 0 {
		if err := diag.RenderText(e.stderr, ds.Sort(), ii.source, diag.TextOptions{Color: wantColor(e.stderr)}); err != nil {
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
