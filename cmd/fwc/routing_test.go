package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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
	// The other cases: IPv6 routes, a route without a gateway (scope
	// link), rules without a priority (apply's default numbering).
	extra := "testdata/routing-v6.fw"
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

// networkdKeys are the keys of the sections networkd.conf may hold, as
// systemd.network(5) documents them.
var networkdKeys = map[string][]string{
	"RoutingPolicyRule": {"Family", "FirewallMark", "Table", "Priority"},
	"Route":             {"Destination", "Gateway", "Scope", "Table", "Protocol"},
}

// networkdCommands reads networkd.conf as an INI file, in its parts per
// link, checks that every section and key is one networkd knows, and
// returns what networkd would do with each section as the ip command that
// does the same: a rule as networkd adds it (protocol static), a route on
// the link of its part.
func networkdCommands(t *testing.T, text string) [][]string {
	t.Helper()
	var cmds [][]string
	link, section := "", ""
	var kv map[string]string
	flush := func() {
		if section == "" {
			return
		}
		fam := "-4"
		switch section {
		case "RoutingPolicyRule":
			if kv["Family"] == "ipv6" {
				fam = "-6"
			} else if kv["Family"] != "ipv4" {
				t.Fatalf("rule without Family=ipv4|ipv6: %v", kv)
			}
			cmds = append(cmds, []string{"ip", fam, "rule", "add", "fwmark", kv["FirewallMark"], "lookup", kv["Table"], "priority", kv["Priority"], "protocol", "static"})
		case "Route":
			if strings.Contains(kv["Destination"], ":") {
				fam = "-6"
			}
			c := []string{"ip", fam, "route", "add", kv["Destination"]}
			if gw := kv["Gateway"]; gw != "" {
				c = append(c, "via", gw)
			}
			if link == "" || link == "(any)" {
				t.Fatalf("route outside a link's part: %v", kv)
			}
			c = append(c, "dev", link, "table", kv["Table"], "proto", kv["Protocol"])
			if s := kv["Scope"]; s != "" {
				c = append(c, "scope", s)
			}
			cmds = append(cmds, c)
		}
		section = ""
	}
	for l := range strings.Lines(text) {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "# Link "):
			flush()
			name, _, ok := strings.Cut(strings.TrimPrefix(l, "# Link "), ":")
			if !ok {
				t.Fatalf("bad link line %q", l)
			}
			link = name
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			flush()
			section, kv = l[1:len(l)-1], map[string]string{}
			if _, ok := networkdKeys[section]; !ok {
				t.Fatalf("section [%s] is not one networkd.conf may hold", section)
			}
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok || section == "" || !slices.Contains(networkdKeys[section], k) || v == "" {
				t.Fatalf("line %q is not a key of [%s]", l, section)
			}
			if _, dup := kv[k]; dup {
				t.Fatalf("key %s twice in a [%s] section", k, section)
			}
			kv[k] = v
		}
	}
	flush()
	return cmds
}

// TestTranslateNetworkd: networkd.conf, read as networkd reads it and
// carried out by the ip commands that do what networkd would with each
// section, gives the ip rules and routes fwc apply installs from the same
// policy (but for the rules' protocol, which networkd sets to static).
func TestTranslateNetworkd(t *testing.T) {
	testnetns.Require(t)
	fwc, err := exec.LookPath("fwc")
	if err != nil {
		t.Fatal(err)
	}
	proto := regexp.MustCompile(` proto (70|static)`)
	rules := func(s string) string {
		var b strings.Builder
		for l := range strings.Lines(s) {
			if !strings.Contains(l, "lookup") {
				b.WriteString(l)
				continue
			}
			b.WriteString(proto.ReplaceAllString(l, ""))
		}
		return b.String()
	}
	for _, policy := range []string{"../../examples/dual-uplink.fw", "testdata/routing-v6.fw"} {
		t.Run(filepath.Base(policy), func(t *testing.T) {
			out := t.TempDir()
			var stderr bytes.Buffer
			if code := run([]string{"translate", "--to", "all", "--out-dir", out, policy}, nil, &bytes.Buffer{}, &stderr); code != 0 {
				t.Fatalf("translate: exit %d\n%s", code, stderr.String())
			}
			text, err := os.ReadFile(filepath.Join(out, "networkd.conf"))
			if err != nil {
				t.Fatal(err)
			}
			cmds := networkdCommands(t, string(text))
			nd, applied := testnetns.New(t), testnetns.New(t)
			uplinks(t, nd)
			uplinks(t, applied)
			if out, err := exec.Command(fwc, "apply", "--netns", applied, "--state-dir", t.TempDir(), policy).CombinedOutput(); err != nil {
				t.Fatalf("fwc apply: %v\n%s", err, out)
			}
			for _, c := range cmds {
				testnetns.Run(t, nd, c...)
			}
			want := routingState(t, applied)
			if got := routingState(t, nd); rules(got) != rules(want) || !strings.Contains(got, "proto static") {
				t.Fatalf("networkd.conf carried out:\n%s\nfwc apply:\n%s\nnetworkd.conf:\n%s", got, want, text)
			}
		})
	}
}
