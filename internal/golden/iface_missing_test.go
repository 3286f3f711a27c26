package golden_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestNegatedIfaceWhereMissing pins what the ifacedir pass's FW1401,
// FW1402 and FW1403 say about an interface match where packets have no such
// interface (input has no output interface, output no input interface):
// both backends compare an empty name, so a positive match never holds and
// a negated one holds for every packet. Real packets over loopback, one
// namespace per backend; the iptables rules sit in user chains because
// iptables refuses -o in INPUT and -i in OUTPUT outright.
func TestNegatedIfaceWhereMissing(t *testing.T) {
	testnetns.RequireTools(t, "nft", "iptables-restore", "iptables")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	send := func(ns string) {
		t.Helper()
		testnetns.Run(t, ns, "ip", "link", "set", "lo", "up")
		ps, _ := json.Marshal([]probe{{Proto: "udp", Src: "127.0.0.1", Dst: "127.0.0.1", Port: 9}})
		cmd := exec.Command("ip", "netns", "exec", ns, exe)
		cmd.Env = append(os.Environ(), envProbe+"=dial")
		cmd.Stdin = bytes.NewReader(ps)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("probe in %s: %v\n%s", ns, err, out)
		}
	}
	// packets returns the packet count of the rule whose comment is name.
	packets := func(listing, name string, re *regexp.Regexp) int {
		t.Helper()
		for _, m := range re.FindAllStringSubmatch(listing, -1) {
			if m[2] == name {
				n, _ := strconv.Atoi(m[1])
				return n
			}
		}
		t.Fatalf("no counter for %q in:\n%s", name, listing)
		return 0
	}
	check := func(backend string, count func(name string) int) {
		t.Helper()
		for name, matches := range map[string]bool{"neg-oif-input": true, "pos-oif-input": false, "neg-iif-output": true, "pos-iif-output": false} {
			if n := count(name); (n > 0) != matches {
				t.Errorf("%s: rule %s counted %d packets; want matches=%v", backend, name, n, matches)
			}
		}
	}

	nftNS := testnetns.New(t)
	if out, err := testnetns.Feed(nftNS, []byte(`table inet t {
	chain input {
		type filter hook input priority 0;
		udp dport 9 oifname != "eth9" counter comment "neg-oif-input"
		udp dport 9 oifname "eth9" counter comment "pos-oif-input"
	}
	chain output {
		type filter hook output priority 0;
		udp dport 9 iifname != "eth9" counter comment "neg-iif-output"
		udp dport 9 iifname "eth9" counter comment "pos-iif-output"
	}
}
`), "nft", "-f", "-"); err != nil {
		t.Fatalf("nft -f: %v\n%s", err, out)
	}
	send(nftNS)
	nftRE := regexp.MustCompile(`counter packets (\d+) bytes \d+ comment "([^"]+)"`)
	listing := testnetns.Ruleset(t, nftNS)
	check("nft", func(name string) int { return packets(listing, name, nftRE) })

	iptNS := testnetns.New(t)
	if out, err := testnetns.Feed(iptNS, []byte(`*filter
:in_u - [0:0]
:out_u - [0:0]
-A INPUT -j in_u
-A OUTPUT -j out_u
-A in_u -p udp --dport 9 ! -o eth9 -m comment --comment neg-oif-input
-A in_u -p udp --dport 9 -o eth9 -m comment --comment pos-oif-input
-A out_u -p udp --dport 9 ! -i eth9 -m comment --comment neg-iif-output
-A out_u -p udp --dport 9 -i eth9 -m comment --comment pos-iif-output
COMMIT
`), "iptables-restore"); err != nil {
		t.Fatalf("iptables-restore: %v\n%s", err, out)
	}
	send(iptNS)
	iptRE := regexp.MustCompile(`(?m)^\s*(\d+)\s+\d+\s.*/\* (\S+) \*/`)
	listing = testnetns.Run(t, iptNS, "iptables", "-w", "-L", "-v", "-n", "-x")
	check("iptables", func(name string) int { return packets(listing, name, iptRE) })
}
