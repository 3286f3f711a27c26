// Package testnetns gives kernel tests a throwaway network namespace.
//
// Tests that load rulesets into the kernel must never touch the root
// namespace. They call Require to skip when the machine cannot run them
// (not root, no `ip`/`nft`, no namespace support) and New to get a fresh
// named namespace that is deleted when the test ends, pass or fail.
//
// When the environment variable FWC_REQUIRE_NETNS is "1" (CI sets it), a
// missing prerequisite fails the test instead of skipping it, so that a
// misconfigured CI machine cannot turn the kernel tests into silent skips.
package testnetns

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/vishvananda/netns"
)

// EnvRequire is the environment variable that turns skips into failures.
const EnvRequire = "FWC_REQUIRE_NETNS"

// Prefix starts the name of every namespace New creates, so that leftovers
// from a killed test run are easy to find: `ip netns list | grep fwc-test-`.
const Prefix = "fwc-test-"

var (
	probeOnce sync.Once
	probeErr  string
)

// probe checks once per process that namespaces can be made and used.
func probe() string {
	probeOnce.Do(func() {
		if os.Geteuid() != 0 {
			probeErr = "needs root (network namespaces and nftables)"
			return
		}
		for _, tool := range []string{"ip", "nft"} {
			if _, err := exec.LookPath(tool); err != nil {
				probeErr = "needs " + tool + " in PATH: " + err.Error()
				return
			}
		}
		name := Prefix + "probe-" + randomSuffix()
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			probeErr = "cannot create a network namespace: " + strings.TrimSpace(string(out))
			return
		}
		defer func() { _ = exec.Command("ip", "netns", "del", name).Run() }()
		if out, err := exec.Command("ip", "netns", "exec", name, "nft", "list", "ruleset").CombinedOutput(); err != nil {
			probeErr = "cannot run nft in a network namespace: " + strings.TrimSpace(string(out))
		}
	})
	return probeErr
}

// Require skips the test unless it can create network namespaces and run nft
// in them. With FWC_REQUIRE_NETNS=1 it fails the test instead.
func Require(t testing.TB) {
	t.Helper()
	missing(t, probe())
}

// RequireTools is Require, and also needs each of tools on PATH (ipset,
// iptables-restore, ...).
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	Require(t)
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, "needs "+tool)
			return
		}
	}
}

// missing skips or fails t for reason, unless reason is empty.
func missing(t testing.TB, reason string) {
	t.Helper()
	if reason == "" {
		return
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s=1 but this test %s", EnvRequire, reason)
		return
	}
	t.Skipf("skipping: %s (set %s=1 to make this a failure)", reason, EnvRequire)
}

// New calls Require, creates a fresh named network namespace and returns its
// name. The namespace is deleted in t.Cleanup, whatever the outcome.
func New(t testing.TB) string {
	t.Helper()
	Require(t)
	name := Prefix + randomSuffix()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	return name
}

// Path returns the bind-mount path of the named namespace, the form that
// setns(2) users (and `fwc apply --netns`) open.
func Path(name string) string {
	return filepath.Join("/run/netns", name)
}

// Run runs a command inside the namespace and returns its combined output.
// It fails the test if the command fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := Try(name, args...)
	if err != nil {
		t.Fatalf("in netns %s: %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// Try runs a command inside the namespace and returns its combined output
// and error, for commands that are expected to fail.
func Try(name string, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", name}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Flush empties the nftables ruleset of each named namespace, failing the
// test if nft fails.
func Flush(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		Run(t, name, "nft", "flush", "ruleset")
	}
}

// LoadNft loads an nft script with `nft -f` inside the namespace, under
// TZ=UTC as Feed (a script written by hand may hold "HH:MM" times, which
// nft reads in its zone), failing the test if nft fails, and returns nft's
// peak RSS in KiB: benchmarks compare fwc's apply with it.
func LoadNft(t testing.TB, name, file string) (maxrssKiB int64) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", name, "env", "TZ=UTC", "nft", "-f", file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("in netns %s: nft -f %s: %v\n%.2000s", name, file, err, out)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// Feed runs a command inside the namespace with stdin and returns its
// combined output and error. It runs under TZ=UTC, because nft lists meta
// hour and meta time in its local zone (and reads "HH:MM" and dates in
// it): under UTC a listing shows a policy's times as the policy wrote
// them. fwc's own scripts carry numbers, which nft stores the same under
// any zone; a command that must run under another zone sets its own
// ("env", "TZ=...", "nft", ...).
func Feed(name string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", name}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Ruleset returns `nft list ruleset` run inside the namespace.
func Ruleset(t testing.TB, name string) string {
	t.Helper()
	return Run(t, name, "nft", "list", "ruleset")
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Do runs f on a thread switched into the named namespace; sockets f
// opens stay in it. The thread goes back to the test's namespace after.
func Do(t testing.TB, name string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic("cannot switch back to the test's namespace: " + err.Error())
		}
	}()
	f()
}
