package apply

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

const sysctlPolicy = `sysctl net.ipv4.ip_forward = 1
sysctl net.ipv6.conf.all.forwarding = 1
sysctl net.ipv4.conf.all.rp_filter = 2
sysctl net.netfilter.nf_conntrack_tcp_timeout_established = 3600
table filter { chain input { ct state established accept } }
`

// rootForward is the root namespace's ip_forward, read by the test
// process (which runs there): an apply in a scratch namespace must leave
// it alone.
func rootForward(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func nsSysctl(t *testing.T, ns, path string) string {
	t.Helper()
	return strings.TrimSpace(testnetns.Run(t, ns, "cat", path))
}

// TestSysctlApply: plan shows each declared setting that differs in the
// target namespace (have -> want), apply writes them there and not in the
// root namespace, and the next plan is empty.
func TestSysctlApply(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	root := rootForward(t)
	// The values a fresh namespace starts with, so that each line is a change.
	testnetns.Run(t, ns, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward; echo 0 > /proc/sys/net/ipv6/conf/all/forwarding; echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter")
	w := compileSrc(t, sysctlPolicy)

	p := plan(t, h, w)
	var b strings.Builder
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"~ sysctl net.ipv4.ip_forward: 0 -> 1",
		"~ sysctl net.ipv6.conf.all.forwarding: 0 -> 1",
		"~ sysctl net.ipv4.conf.all.rp_filter: 0 -> 2",
		"~ sysctl net.netfilter.nf_conntrack_tcp_timeout_established: ",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("plan lacks %q:\n%s", line, b.String())
		}
	}
	if out, err := Apply(h, p, Options{}); out != batch.Applied || err != nil {
		t.Fatalf("apply: %v: %v", out, err)
	}
	for path, want := range map[string]string{
		"/proc/sys/net/ipv4/ip_forward":                                "1",
		"/proc/sys/net/ipv6/conf/all/forwarding":                       "1",
		"/proc/sys/net/ipv4/conf/all/rp_filter":                        "2",
		"/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established": "3600",
	} {
		if got := nsSysctl(t, ns, path); got != want {
			t.Errorf("%s in the namespace is %s, want %s", path, got, want)
		}
	}
	if got := rootForward(t); got != root {
		t.Errorf("the root namespace's ip_forward changed from %s to %s", root, got)
	}
	mustBeEmpty(t, h, w)
}

// TestSysctlFailure: a setting the namespace lacks (an interface that does
// not exist) is a failed step like a failed routing change: the settings
// written before it are put back, the previous table is back, and the error
// names the setting. With Boot the table stays and the error says so.
func TestSysctlFailure(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	testnetns.Run(t, ns, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward")
	w := compileSrc(t, "sysctl net.ipv4.ip_forward = 1\nsysctl net.ipv4.conf.nosuch0.rp_filter = 1\n"+
		"table filter { chain input { tcp dport 7 drop } }\n")
	tableLoaded := func() bool {
		out, err := testnetns.Try(ns, "nft", "list", "table", "inet", "fwc")
		return err == nil && strings.Contains(out, "tcp dport 7 drop")
	}

	out, err := Apply(h, plan(t, h, w), Options{})
	if out != batch.NotApplied || err == nil {
		t.Fatalf("apply with a missing interface's rp_filter: %v, %v; want NotApplied and an error", out, err)
	}
	if !strings.Contains(err.Error(), "sysctl net.ipv4.conf.nosuch0.rp_filter") {
		t.Errorf("the error does not name the setting: %v", err)
	}
	if tableLoaded() {
		t.Errorf("a failed apply left the new table")
	}
	if got := nsSysctl(t, ns, "/proc/sys/net/ipv4/ip_forward"); got != "0" {
		t.Errorf("ip_forward is %s after the failed apply, want it put back to 0", got)
	}

	out, err = Apply(h, plan(t, h, w), Options{Boot: true})
	var rd *RoutesDeferred
	if out != batch.Applied || !errors.As(err, &rd) {
		t.Fatalf("boot apply: %v, %v; want Applied and *RoutesDeferred", out, err)
	}
	if !tableLoaded() {
		t.Errorf("boot apply did not install the table")
	}
}

// TestSysctlIptables: the iptables backend plans and writes the sysctls
// too, and a failed one puts the previous rules back like a failed route.
func TestSysctlIptables(t *testing.T) {
	const v = IptablesVariant("nft")
	testnetns.RequireTools(t, v.tool(4, "restore"), "ipset")
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	testnetns.Run(t, ns, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward")
	w := compileIpt(t, iptPolicy("80")+"sysctl net.ipv4.ip_forward = 1\n")
	p := applyIpt(t, h, v, w)
	if len(p.Sysctls) != 1 || p.Sysctls[0].String() != "~ sysctl net.ipv4.ip_forward: 0 -> 1" {
		t.Errorf("plan's sysctl lines: %v", p.Sysctls)
	}
	if got := nsSysctl(t, ns, "/proc/sys/net/ipv4/ip_forward"); got != "1" {
		t.Errorf("ip_forward is %s after the iptables apply, want 1", got)
	}

	before := save(t, ns, v)
	w = compileIpt(t, iptPolicy("81")+"sysctl net.ipv4.ip_forward = 0\nsysctl net.ipv4.conf.nosuch0.rp_filter = 1\n")
	out, err := Apply(h, planIpt(t, h, v, w), Options{})
	if out != batch.NotApplied || err == nil || !strings.Contains(err.Error(), "the previous iptables rules are back") {
		t.Fatalf("apply with a missing interface's rp_filter: %v, %v", out, err)
	}
	if got := save(t, ns, v); got != before {
		t.Errorf("the failed apply changed the rules:\n%s\nwant:\n%s", got, before)
	}
	if got := nsSysctl(t, ns, "/proc/sys/net/ipv4/ip_forward"); got != "1" {
		t.Errorf("ip_forward is %s after the failed apply, want it put back to 1", got)
	}
}
