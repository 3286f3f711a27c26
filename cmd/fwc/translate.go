package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/backend/iproute2"
	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/safefile"
	"github.com/fwcproject/fwc/ir"
)

// An output of translate: what --to names, the file --out-dir writes, the
// backends the checker is told about, and the emitter.
type translateOutput struct {
	to       string
	file     string
	backends []string
	emit     func(*ir.Ruleset) ([]byte, diag.Diagnostics)
}

// translateOutputs in the order --to all writes them.
var translateOutputs = []translateOutput{
	{"iptables", "rules.v4", []string{"iptables"}, restore.IPv4},
	{"ip6tables", "rules.v6", []string{"ip6tables"}, restore.IPv6},
	// The sets are for the iptables rules of both families.
	{"ipset", "ipsets", []string{"iptables", "ip6tables"}, restore.IPSet},
	{"nft", "ruleset.nft", []string{"nft"}, nft.Text},
	// The ip rules and routes the marks of the rules above steer by.
	{"iproute2", "iproute2.v4", nil, iproute2.IPv4},
	{"iproute2-6", "iproute2.v6", nil, iproute2.IPv6},
	// The same rules and routes for hosts whose network systemd-networkd
	// configures.
	{"networkd", "networkd.conf", nil, iproute2.Networkd},
}

var translateTargets = []string{"nft", "iptables", "ip6tables", "ipset", "iproute2", "iproute2-6", "networkd", "all"}

