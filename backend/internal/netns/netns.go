// Package netns runs the real netfilter tools for backend tests inside a
// throwaway network namespace, so nothing touches the host's ruleset.
// Tests skip without root or the tools, and fail instead when
// FWC_REQUIRE_NETNS=1 (as in CI). It stands in for internal/testnetns
// until that lands in main.
package netns

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"
)

// Require skips (or with FWC_REQUIRE_NETNS=1 fails) unless the test runs
// as root with ip and every named tool on PATH.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	miss := ""
	if os.Geteuid() != 0 {
		miss = "root"
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil && miss == "" {
			miss = tool
		}
	}
	if miss == "" {
		return
	}
	if os.Getenv("FWC_REQUIRE_NETNS") == "1" {
		t.Fatalf("needs %s (FWC_REQUIRE_NETNS=1)", miss)
	}
	t.Skipf("needs %s", miss)
}

// New creates a network namespace deleted when the test ends, and returns
// its name.
func New(t testing.TB, tools ...string) string {
	t.Helper()
	Require(t, tools...)
	b := make([]byte, 4)
	rand.Read(b)
	name := "fwc-t-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// Run runs argv inside namespace ns with stdin, and returns combined output
// and the error.
func Run(ns string, stdin []byte, argv ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
