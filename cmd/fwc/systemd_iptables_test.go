package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

const (
	iptDropIn       = "../../contrib/systemd/iptables/fwc.service.conf"
	iptRoutesDropIn = "../../contrib/systemd/iptables/fwc-routes.service.conf"
)

// withDropIn is u with the drop-in at path applied as systemd applies
// one: a key's values are added to the unit's, an empty value resets them.
func withDropIn(t *testing.T, u unit, path string) unit {
	t.Helper()
	out := unit{}
	for sect, kv := range u {
		out[sect] = map[string][]string{}
		for k, vs := range kv {
			out[sect][k] = append([]string(nil), vs...)
		}
	}
	for sect, kv := range parseUnit(t, path) {
		if out[sect] == nil {
			out[sect] = map[string][]string{}
		}
		for k, vs := range kv {
			for _, v := range vs {
				if v == "" {
					out[sect][k] = nil
				} else {
					out[sect][k] = append(out[sect][k], v)
				}
			}
		}
	}
	return out
}

// TestSystemdIptablesDropIn: systemd accepts the units with the iptables
// drop-ins, and their ExecStart and ExecReload lines, run under the
// merged hardening with each variant of the iptables tools, install the
// policy in fwc's chains, put it back after a reboot (iptables and ipset
// emptied), follow a reload, and apply the fallback the same way when the
// policy does not compile.
func TestSystemdIptablesDropIn(t *testing.T) {
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		for _, c := range []struct{ unit, dropIn string }{{unitFile, iptDropIn}, {routesFile, iptRoutesDropIn}} {
			name := filepath.Base(c.unit)
			verifyUnit(t, analyze, c.unit, map[string]string{
				"usr/sbin/fwc":                          "#!/bin/sh\n",
				"bin/sh":                                "#!/bin/sh\n",
				"etc/systemd/system/fwc.service":        "@" + unitFile,
				"usr/lib/systemd/system/sysinit.target": "[Unit]\nDescription=System Initialization\n",
				"etc/systemd/system/" + name + ".d/iptables.conf": "@" + c.dropIn,
			})
		}
	} else if os.Getenv(testnetns.EnvRequire) == "1" {
		t.Fatal("FWC_REQUIRE_NETNS=1 but systemd-analyze is missing (Debian package systemd)")
	}
	for _, v := range []string{"legacy", "nft"} {
		t.Run(v, func(t *testing.T) {
			testnetns.RequireTools(t, "iptables-"+v+"-save", "ipset")
			b := newBootEnv(t)
			b.u = withDropIn(t, b.u, iptDropIn)
			// The drop-in names the system's iptables; each variant is
			// tried by naming it instead.
			for _, k := range []string{"ExecStart", "ExecReload"} {
				for i, l := range b.u["Service"][k] {
					b.u["Service"][k][i] = strings.ReplaceAll(l, "--backend iptables ", "--backend iptables-"+v+" ")
				}
			}
			save := func() string {
				return testnetns.Run(t, b.ns, "iptables-"+v+"-save")
			}
			b.writePolicy(bootPolicy)
			if out, err := b.run("ExecStart"); err != nil {
				t.Fatalf("ExecStart: %v\n%s", err, out)
			}
			const rule = `-A fwc-INPUT -p tcp -m multiport --dports 22,80 -m comment --comment "policy.fw:7" -j ACCEPT`
			if s := save(); !strings.Contains(s, rule) || !strings.Contains(s, "-A INPUT -m comment --comment fwc -j fwc-INPUT") {
				t.Fatalf("after ExecStart the policy is not loaded:\n%s", s)
			}
			if tb := testnetns.Run(t, b.ns, "nft", "list", "tables"); strings.Contains(tb, "table inet fwc") {
				t.Fatalf("the iptables drop-in made an nft table:\n%s", tb)
			}

			// Reboot: iptables and ipset start empty; the state directory
			// stays.
			testnetns.Run(t, b.ns, "iptables-"+v, "-F", "INPUT")
			testnetns.Run(t, b.ns, "iptables-"+v, "-F", "fwc-INPUT")
			testnetns.Run(t, b.ns, "iptables-"+v, "-X", "fwc-INPUT")
			testnetns.Run(t, b.ns, "ip6tables-"+v, "-F", "INPUT")
			testnetns.Run(t, b.ns, "ip6tables-"+v, "-F", "fwc-INPUT")
			testnetns.Run(t, b.ns, "ip6tables-"+v, "-X", "fwc-INPUT")
			if s := save(); strings.Contains(s, "fwc") {
				t.Fatalf("the reboot left fwc's rules:\n%s", s)
			}
			if out, err := b.run("ExecStart"); err != nil {
				t.Fatalf("ExecStart after reboot: %v\n%s", err, out)
			}
			if s := save(); !strings.Contains(s, rule) {
				t.Fatalf("after the reboot the policy is not back:\n%s", s)
			}

			b.writePolicy(strings.Replace(bootPolicy, "22, 80", "22, 443", 1))
			if out, err := b.run("ExecReload"); err != nil {
				t.Fatalf("ExecReload: %v\n%s", err, out)
			}
			if s := save(); !strings.Contains(s, "--dports 22,443") {
				t.Fatalf("after ExecReload the new policy is not loaded:\n%s", s)
			}

			b.writePolicy(bootPolicy + "from lna to self accept\n")
			out, err := b.run("ExecStart")
			if err == nil || !strings.Contains(out, "applying the fallback policy") {
				t.Fatalf("ExecStart with a broken policy: %v\n%s", err, out)
			}
			if s := save(); !strings.Contains(s, "-A fwc-INPUT -p tcp -m tcp --dport 22") || strings.Contains(s, "22,443") {
				t.Fatalf("the fallback is not what iptables holds:\n%s", s)
			}
		})
	}
}