func newTranslateCmd(e *env) *cobra.Command {
	var to, outFile, outDir string
	cmd := &cobra.Command{
		Use:   "translate --to nft|iptables|ip6tables|ipset|iproute2|iproute2-6|networkd|all [-o FILE | --out-dir DIR] PATH",
		Short: "Translate a policy to an nft script or iptables-save text",
		Long: `Translate checks one policy and prints what it compiles to:

  --to nft        an nft script for "nft -f": one "inet fwc" table, replaced
                  in one transaction (other tables are left alone)
  --to iptables   iptables-save text for the IPv4 rules (rules.v4), loaded
                  with "iptables-restore"
  --to ip6tables  the same for the IPv6 rules (rules.v6)
  --to ipset      "ipset restore" text creating the named sets the iptables
                  rules use; restore it before rules.v4 and rules.v6
  --to iproute2   the ip rules and IPv4 routes of the policy's "route"
                  declarations (iproute2.v4), an "ip -batch" file loaded with
                  "ip -4 -batch"; without them the marks steer nothing
  --to iproute2-6 the same for IPv6 (iproute2.v6), loaded with "ip -6 -batch"
  --to networkd   the same ip rules and routes of both families as
                  systemd-networkd [RoutingPolicyRule] and [Route]
                  sections (networkd.conf), in one part per interface
  --to all        all seven, into the directory given by --out-dir as
                  rules.v4, rules.v6, ipsets, ruleset.nft, iproute2.v4,
                  iproute2.v6 and networkd.conf

How each file is installed at boot: ruleset.nft with "nft -f" (or fwc
apply); ipsets with "ipset restore" before rules.v4 and rules.v6, which
load with "iptables-restore" and "ip6tables-restore" (Debian's
iptables-persistent reads /etc/iptables/rules.v4 and rules.v6). ipsets
loads again over itself: a set that exists is kept (the rules loaded
reference it) and its elements are replaced by the policy's, so elements
added at run time are dropped, as ruleset.nft drops them; a set whose type
or options changed must first be destroyed (ipset destroy NAME, once no
rule uses it). The
iproute2 files must load once the interfaces their routes name are up and
addressed, for instance from the uplink's ifupdown stanza
("post-up ip -4 -batch /etc/fwc/iproute2.v4"): each first removes every
ip rule and route of protocol 70 (fwc's, as apply marks them) of its
family and then adds the policy's, so loading one again changes nothing.
On a host whose network systemd-networkd configures, networkd.conf takes
their place: each of its parts, opened by a "# Link IFACE:" line, goes
into a drop-in of that interface's .network file (for instance
/etc/systemd/network/10-eth1.network.d/fwc.conf), and "networkctl reload"
installs them; networkd then puts them back whenever it configures the
link, at boot included.

PATH is a policy file, or a directory holding exactly one policy (one root
file; the others are included by it). The policy is checked for the backends
asked for, as "fwc check --backend" does, except that the lint passes that
only warn (shadowed or redundant rules, hygiene) are left to "fwc check",
which CI runs. When it has errors, or a backend
cannot express a rule, the diagnostics are printed to standard error and
nothing is written: no partial ruleset is ever produced. Warnings are
printed and the translation goes on.

Without -o or --out-dir the output goes to standard output. -o FILE writes
one output to FILE; --out-dir DIR writes each output to its file name in
DIR (created if missing), and refuses to write through a symbolic link
found there. A link given as FILE or DIR is followed only if it belongs to
the caller or root. Files are replaced atomically, and with --to all only once
every backend has succeeded. The output is deterministic: the
same policy gives the same bytes.

Exit status: 0 on success, 1 when the policy has errors or a backend cannot
express it, 2 for usage or I/O problems.`,
		Example: `  fwc translate --to nft host.fw | nft -f -
  fwc translate --to iptables -o /etc/iptables/rules.v4 host.fw
  fwc translate --to ip6tables -o /etc/iptables/rules.v6 host.fw
  fwc translate --to all --out-dir build/ policy/
  ipset restore < build/ipsets && iptables-restore < build/rules.v4
  ip -4 -batch build/iproute2.v4 && ip -6 -batch build/iproute2.v6`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("translate needs exactly one PATH, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var outs []translateOutput
			switch {
			case to == "":
				return usagef("--to is required (%s)", strings.Join(translateTargets, ", "))
			case to == "all":
				outs = translateOutputs
			default:
				i := slices.IndexFunc(translateOutputs, func(o translateOutput) bool { return o.to == to })
				if i < 0 {
					return usagef("unknown --to %q (want %s)", to, strings.Join(translateTargets, ", "))
				}
				outs = translateOutputs[i : i+1]
			}
			switch {
			case outFile != "" && outDir != "":
				return usagef("-o and --out-dir cannot be used together")
			case outFile != "" && len(outs) > 1:
				return usagef("--to all writes several files: use --out-dir, not -o")
			case outDir == "" && len(outs) > 1:
				return usagef("--to all needs --out-dir")
			}
			return translate(e, args[0], outs, outFile, outDir)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "`backend` to translate to: nft, iptables, ip6tables, ipset, iproute2, iproute2-6, networkd or all")
	cmd.Flags().StringVarP(&outFile, "output", "o", "", "write the output to `FILE` instead of standard output")
	cmd.Flags().StringVar(&outDir, "out-dir", "", "write each output to its standard file name in `DIR`")
	_ = cmd.RegisterFlagCompletionFunc("to", cobra.FixedCompletions(translateTargets, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("out-dir")
	addIncludeRootFlag(cmd, e)
	return cmd
}

func translate(e *env, path string, outs []translateOutput, outFile, outDir string) error {
	if _, err := os.Stat(path); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	l, ds := loadPolicies(e, []string{path})
	var backends []string
	for _, o := range outs {
		for _, b := range o.backends {
			if !slices.Contains(backends, b) {
				backends = append(backends, b)
			}
		}
	}
	var texts [][]byte
	if len(l.Units) == 1 && !ds.HasErrors() {
		low, cds := compile.Lower(l.Loaded, check.Options{Backends: backends, ErrorsOnly: true})
		ds = append(ds, cds...)
		if !ds.HasErrors() {
			for _, o := range outs {
				text, ods := o.emit(low.Ruleset)
				ds = append(ds, ods...)
				texts = append(texts, text)
			}
		}
	}
	if err := diag.RenderText(e.stderr, ds, l.source, diag.TextOptions{Color: wantColor(e.stderr)}); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	switch {
	case slices.ContainsFunc(ds, func(d *diag.Diagnostic) bool { return d.Code == ioCode }):
		return &exitError{code: exitUsage}
	case ds.HasErrors():
		return findings
	case len(l.Units) == 0:
		return &exitError{code: exitUsage, err: fmt.Errorf("nothing to translate: no .fw files in %s", path)}
	case len(l.Units) > 1:
		return &exitError{code: exitUsage, err: fmt.Errorf("%s holds %d policies (%s); translate one at a time",
			path, len(l.Units), strings.Join(unitRoots(l), ", "))}
	}
	switch {
	case outFile != "":
		return writeOutputs([]string{outFile}, texts)
	case outDir != "":
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		// The directory may be shared (a build tree, /tmp): a link
		// planted where an output goes is refused, never written through.
		var names []string
		for _, o := range outs {
			names = append(names, o.file)
		}
		if err := safefile.ReplaceAll(outDir, names, texts, 0o644); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		return nil
	}
	if _, err := e.stdout.Write(texts[0]); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

// unitRoots names the root file of each loaded policy.
func unitRoots(l *loaded) []string {
	var roots []string
	for _, u := range l.Units {
		if u != nil && len(u.Files) > 0 {
			roots = append(roots, u.Files[0].Range.Filename)
		}
	}
	return roots
}

// writeOutputs replaces each file names[i] with texts[i]. Every text is
// written to a temporary file beside its target first, and the targets are
// replaced by renames only when all of them were written, so a failure
// leaves the old files in place. A target that exists and is not a regular
// file (/dev/null, /dev/stdout, a FIFO) is written in place, last: renaming
// over it would replace the device with a file, and as root that is the
// host's /dev/null.
func writeOutputs(names []string, texts [][]byte) (err error) {
	tmps := make([]string, len(names))
	defer func() {
		if err != nil {
			for _, t := range tmps {
				if t != "" {
					os.Remove(t)
				}
			}
		}
	}()
	for i, name := range names {
		// Replace the target of a symbolic link (/etc/iptables/rules.v4
		// may be one), not the link; but only of a link the caller or
		// root made.
		if err := safefile.TrustedLink(name); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		if target, err := filepath.EvalSymlinks(name); err == nil {
			names[i], name = target, target
		}
		if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
			if st.IsDir() {
				return &exitError{code: exitUsage, err: fmt.Errorf("write %s: is a directory", name)}
			}
			continue
		}
		tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		tmps[i] = tmp.Name()
		_, werr := tmp.Write(texts[i])
		cerr := tmp.Chmod(0o644)
		if err := errors.Join(werr, cerr, tmp.Close()); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("write %s: %w", name, err)}
		}
	}
	for i, name := range names {
		if tmps[i] == "" {
			continue
		}
		if err := os.Rename(tmps[i], name); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("write %s: %w", name, err)}
		}
	}
	for i, name := range names {
		if tmps[i] != "" {
			continue
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
		if err == nil {
			_, err = f.Write(texts[i])
			err = errors.Join(err, f.Close())
		}
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("write %s: %w", name, err)}
		}
	}
	return nil
}
