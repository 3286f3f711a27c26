package apply

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// bigSetPolicy is a policy with one named set of n IPv4 addresses
// (10.0.0.1 on) and a rule using it.
func bigSetPolicy(n int) (string, []string) {
	var b strings.Builder
	b.WriteString("set big : ipv4_addr {\n\telements {\n")
	addrs := make([]string, n)
	a := netip.MustParseAddr("10.0.0.1")
	for i := range n {
		addrs[i] = a.String()
		sep := ",\n"
		if i == n-1 {
			sep = "\n"
		}
		fmt.Fprintf(&b, "\t\t%s%s", a, sep)
		a = a.Next()
	}
	b.WriteString("\t}\n}\n\ntable filter {\n\tchain input policy accept {\n\t}\n}\n\nfrom any to self saddr @big drop\n")
	return b.String(), addrs
}

// TestHugeSetNoReadBack applies a policy whose set holds more elements
// than maxFingerprintElements: the apply does not read the table back to
// fingerprint it (the record has no fingerprint), and nft's own listing of
// the set holds every element.
func TestHugeSetNoReadBack(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	n := maxFingerprintElements * 5
	src, addrs := bigSetPolicy(n)
	w := compileSrc(t, src)
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	h.Cache = t.TempDir()
	mustApply(t, h, w, Options{})

	data, err := os.ReadFile(h.appliedPath())
	if err != nil {
		t.Fatal(err)
	}
	var a applied
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint != "" || a.Static != "" {
		t.Fatalf("the apply of a set of %d elements fingerprinted the table (read it back)", n)
	}

	// nft's JSON listing, independent of fwc's reading code.
	var out struct {
		Nftables []struct {
			Set *struct {
				Name string `json:"name"`
				Elem []any  `json:"elem"`
			} `json:"set"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal([]byte(testnetns.Run(t, ns, "nft", "-j", "list", "set", "inet", "fwc", "big")), &out); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, o := range out.Nftables {
		if o.Set == nil || o.Set.Name != "big" {
			continue
		}
		for _, e := range o.Set.Elem {
			if s, ok := e.(string); ok {
				have[s] = true
			}
		}
	}
	missing := 0
	for _, a := range addrs {
		if !have[a] {
			missing++
		}
	}
	if missing > 0 || len(have) != n {
		t.Fatalf("nft lists %d elements, %d of the %d declared missing", len(have), missing, n)
	}
	mustBeEmpty(t, h, w)
}
