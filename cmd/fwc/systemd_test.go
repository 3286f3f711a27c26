package main

import (
	"bufio"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// The unit shipped for boot (contrib/systemd), and the fallback policy it
// applies when the policy does not compile or apply fails.
const (
	unitFile     = "../../contrib/systemd/fwc.service"
	routesFile   = "../../contrib/systemd/fwc-routes.service"
	fallbackFile = "../../contrib/systemd/fallback.fw"
)

// unit is a parsed systemd unit file: section → key → values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, sect := unit{}, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			sect = strings.Trim(line, "[]")
			u[sect] = map[string][]string{}
		case strings.HasSuffix(line, `\`):
			t.Fatalf("%s: continuation lines are not parsed by this test: %s", path, line)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || sect == "" {
				t.Fatalf("%s: not a key=value line in a section: %s", path, line)
			}
			u[sect][k] = append(u[sect][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// splitCommand splits a unit's command line into words as systemd does
// for the subset the shipped unit uses: words separated by spaces, a word
// quoted whole in '…' or "…". Specifiers (%) and variables ($) would be
// expanded by systemd, not by this test, so they are refused.
func splitCommand(t *testing.T, line string) []string {
	t.Helper()
	if strings.ContainsAny(line, "%$\\") {
		t.Fatalf("command line uses %%, $ or \\, which this test does not expand as systemd would: %s", line)
	}
	if strings.ContainsAny(line[:1], "-@:+!") {
		t.Fatalf("command prefixes are not handled by this test: %s", line)
	}
	var words []string
	for s := strings.TrimSpace(line); s != ""; s = strings.TrimLeft(s, " \t") {
		if q := s[0]; q == '\'' || q == '"' {
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				t.Fatalf("unterminated quote in %s", line)
			}
			words = append(words, s[1:1+end])
			s = s[2+end:]
			if s != "" && s[0] != ' ' && s[0] != '\t' {
				t.Fatalf("a quote must end its word in %s", line)
			}
			continue
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		words = append(words, s[:end])
		s = s[end:]
	}
	return words
}

// TestSystemdUnitVerify: systemd itself accepts the unit, without a
// single warning (a misspelt key is only a warning to systemd).
func TestSystemdUnitVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv(testnetns.EnvRequire) == "1" {
			t.Fatal("FWC_REQUIRE_NETNS=1 but systemd-analyze is missing (Debian package systemd; scripts/test.sh installs it)")
		}
		t.Skip("needs systemd-analyze (Debian package systemd)")
	}
	// verify checks that the programs the unit runs exist and are
	// executable: give it a root holding them, so that the unit is
	// verified as shipped. What fwc does at boot is TestSystemdUnitBoot's.
	files := map[string]string{
		"usr/sbin/fwc": "#!/bin/sh\n",
		"bin/sh":       "#!/bin/sh\n",
		// fwc-routes.service requires fwc.service, and by its default
		// dependencies sysinit.target, which the root must have as a
		// systemd host does (a stand-in with no dependencies).
		"etc/systemd/system/fwc.service":        "@" + unitFile,
		"usr/lib/systemd/system/sysinit.target": "[Unit]\nDescription=System Initialization\n",
	}
	for _, u := range []string{unitFile, routesFile} {
		verifyUnit(t, analyze, u, files)
	}
}

// verifyUnit runs systemd-analyze verify on the unit at path, installed
// under a root holding files.
func verifyUnit(t *testing.T, analyze, path string, files map[string]string) {
	t.Helper()
	root := t.TempDir()
	name := filepath.Base(path)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files = maps.Clone(files)
	files["etc/systemd/system/"+name] = ""
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode, data := os.FileMode(0o755), []byte(content)
		switch {
		case strings.HasPrefix(content, "@"):
			if data, err = os.ReadFile(content[1:]); err != nil {
				t.Fatal(err)
			}
			mode = 0o644
		case strings.HasSuffix(name, ".service"):
			mode, data = 0o644, text
		case strings.HasSuffix(name, ".target"):
			mode = 0o644
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, "verify", "--man=no", "--root="+root, filepath.Join(root, "etc/systemd/system", name))
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// bootEnv is a scratch host for the unit: its /etc/fwc and /var/lib/fwc
// are directories of the test, and its kernel a network namespace.
type bootEnv struct {
	t     *testing.T
	ns    string
	etc   string // stands for /etc/fwc
	state string // stands for /var/lib/fwc
	u     unit
}

// hardening returns the shell commands that put a process under the
// unit's [Service] restrictions as far as they bear on apply, run in a
// private mount namespace before exec; and the setpriv arguments. A key
// this test does not know fails it: each option of the unit is exercised.
func (b *bootEnv) hardening() (mounts string, setpriv []string) {
	t := b.t
	var sh, rw []string
	setpriv = []string{"setpriv", "--inh-caps=-all"}
	for k, vs := range b.u["Service"] {
		v := vs[len(vs)-1]
		switch k {
		case "Type", "RemainAfterExit", "ExecStart", "ExecReload", "StandardInput", "StateDirectoryMode":
			// Not restrictions.
		case "CapabilityBoundingSet":
			bs := "-all"
			for c := range strings.FieldsSeq(v) {
				bs += ",+" + strings.ToLower(strings.TrimPrefix(c, "CAP_"))
			}
			setpriv = append(setpriv, "--bounding-set="+bs)
		case "NoNewPrivileges":
			if v == "yes" {
				setpriv = append(setpriv, "--no-new-privs")
			}
		case "ProtectSystem":
			if v != "strict" {
				t.Fatalf("ProtectSystem=%s: only strict is emulated", v)
			}
			// Every mount read-only but /dev and /proc (/sys too:
			// ProtectKernelTunables and ProtectControlGroups ask that).
			// Namespaces bound under /run/netns are not file systems,
			// and come and go as other tests run.
			// /tmp, where this test's files are, is read-only as well:
			// stricter than PrivateTmp, which gives a private writable one.
			sh = append(sh, `awk '{print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
	case $m in /proc|/proc/*|/dev|/dev/*|/run/netns/*) continue ;; esac
	mount -o remount,bind,ro "$m" || [ ! -e "$m" ] || exit 1
done`)
		case "StateDirectory":
			if v != "fwc" {
				t.Fatalf("StateDirectory=%s: the test stands in for /var/lib/fwc only", v)
			}
		case "ProtectHome":
			sh = append(sh, `for d in /home /root /run/user; do [ -d $d ] && { mount -t tmpfs -o ro,mode=0755 none $d || exit 1; }; done`)
		case "ProtectKernelTunables":
			sh = append(sh, `mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys || exit 1`)
		case "PrivateTmp", "ProtectControlGroups":
			// Covered by the read-only /tmp and /sys of ProtectSystem.
		case "ReadWritePaths":
			rw = append(rw, strings.Fields(v)...)
		default:
			t.Fatalf("[Service] %s= is not emulated by this test: check that apply works under it and add it here", k)
		}
	}
	// The state directory is writable (StateDirectory=), after the
	// read-only remounts.
	for _, p := range append(rw, b.state) {
		sh = append(sh, fmt.Sprintf(`mount --bind %[1]s %[1]s && mount -o remount,bind,rw %[1]s || exit 1`, p))
	}
	return strings.Join(sh, "\n"), append(setpriv, "--")
}

// exec runs one of the unit's command lines, the way systemd would on
// this host: paths of the unit replaced by the test's, inside the network
// namespace, under the unit's hardening.
func (b *bootEnv) run(key string) (string, error) {
	t := b.t
	t.Helper()
	lines := b.u["Service"][key]
	if len(lines) != 1 {
		t.Fatalf("want one %s= line, have %d", key, len(lines))
	}
	fwc, err := exec.LookPath("fwc")
	if err != nil {
		t.Fatal(err)
	}
	repl := strings.NewReplacer("/usr/sbin/fwc", fwc, "/etc/fwc/", b.etc+"/", "/var/lib/fwc", b.state)
	var argv []string
	for _, w := range splitCommand(t, lines[0]) {
		argv = append(argv, repl.Replace(w))
	}
	mounts, setpriv := b.hardening()
	args := append([]string{"netns", "exec", b.ns, "unshare", "--mount", "--propagation", "private",
		"sh", "-ec", mounts + "\nexec \"$@\"", "sh"}, setpriv...)
	cmd := exec.Command("ip", append(args, argv...)...)
	// systemd starts units with a clean environment: no SSH_CONNECTION.
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "NO_COLOR=1"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (b *bootEnv) writePolicy(text string) {
	b.t.Helper()
	if err := os.WriteFile(filepath.Join(b.etc, "policy.fw"), []byte(text), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

const bootPolicy = `table filter {
	chain input policy drop {
		iif lo accept
		ct state established, related accept
	}
}
from any to self tcp dport 22, 80 accept
`

// newBootEnv makes a scratch namespace and the unit's /etc/fwc and state
// directories, with the shipped fallback policy in place.
func newBootEnv(t *testing.T) *bootEnv {
	testnetns.RequireTools(t, "setpriv", "unshare")
	dir := t.TempDir()
	b := &bootEnv{t: t, ns: testnetns.New(t), etc: filepath.Join(dir, "etc"), state: filepath.Join(dir, "state"), u: parseUnit(t, unitFile)}
	for _, d := range []string{b.etc, b.state} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	fb, err := os.ReadFile(fallbackFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.etc, "fallback.fw"), fb, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSystemdUnitBoot runs the unit's ExecStart and ExecReload lines in a
// scratch namespace: the policy is applied, comes back after a reboot
// (simulated by deleting the namespace's tables), follows a reload, and a
// policy that does not compile leaves the fallback in place with ssh
// still reachable (a real TCP connection from a second namespace).
func TestSystemdUnitBoot(t *testing.T) {
	b := newBootEnv(t)
	table := func() string {
		out, _ := testnetns.Try(b.ns, "nft", "list", "table", "inet", "fwc")
		return out
	}

	b.writePolicy(bootPolicy)
	if out, err := b.run("ExecStart"); err != nil {
		t.Fatalf("ExecStart: %v\n%s", err, out)
	}
	if tb := table(); !strings.Contains(tb, `tcp dport { 22, 80 } accept comment "policy.fw:7"`) {
		t.Fatalf("after ExecStart the policy is not loaded:\n%s", tb)
	}

	// Reboot: the kernel starts with no tables; the state directory
	// stays. ExecStart must load the policy again, not trust its record
	// of the last apply.
	testnetns.Run(t, b.ns, "nft", "flush", "ruleset")
	if out, err := b.run("ExecStart"); err != nil {
		t.Fatalf("ExecStart after reboot: %v\n%s", err, out)
	}
	if tb := table(); !strings.Contains(tb, `tcp dport { 22, 80 } accept comment "policy.fw:7"`) {
		t.Fatalf("after the reboot the policy is not back:\n%s", tb)
	}

	// Reload: a changed policy is applied.
	b.writePolicy(strings.Replace(bootPolicy, "22, 80", "22, 443", 1))
	if out, err := b.run("ExecReload"); err != nil {
		t.Fatalf("ExecReload: %v\n%s", err, out)
	}
	if tb := table(); !strings.Contains(tb, `tcp dport { 22, 443 } accept`) {
		t.Fatalf("after ExecReload the new policy is not loaded:\n%s", tb)
	}

	// Reload once another program has changed the ruleset (fail2ban,
	// docker): the record of the last apply no longer vouches for the
	// table, and apply compares listings, for which it loads the policy
	// into a namespace of its own: the unit must allow that.
	testnetns.Run(t, b.ns, "nft", "add", "table", "ip", "other")
	b.writePolicy(strings.Replace(bootPolicy, "22, 80", "22, 8443", 1))
	if out, err := b.run("ExecReload"); err != nil {
		t.Fatalf("ExecReload after another program changed the ruleset: %v\n%s", err, out)
	}
	if tb := table(); !strings.Contains(tb, `tcp dport { 22, 8443 } accept`) {
		t.Fatalf("after ExecReload the new policy is not loaded:\n%s", tb)
	}

	// A policy that does not compile, then a reboot: the fallback is
	// applied and the unit fails, saying so.
	b.writePolicy(bootPolicy + "from lna to self accept\n")
	testnetns.Run(t, b.ns, "nft", "flush", "ruleset")
	out, err := b.run("ExecStart")
	if err == nil {
		t.Fatalf("ExecStart with a broken policy succeeded; the unit must fail:\n%s", out)
	}
	if !strings.Contains(out, `unknown zone "lna"`) || !strings.Contains(out, "applying the fallback policy") || !strings.Contains(out, "Applied.") {
		t.Errorf("ExecStart output does not say the policy failed and the fallback was applied:\n%s", out)
	}
	tb := table()
	if !strings.Contains(tb, `tcp dport 22 ct state new accept comment "fallback.fw:`) || !strings.Contains(tb, "policy drop") || strings.Contains(tb, "policy.fw") {
		t.Fatalf("the fallback policy is not what is loaded:\n%s", tb)
	}

	// ssh still gets in, over a real link from another namespace.
	client := testnetns.New(t)
	testnetns.Run(t, b.ns, "ip", "link", "add", "h0", "type", "veth", "peer", "name", "c0", "netns", client)
	testnetns.Run(t, b.ns, "ip", "addr", "add", "10.77.0.1/24", "dev", "h0")
	testnetns.Run(t, b.ns, "ip", "link", "set", "h0", "up")
	testnetns.Run(t, client, "ip", "addr", "add", "10.77.0.2/24", "dev", "c0")
	testnetns.Run(t, client, "ip", "link", "set", "c0", "up")
	var ln net.Listener
	testnetns.Do(t, b.ns, func() {
		if ln, err = net.Listen("tcp4", "10.77.0.1:22"); err != nil {
			t.Fatal(err)
		}
	})
	defer ln.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	testnetns.Do(t, client, func() {
		c, err := net.Dial("tcp4", "10.77.0.1:22")
		if err != nil {
			t.Fatalf("ssh port under the fallback policy: %v", err)
		}
		c.Close()
	})
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
}

// TestSystemdUnitBootRoutes: at boot, before the network is configured, a
// policy with routes whose device does not exist yet is installed, not
// replaced by the fallback: fwc.service installs the table and says the
// routes wait; fwc-routes.service, once the link is up, adds them.
func TestSystemdUnitBootRoutes(t *testing.T) {
	b := newBootEnv(t)
	b.writePolicy(bootPolicy + `zone far { net 198.51.100.0/24 }
route via_a { mark 0x1/0xff; table 10; default via 10.1.0.2 dev up_a }
from self to far tcp dport 80 route via_a
`)
	out, err := b.run("ExecStart")
	if err != nil {
		t.Fatalf("ExecStart of a policy with routes before the network is up: %v\n%s", err, out)
	}
	if !strings.Contains(out, "not the routes") || !strings.Contains(out, "up_a") {
		t.Errorf("ExecStart does not say the routes wait for the network:\n%s", out)
	}
	tb, _ := testnetns.Try(b.ns, "nft", "list", "table", "inet", "fwc")
	if !strings.Contains(tb, `tcp dport { 22, 80 } accept comment "policy.fw:7"`) {
		t.Fatalf("after ExecStart the policy is not loaded:\n%s", tb)
	}

	// The network comes up; then fwc-routes.service runs.
	testnetns.Run(t, b.ns, "ip", "link", "add", "up_a", "type", "veth", "peer", "name", "up_ap")
	testnetns.Run(t, b.ns, "ip", "link", "set", "up_ap", "up")
	testnetns.Run(t, b.ns, "ip", "link", "set", "up_a", "up")
	testnetns.Run(t, b.ns, "ip", "addr", "add", "10.1.0.1/24", "dev", "up_a")
	r := &bootEnv{t: t, ns: b.ns, etc: b.etc, state: b.state, u: parseUnit(t, routesFile)}
	if out, err := r.run("ExecStart"); err != nil {
		t.Fatalf("fwc-routes.service ExecStart: %v\n%s", err, out)
	}
	if rt := testnetns.Run(t, b.ns, "ip", "-4", "route", "show", "table", "10"); !strings.Contains(rt, "default via 10.1.0.2 dev up_a proto 70") {
		t.Errorf("the routes are not installed after the network came up:\n%s", rt)
	}
	if rl := testnetns.Run(t, b.ns, "ip", "-4", "rule", "show"); !strings.Contains(rl, "fwmark 0x1/0xff lookup 10 proto 70") {
		t.Errorf("the ip rule is not installed after the network came up:\n%s", rl)
	}
}

// TestSystemdFallbackChecks: the shipped fallback policy is clean, lint
// warnings included: it is what a host runs when its own policy is broken.
func TestSystemdFallbackChecks(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := run([]string{"check", "--strict", fallbackFile}, nil, &stdout, &stderr); code != 0 || stdout.Len()+stderr.Len() != 0 {
		t.Fatalf("fwc check --strict %s: exit %d\n%s%s", fallbackFile, code, stdout.String(), stderr.String())
	}
}
