package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestApplyScript runs testdata/apply/*.txtar: apply, plan and confirm
// against throwaway network namespaces (made by the netns command). The
// scripts skip without root, and fail instead under FWC_REQUIRE_NETNS=1.
func TestApplyScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/apply",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exitcode": exitcode, "netns": netnsCmd},
		// [netns]: namespaces can be made and nftables used in them.
		Condition: func(cond string) (bool, error) {
			if cond != "netns" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			reason := ""
			if os.Geteuid() != 0 {
				reason = "needs root"
			} else if _, err := exec.LookPath("nft"); err != nil {
				reason = "needs nft"
			}
			if reason != "" && os.Getenv("FWC_REQUIRE_NETNS") == "1" {
				return false, fmt.Errorf("FWC_REQUIRE_NETNS=1 but this script %s", reason)
			}
			return reason == "", nil
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv("NO_COLOR", "1")
			e.Setenv("SSH_CONNECTION", "")
			return nil
		},
	})
}

// netnsCmd: netns VAR (after [!netns] skip) creates a fresh network namespace with loopback up,
// deleted when the script ends, and sets $VAR to its name.
func netnsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: netns VAR")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "fwc-test-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		ts.Fatalf("ip netns add: %v: %s", err, out)
	}
	ts.Defer(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		ts.Fatalf("ip link set lo up: %v: %s", err, out)
	}
	ts.Setenv(args[0], name)
}
