package nft_test

import (
	"github.com/fwcproject/fwc/internal/irfixture"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

// loadExample checks one policy file of examples/ (with its includes).
func loadExample(t testing.TB, path string) *policy.Program {
	t.Helper()
	loaded, ds := lang.Load([]string{path})
	if ds.HasErrors() {
		t.Fatalf("load %s: %v", path, ds)
	}
	if len(loaded.Units) != 1 {
		t.Fatalf("load %s: %d units", path, len(loaded.Units))
	}
	p, ds := check.Check(loaded.Units[0].Files, check.Options{NoLint: true})
	if ds.HasErrors() {
		t.Fatalf("check %s: %v", path, ds)
	}
	return p
}

func lower(t testing.TB, p *policy.Program) *ir.Ruleset {
	t.Helper()
	rs, ds := ir.Lower(p)
	if ds.HasErrors() {
		t.Fatalf("lower: %v", ds)
	}
	return rs
}

// nftIn runs nft in namespace ns under TZ=UTC: nft lists times of day and
// dates in its zone, and under UTC they read as the policy wrote them.
func nftIn(t testing.TB, ns string, args ...string) string {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "env", "TZ=UTC", "nft"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nft %s in %s: %v\n%.4000s", strings.Join(args, " "), ns, err, out)
	}
	return string(out)
}

var expires = regexp.MustCompile(` expires [0-9a-z]+`)

// listing is `nft list ruleset` with what differs between two loads of
// the same ruleset removed: element expiry countdowns.
func listing(t testing.TB, ns string) string {
	t.Helper()
	return expires.ReplaceAllString(nftIn(t, ns, "list", "ruleset"), "")
}

// loadText loads Text(rs) with nft -f in a fresh namespace and lists it.
func loadText(t testing.TB, rs *ir.Ruleset) string {
	t.Helper()
	text, ds := nft.Text(rs)
	if ds.HasErrors() {
		t.Fatalf("Text: %v", ds)
	}
	ns := testnetns.New(t)
	file := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	nftIn(t, ns, "-f", file)
	return listing(t, ns)
}

// commitBuild applies Messages(rs) with batch.CommitMessages in namespace ns.
func commitBuild(t testing.TB, ns string, rs *ir.Ruleset) {
	t.Helper()
	c, err := batch.Open(batch.WithNetNSPath(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msgs, err := nft.Messages(rs)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.CommitMessages(0, msgs)
	if err != nil || out != batch.Applied {
		t.Fatalf("Commit: %v: %v", out, err)
	}
}

// loadBuild applies Messages(rs) in a fresh namespace and lists it.
func loadBuild(t testing.TB, rs *ir.Ruleset) string {
	t.Helper()
	ns := testnetns.New(t)
	commitBuild(t, ns, rs)
	return listing(t, ns)
}

// differential loads rs both ways and compares nft's listings.
func differential(t *testing.T, rs *ir.Ruleset) {
	t.Helper()
	want := loadText(t, rs)
	got := loadBuild(t, rs)
	if got != want {
		t.Errorf("nft list ruleset after Build differs from after nft -f:\n%s", lineDiff(want, got))
	}
}

// lineDiff shows the lines of want and got that differ, in order.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var lw, lg string
		if i < len(w) {
			lw = w[i]
		}
		if i < len(g) {
			lg = g[i]
		}
		if lw != lg {
			b.WriteString("  nft -f: " + lw + "\n  Build:  " + lg + "\n")
		}
	}
	return b.String()
}

// expressible reports whether nft can express the whole of rs.
func expressible(rs *ir.Ruleset) bool {
	_, ds := nft.Text(rs)
	return !ds.HasErrors()
}

func TestBuildExamples(t *testing.T) {
	testnetns.Require(t)
	files, err := filepath.Glob("../../examples/*.fw")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			rs := lower(t, loadExample(t, f))
			if !expressible(rs) {
				t.Skip("nft cannot express this example (FW2001)")
			}
			differential(t, rs)
		})
	}
}

func TestBuildSamples(t *testing.T) {
	testnetns.Require(t)
	for name, p := range map[string]*policy.Program{
		"host":       irfixture.Program(t, "host.fw", irfixture.Host),
		"generated":  irfixture.Program(t, "gen.fw", irfixture.Generated(500)),
		"peraddress": irfixture.Program(t, "block.fw", irfixture.PerAddress(2000)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			differential(t, lower(t, p))
		})
	}
}

// TestBuildRefuses: what nft cannot express (package limits) makes
// Messages fail with the diagnostics Text reports, as a *RefusedError,
// instead of queuing a different rule.
func TestBuildRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		rs   *ir.Ruleset
		want string
	}{
		{"string", irfixture.Lower(t, "string.fw", irfixture.StringMatch), `string.fw:3:16: error: nft cannot express a string match [FW1901]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			msgs, err := nft.Messages(c.rs)
			if err == nil || !strings.Contains(err.Error(), c.want) || msgs != nil {
				t.Fatalf("Messages = %d messages, error %v; want none and an error containing %q", len(msgs), err, c.want)
			}
		})
	}
}

// TestBuildMasqueradePorts: a masquerade to ports, which google/nftables
// v0.3.0 encodes without its flags (the kernel would then ignore the
// ports; Messages used to refuse it while the text wrote it), is encoded
// as nft encodes it: the kernel holds the same expressions, flags
// included, after either load.
func TestBuildMasqueradePorts(t *testing.T) {
	testnetns.Require(t)
	rs := irfixture.Lower(t, "masq.fw", `table nat {
	chain postrouting {
		proto udp masquerade to 1024-2000
		proto tcp masquerade to 1024 random
		proto tcp oif eth1 masquerade to 3000-4000 persistent random-fully
		masquerade persistent
	}
}
`)
	dump := func(ns string) string {
		// The debug listing shows each expression with its flags, which
		// nft list ruleset does not print.
		return nftIn(t, ns, "--debug=netlink", "list", "ruleset")
	}
	text, ds := nft.Text(rs)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	nsText := testnetns.New(t)
	file := filepath.Join(t.TempDir(), "masq.nft")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	nftIn(t, nsText, "-f", file)
	nsBatch := testnetns.New(t)
	commitBuild(t, nsBatch, rs)
	want, got := dump(nsText), dump(nsBatch)
	if !strings.Contains(want, "flags 0x2 ]") {
		t.Fatalf("nft -f made no masquerade with flags 0x2 (proto specified):\n%s", want)
	}
	if got != want {
		t.Errorf("the kernel's expressions after Build differ from after nft -f:\n%s", lineDiff(want, got))
	}
}
