package sitegen_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
)

// backends are the outputs fwc translate writes, with the backends the
// checker is told about for each (as `fwc translate --to` does).
var backends = []struct {
	name  string
	check []string
	emit  func(*ir.Ruleset) ([]byte, diag.Diagnostics)
}{
	{"nft", []string{"nft"}, nft.Text},
	{"iptables", []string{"iptables"}, restore.IPv4},
	{"ip6tables", []string{"ip6tables"}, restore.IPv6},
	{"ipset", []string{"iptables", "ip6tables"}, restore.IPSet},
}

// translate checks src for every backend (errors fail the test; lint
// warnings are logged) and returns each backend's text.
func translate(t *testing.T, name string, src []byte) map[string][]byte {
	t.Helper()
	f, ds := lang.ParseFile(name, src)
	if ds.HasErrors() {
		t.Fatalf("%s: %v", name, ds[0])
	}
	out := map[string][]byte{}
	for _, b := range backends {
		prog, ds := check.Check([]*ast.File{f}, check.Options{Backends: b.check})
		if ds.HasErrors() {
			t.Fatalf("%s for %s: %d diagnostics, first %v", name, b.name, len(ds), ds[0])
		}
		if len(ds) > 0 {
			t.Logf("%s for %s: %d warnings, first %v", name, b.name, len(ds), ds[0])
		}
		rs, ds := ir.Lower(prog)
		if ds.HasErrors() {
			t.Fatalf("%s: lowering for %s: %v", name, b.name, ds[0])
		}
		text, ds := b.emit(rs)
		if ds.HasErrors() {
			t.Fatalf("%s: %s: %v", name, b.name, ds[0])
		}
		out[b.name] = text
	}
	return out
}

// TestChecks: every generated policy passes the checker for every backend
// and translates, for several seeds and sizes.
func TestChecks(t *testing.T) {
	sizes := []int{0, 1, 50, 1000}
	if !testing.Short() {
		sizes = append(sizes, 10000)
	}
	for _, n := range sizes {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("n=%d/seed=%d", n, seed), func(t *testing.T) {
				out := translate(t, "site.fw", sitegen.Policy(n, seed))
				for _, b := range []string{"nft", "iptables", "ipset"} {
					if len(out[b]) == 0 {
						t.Errorf("%s output is empty", b)
					}
				}
			})
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := sitegen.Policy(500, 7), sitegen.Policy(500, 7)
	if !bytes.Equal(a, b) {
		t.Fatal("two calls with the same n and seed differ")
	}
	if bytes.Equal(a, sitegen.Policy(500, 8)) {
		t.Fatal("seeds 7 and 8 give the same policy")
	}
}

var (
	zoneDecl    = regexp.MustCompile(`(?m)^zone `)
	serviceDecl = regexp.MustCompile(`(?m)^service svc`)
	portWord    = regexp.MustCompile(`(?:dport|to [0-9.]+:|/|\{|,) ?([0-9]+)\b`)
	hostWord    = regexp.MustCompile(`[sd]addr ([0-9a-f.:]+)(?: |$)`)
	setDecl     = regexp.MustCompile(`(?ms)^set (\w+) : [^{]*\{\n\telements \{\n(.*?)\n\t\}\n\}`)
)

