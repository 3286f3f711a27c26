package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestImportLive: fwc import --live --netns reads what the kernel runs in
// the namespace, tables of other tools (here loaded by iptables-restore, as
// docker does, and by nft) included, and changes nothing; fwc check --live
// lints the same at the listing's lines.
func TestImportLive(t *testing.T) {
	testnetns.RequireTools(t, "nft", "iptables-restore")
	ns := testnetns.New(t)
	if out, err := testnetns.Feed(ns, []byte(`*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A DOCKER-USER -j RETURN
COMMIT
`), "iptables-restore"); err != nil {
		t.Fatalf("iptables-restore: %v: %s", err, out)
	}
	if out, err := testnetns.Feed(ns, []byte(`table inet mine {
	chain input {
		type filter hook input priority 10; policy accept;
		tcp dport 22 accept
		tcp dport 22 accept
		ip6 nexthdr udp accept
	}
}
`), "nft", "-f", "-"); err != nil {
		t.Fatalf("nft -f: %v: %s", err, out)
	}
	before := testnetns.Ruleset(t, ns)
	var stdout, stderr bytes.Buffer
	code := run([]string{"import", "--live", "--netns", ns}, nil, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit %d, want 1 (the nexthdr rule is not imported)\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"family ipv4 drop # policy of live:" + ns,
		"jump DOCKER-USER # live:" + ns,
		"family ipv4 counter return # live:" + ns,
		"chain input priority 10 {",
		"# not imported (live:" + ns,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the import lacks %q:\n%s\n%s", want, out, stderr.String())
		}
	}
	if !strings.Contains(stderr.String(), "ip6 nexthdr tests the first header") || !strings.Contains(stderr.String(), "import iptables-save's output for this table") {
		t.Errorf("stderr: %s", stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"check", "--live", "--netns", ns}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("check --live: exit %d", code)
	}
	if !strings.Contains(stderr.String(), "rule is redundant") || !strings.Contains(stderr.String(), "live:"+ns+":") {
		t.Errorf("check --live does not report the second tcp dport 22 at its place:\n%s", stderr.String())
	}
	if after := testnetns.Ruleset(t, ns); after != before {
		t.Errorf("the ruleset changed\n--- before\n%s\n--- after\n%s", before, after)
	}
	if code := run([]string{"import", "--live", "--netns", "h-nftimport-no-such-ns"}, nil, &stdout, &stderr); code != 2 {
		t.Errorf("a namespace that does not exist: exit %d, want 2", code)
	}
}
