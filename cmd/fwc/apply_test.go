package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

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
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exitcode": exitcode, "netns": netnsCmd, "watchdog": watchdogCmd},
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
	ts.Defer(func() {
		// A script that failed may leave a confirm watchdog behind; it
		// must not outlive the script.
		for _, pid := range processesWith("--netns", "/run/netns/"+name) {
			if fd, err := unix.PidfdOpen(pid, 0); err == nil {
				_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
				unix.Close(fd)
			}
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
	})
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		ts.Fatalf("ip link set lo up: %v: %s", err, out)
	}
	ts.Setenv(args[0], name)
}

// watchdogCmd: watchdog alive|wait|kill DIR acts on the confirm watchdogs
// whose --state-dir is DIR, found by their command line: alive fails
// unless one runs; wait returns once none does (waiting on their exit, not
// on a clock); kill sends SIGKILL to the one that runs and waits for its
// exit.
func watchdogCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: watchdog alive|wait|kill DIR")
	}
	dir := ts.MkAbs(args[1])
	pids := watchdogs(ts, dir)
	switch args[0] {
	case "alive":
		if len(pids) == 0 {
			ts.Fatalf("no watchdog with --state-dir %s is running", dir)
		}
	case "wait":
		for _, pid := range pids {
			waitExit(ts, pid)
		}
	case "kill":
		if len(pids) != 1 {
			ts.Fatalf("%d watchdogs with --state-dir %s are running, want 1", len(pids), dir)
		}
		if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
			ts.Fatalf("kill the watchdog: %v", err)
		}
		waitExit(ts, pids[0])
	default:
		ts.Fatalf("usage: watchdog alive|wait|kill DIR")
	}
}

// watchdogs lists the processes running `... confirm --watchdog TOKEN
// --state-dir DIR ...`.
func watchdogs(ts *testscript.TestScript, dir string) []int {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		ts.Fatalf("%v", err)
	}
	return processesWith("--state-dir", dir)
}

// processesWith lists the confirm watchdogs (processes with --watchdog in
// their arguments) that have flag followed by value in them.
func processesWith(flag, value string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := bytes.Split(bytes.TrimSuffix(cmdline, []byte{0}), []byte{0})
		isWatchdog, has := false, false
		for i, a := range argv {
			isWatchdog = isWatchdog || string(a) == "--watchdog"
			has = has || string(a) == flag && i+1 < len(argv) && string(argv[i+1]) == value
		}
		if isWatchdog && has {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitExit waits for the exit of a process that is not our child, on a
// pidfd (readable once the process has exited).
func waitExit(ts *testscript.TestScript, pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return // gone already
	}
	if err != nil {
		ts.Fatalf("pidfd_open %d: %v", pid, err)
	}
	defer unix.Close(fd)
	for {
		_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
		if err == nil {
			return
		}
		if err != unix.EINTR {
			ts.Fatalf("poll pidfd %d: %v", pid, err)
		}
	}
}