// TestShape checks the properties the generator promises (package doc) on a
// 10,000-rule policy, by reading its text.
func TestShape(t *testing.T) {
	src := string(sitegen.Policy(10000, 1))
	if got := len(zoneDecl.FindAllString(src, -1)); got != sitegen.Zones {
		t.Errorf("%d zones, want %d", got, sitegen.Zones)
	}
	if got := len(serviceDecl.FindAllString(src, -1)); got != sitegen.Services {
		t.Errorf("%d services, want %d", got, sitegen.Services)
	}
	sets := map[string]int{}
	for _, m := range setDecl.FindAllStringSubmatch(src, -1) {
		sets[m[1]] = strings.Count(m[2], "\n") + 1
	}
	if sets["blocklist"] != sitegen.Blocklist || sets["pairs"] != sitegen.Pairs {
		t.Errorf("blocklist %d, pairs %d elements; want %d, %d", sets["blocklist"], sets["pairs"], sitegen.Blocklist, sitegen.Pairs)
	}
	for k := 0; k < sitegen.AllowLists; k++ {
		if got := sets[fmt.Sprintf("allow%02d", k)]; got != sitegen.AllowSize {
			t.Errorf("allow%02d: %d elements, want %d", k, got, sitegen.AllowSize)
		}
	}
	ports := map[string]bool{}
	for _, m := range portWord.FindAllStringSubmatch(src, -1) {
		ports[m[1]] = true
	}
	// 10,000 rules drawing one port or more each from 4,000 reach most of
	// them (1 - e^-2.5 of them, about 3,670, for one draw per rule).
	if len(ports) < 3500 || len(ports) > sitegen.Ports+200 {
		t.Errorf("%d distinct ports, want about %d", len(ports), sitegen.Ports)
	}
	// Every host a rule names is named by that rule only; port forwards
	// share public addresses (each with its own port) and are left out.
	seen := map[string]int{}
	v6 := 0
	for i, line := range strings.Split(src, "\n") {
		if strings.Contains(line, " dnat to ") {
			continue
		}
		for _, m := range hostWord.FindAllStringSubmatch(line, -1) {
			h := m[1]
			if prev, dup := seen[h]; dup {
				t.Fatalf("host %s on lines %d and %d", h, prev, i+1)
			}
			seen[h] = i + 1
			if strings.Contains(h, ":") {
				v6++
			}
		}
	}
	if len(seen) < 10000 || v6 < 1000 {
		t.Errorf("%d distinct hosts in rules (%d IPv6), want at least 10,000 (1,000)", len(seen), v6)
	}
	for _, want := range []string{" dnat to ", " snat to ", " masquerade\n", " log prefix ", " limit ", " meter ", " jump from_z", "\tchain from_z"} {
		if !strings.Contains(src, want) {
			t.Errorf("no %q in the policy", want)
		}
	}
}

// TestKernelLoads loads a small generated policy's outputs into a scratch
// namespace with the real tools: nft -f, and ipset restore then
// iptables-restore and ip6tables-restore. Every rule of the nft script must
// be in the kernel's listing afterwards.
func TestKernelLoads(t *testing.T) {
	testnetns.RequireTools(t, "ipset", "iptables-restore", "ip6tables-restore")
	out := translate(t, "site.fw", sitegen.Policy(300, 1))
	ns := testnetns.New(t)
	for _, s := range []struct {
		backend string
		argv    []string
	}{
		{"nft", []string{"nft", "-f", "-"}},
		{"ipset", []string{"ipset", "restore"}},
		{"iptables", []string{"iptables-restore"}},
		{"ip6tables", []string{"ip6tables-restore"}},
	} {
		if o, err := testnetns.Feed(ns, out[s.backend], s.argv...); err != nil {
			t.Fatalf("%s: %v\n%.2000s", strings.Join(s.argv, " "), err, o)
		}
	}
	listed := testnetns.Run(t, ns, "nft", "list", "table", "inet", nft.Table)
	want := strings.Count(string(out["nft"]), " comment \"site.fw:")
	// Fewer rules than the policy's 300 statements: runs of them become
	// lookups along several fields (ir.Merge), 258 rules at seed 1.
	if got := strings.Count(listed, " comment \"site.fw:"); got != want || want < 200 {
		t.Errorf("%d rules listed in table inet %s, want the script's %d (at least 200)", got, nft.Table, want)
	}
	for _, set := range []string{"blocklist", "pairs", "allow00", "allow19"} {
		if !strings.Contains(listed, "set "+set+" {") {
			t.Errorf("set %s not in the listing", set)
		}
	}
	saved := testnetns.Run(t, ns, "iptables-save")
	if !strings.Contains(saved, "--match-set blocklist src") || !strings.Contains(saved, "-j DNAT") || !strings.Contains(saved, "-j SNAT") {
		t.Errorf("iptables-save lacks the blocklist, DNAT or SNAT rules:\n%.3000s", saved)
	}
}
