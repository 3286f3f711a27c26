package iptables

import (
	"bytes"
	"github.com/fwcproject/fwc/importer/internal/corpus"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

var countersRE = regexp.MustCompile(`\[[0-9]+:[0-9]+\]`)

// normSave drops comment lines and zeroes counters: what is left of an
// iptables-save output is the ruleset the kernel holds.
func normSave(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, countersRE.ReplaceAllString(l, "[0:0]"))
	}
	return strings.Join(out, "\n")
}

// tools returns the restore and save commands for a file of family v6.
func tools(v6 bool) (restore, save string) {
	if v6 {
		return "ip6tables-restore", "ip6tables-save"
	}
	return "iptables-restore", "iptables-save"
}

// loadAndSave loads src with restore in a fresh namespace (after ipsets, if
// any) and returns what save prints, or restore's error output.
func loadAndSave(t *testing.T, src, ipsets []byte, v6 bool) (string, error) {
	t.Helper()
	ns := testnetns.New(t)
	if ipsets != nil {
		if out, err := testnetns.Feed(ns, ipsets, "ipset", "restore"); err != nil {
			t.Fatalf("ipset restore: %v\n%s", err, out)
		}
		// The sets live in the namespace's net; destroy them with it.
		t.Cleanup(func() { _, _ = testnetns.Try(ns, "ipset", "destroy") })
	}
	restore, save := tools(v6)
	if out, err := testnetns.Feed(ns, src, restore); err != nil {
		return out, err
	}
	return testnetns.Run(t, ns, save), nil
}

// oldSyntax are files written for iptables versions older than the one
// installed, which rejects them (intrapositioned negation "-s ! x", removed in
// 1.6); Print writes the current form, which must load.
var oldSyntax = map[string]bool{"v1.3.5-rhel5.v4": true}

// notLoadableAlone are corpus files that iptables-restore rejects on their
// own, and why. The test checks that exactly these fail, so that a file the
// reader mangles cannot hide here.
var notLoadableAlone = map[string]string{
	// ufw loads before.rules together with user.rules, which declares it.
	"ufw-before6.rules":          "jumps to ufw6-logging-deny",
	"ufw-before-ratelimit.rules": "jumps to ufw-logging-deny",
	"ufw-before-ipsec-vpn.rules": "jumps to ufw-logging-deny",
	// The namespace has no network: the host name cannot be resolved.
	"ustc-library-kiosk-v6.v6": "names host pxe.ustc.edu.cn",
}

func readIpsets(t *testing.T, name string) []byte {
	t.Helper()
	for _, dir := range []string{"../ipset/testdata", "../../../shared/corpus/rulesets/ipset"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			// The ruleset needs the sets, not their members (the kernel
			// rejects 0.0.0.0/0 in echo-system-sets' hash:net,port). ipset
			// restore, like iptables-restore, reads a CR as data.
			var out []byte
			for _, l := range bytes.Split(b, []byte("\n")) {
				if bytes.HasPrefix(l, []byte("create ")) {
					out = append(append(out, bytes.TrimSuffix(l, []byte("\r"))...), '\n')
				}
			}
			return out
		}
	}
	t.Fatalf("ipset file %s not found", name)
	return nil
}

// TestRoundTripKernel proves the reader loses nothing the kernel keeps: each
// corpus file is loaded with iptables-restore in a scratch namespace and
// saved back; the model printed by Print is checked with --test, loaded in
// another namespace for real and saved back; the two saves must be equal but
// for counters and comments.
func TestRoundTripKernel(t *testing.T) {
	testnetns.RequireTools(t, "iptables-restore", "ip6tables-restore", "iptables-save", "ip6tables-save", "ipset")
	for _, file := range corpus.Files(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each subtest has its own namespaces
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			v6 := strings.Contains(file, "ip6tables")
			f, ds := ReadBytes(src, name, Options{})
			if ds.HasErrors() {
				t.Fatalf("read errors: %v", ds)
			}
			var printed bytes.Buffer
			if err := Print(&printed, f, PrintOptions{}); err != nil {
				t.Fatal(err)
			}
			var sets []byte
			if s, ok := corpus.IpsetFor[name]; ok {
				sets = readIpsets(t, s)
			}
			// iptables-restore reads CRLF lines with the CR in the last word;
			// the original is loaded as the kernel would get it from a
			// checkout with LF line ends.
			orig := bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
			want, err := loadAndSave(t, orig, sets, v6)
			if oldSyntax[name] {
				if err == nil {
					t.Fatalf("listed as old syntax, but it loads")
				}
				if got, err := loadAndSave(t, printed.Bytes(), sets, v6); err != nil {
					t.Fatalf("the printed model does not load: %v\n%s\n%s", err, got, printed.String())
				}
				return
			}
			if why, ok := notLoadableAlone[name]; ok {
				if err == nil {
					t.Fatalf("listed as not loadable alone (%s), but it loads", why)
				}
				return
			}
			if err != nil {
				t.Fatalf("the original does not load: %v\n%s", err, want)
			}
			restore, _ := tools(v6)
			ns := testnetns.New(t)
			if out, err := testnetns.Feed(ns, printed.Bytes(), restore, "--test"); sets == nil && err != nil {
				t.Fatalf("%s --test rejects the printed model: %v\n%s\n%s", restore, err, out, printed.String())
			}
			got, err := loadAndSave(t, printed.Bytes(), sets, v6)
			if err != nil {
				t.Fatalf("%s rejects the printed model: %v\n%s\n%s", restore, err, got, printed.String())
			}
			if normSave(got) != normSave(want) {
				t.Errorf("saves differ\n--- original, loaded and saved\n%s\n--- model printed, loaded and saved\n%s", normSave(want), normSave(got))
			}
		})
	}
}
