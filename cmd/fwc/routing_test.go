package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// uplinks gives namespace ns the links the routing policies below name:
// eth1 and eth2 (veth pairs, up, with the uplinks' IPv4 and IPv6
// networks), so that their gateways are reachable and routes through them
// are accepted.
func uplinks(t *testing.T, ns string) {
	for i, dev := range []string{"eth1", "eth2"} {
		n := string(rune('1' + i))
		testnetns.Run(t, ns, "ip", "link", "add", dev, "type", "veth", "peer", "name", "peer"+n)
		testnetns.Run(t, ns, "ip", "addr", "add", "10.10."+n+".2/24", "dev", dev)
		testnetns.Run(t, ns, "ip", "addr", "add", "fd00:"+n+"::2/64", "dev", dev, "nodad")
		testnetns.Run(t, ns, "ip", "link", "set", dev, "up")
		testnetns.Run(t, ns, "ip", "link", "set", "peer"+n, "up")
	}
}

// routingState is what `ip` shows of fwc's policy routing in ns: the rules
// and the routes of protocol 70, both families.
func routingState(t *testing.T, ns string) string {
	var b strings.Builder
	for _, fam := range []string{"-4", "-6"} {
		b.WriteString(testnetns.Run(t, ns, "ip", fam, "rule", "show"))
		b.WriteString(testnetns.Run(t, ns, "ip", fam, "route", "show", "table", "all", "proto", "70"))
	}
	return b.String()
}

// TestTranslateIPRoute2: the batch files of translate --to iproute2 and
// iproute2-6, loaded for real with ip -4/-6 -batch in one namespace, give
// the ip rules and routes fwc apply installs from the same policy in
// another; and loading them again changes nothing (they replace fwc's
// rules and routes, as apply does).
func TestTranslateIPRoute2(t *testing.T) {
	testnetns.Require(t)
	extra := filepath.Join(t.TempDir(), "v6.fw")
	// The other cases: IPv6 routes, a route without a gateway (scope
	// link), rules without a priority (apply's default numbering).
	if err := os.WriteFile(extra, []byte(`zone lan { iface eth0 }
route v6 {
	mark 0x100/0xf00
	table 30
	default via fd00:1::1 dev eth1
	2001:db8::/32 dev eth2
	198.51.100.0/24 dev eth2
}
route other {
	mark 0x200/0xf00
	table 31
	default via fd00:2::1 dev eth2
}
from lan to any tcp dport 443 route v6
from lan to any tcp dport 80 route other
`), 0o644); err != nil {
		t.Fatal(err)
	}
	fwc, err := exec.LookPath("fwc")
	if err != nil {
		t.Fatal(err)
	}
	for _, policy := range []string{"../../examples/dual-uplink.fw", extra} {
		t.Run(filepath.Base(policy), func(t *testing.T) {
			out := t.TempDir()
			var stderr bytes.Buffer
			if code := run([]string{"translate", "--to", "all", "--out-dir", out, policy}, nil, &bytes.Buffer{}, &stderr); code != 0 {
				t.Fatalf("translate: exit %d\n%s", code, stderr.String())
			}
			batch, applied := testnetns.New(t), testnetns.New(t)
			uplinks(t, batch)
			uplinks(t, applied)
			if out, err := exec.Command(fwc, "apply", "--netns", applied, "--state-dir", t.TempDir(), policy).CombinedOutput(); err != nil {
				t.Fatalf("fwc apply: %v\n%s", err, out)
			}
			want := routingState(t, applied)
			if !strings.Contains(want, "proto 70") {
				t.Fatalf("apply installed no routing:\n%s", want)
			}
			for range 2 {
				testnetns.Run(t, batch, "ip", "-4", "-batch", filepath.Join(out, "iproute2.v4"))
				testnetns.Run(t, batch, "ip", "-6", "-batch", filepath.Join(out, "iproute2.v6"))
				if got := routingState(t, batch); got != want {
					t.Fatalf("ip -batch of the translated files:\n%s\nfwc apply:\n%s", got, want)
				}
			}
		})
	}
}
