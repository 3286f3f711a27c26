package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

const liveTestPolicy = `zone wan { iface eth0 }
zone lan { iface eth1; net 192.168.1.0/24 }
table filter {
	chain input policy drop {
		ct state established accept
		tcp dport 22 accept
		tcp dport 23 reject with tcp-reset
	}
	chain forward policy drop {
		iif eth1 oif eth0 accept
	}
}
from wan to self tcp dport 8080 dnat to 192.168.1.1:22
from lan to wan masquerade
`

// lastLine is the verdict line a trace ends with.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndex(s, "\n")+1:]
}

// TestTraceDiffLive: a policy's nft translation, loaded for real in a
// scratch namespace, traces with --live to the verdicts the policy gives
// offline, diff --live finds it equivalent to the policy and different
// from a changed one (with a witness at the listing's line), and neither
// changes the ruleset. The listing saved as nft text and as nft JSON
// traces and diffs the same.
func TestTraceDiffLive(t *testing.T) {
	testnetns.RequireTools(t, "nft")
	ns := testnetns.New(t)
	dir := t.TempDir()
	pol := filepath.Join(dir, "p.fw")
	changed := filepath.Join(dir, "changed.fw")
	script := filepath.Join(dir, "p.nft")
	if err := os.WriteFile(pol, []byte(liveTestPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(changed, []byte(strings.Replace(liveTestPolicy, "tcp dport 22 accept", "tcp dport 2222 accept", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"translate", "--to", "nft", "-o", script, pol}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("translate: exit %d\n%s", code, stderr.String())
	}
	testnetns.LoadNft(t, ns, script)
	before := testnetns.Ruleset(t, ns)
	nftText := filepath.Join(dir, "live.nft")
	nftJSON := filepath.Join(dir, "live.json")
	if err := os.WriteFile(nftText, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nftJSON, []byte(testnetns.Run(t, ns, "nft", "-j", "list", "ruleset")), 0o644); err != nil {
		t.Fatal(err)
	}

	trace := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"trace"}, args...), nil, &stdout, &stderr); code != 0 {
			t.Fatalf("trace %q: exit %d\n%s", args, code, stderr.String())
		}
		return stdout.String()
	}
	verdicts := map[string]bool{}
	for _, pkt := range []string{
		"iif eth0 to self tcp dport 22",
		"iif eth0 to self tcp dport 23",
		"iif eth0 to self udp dport 53",
		"iif eth0 to self saddr 2001:db8::5 tcp dport 23",
		"iif eth1 saddr 192.168.1.5 daddr 8.8.8.8 oif eth0 tcp dport 443",
		"iif eth0 saddr 8.8.8.8 daddr 192.168.1.5 oif eth1 tcp dport 443",
	} {
		want := lastLine(trace(pol, pkt))
		verdicts[want] = true
		for _, src := range [][]string{{"--live", "--netns", ns}, {nftText}, {nftJSON}} {
			if got := lastLine(trace(append(src, pkt)...)); got != want {
				t.Errorf("trace %v %q: %q, the policy gives %q", src, pkt, got, want)
			}
		}
	}
	if len(verdicts) != 3 {
		t.Errorf("the packets should meet accept, drop and reject, got %v", verdicts)
	}
	// The rule that accepts is named at its line of the listing, by its
	// imported text.
	if out := trace("--live", "--netns", ns, "iif eth0 to self tcp dport 22"); !strings.Contains(out, "live:"+ns+":") || !strings.Contains(out, ": tcp dport 22 accept\n") {
		t.Errorf("trace --live does not show the rule at its place:\n%s", out)
	}

	diff := func(want int, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"diff"}, args...), nil, &stdout, &stderr); code != want {
			t.Fatalf("diff %q: exit %d, want %d\n%s%s", args, code, want, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	diff(0, "--live", "--netns", ns, pol)
	diff(0, nftText, pol)
	diff(0, nftJSON, nftText)
	out := diff(1, "--live", "--netns", ns, changed)
	for _, want := range []string{
		"ipv4 input:\n",
		"ipv6 input:\n",
		"witness: iif eth0 to self saddr 192.0.2.1 daddr 192.0.2.1 tcp sport 40000 dport 22 ct state new\n",
		"old: live:" + ns + ":",
		"tcp dport 22 accept\n    new: policy of chain filter input\n",
		"new: " + changed + ":6 tcp dport 2222 accept\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff --live CHANGED lacks %q:\n%s", want, out)
		}
	}
	diff(1, nftJSON, changed)

	if after := testnetns.Ruleset(t, ns); after != before {
		t.Errorf("the ruleset changed\n--- before\n%s\n--- after\n%s", before, after)
	}

	// Usage.
	for _, args := range [][]string{
		{"trace", "--netns", ns, pol, "to self"},
		{"trace", "--live", pol, "to self"},
		{"diff", "--live", nftText, pol},
		{"diff", "--netns", ns, nftText, pol},
		{"trace", "--live", "--netns", "h-live-no-such-ns", "to self"},
		{"diff", "--live", "--netns", "h-live-no-such-ns", pol},
	} {
		if code := run(args, nil, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
