package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/fwcproject/fwc/apply"
)

var update = flag.Bool("update", false, "rewrite the cmp files of testdata/script/*.txtar")

// TestMain lets scripts run "fwc" as a real process: the test binary
// re-executes itself as fwc with run as its main. FWC_TEST_FAIL_RESTORE,
// read only here, makes every attempt to put fwc's previous table back
// fail with its value (apply.Hooks), as a failing nft would: fwc runs nft
// only from the system's directories, so a script cannot plant one.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fwc": func() {
			if msg := os.Getenv("FWC_TEST_FAIL_RESTORE"); msg != "" {
				apply.Hooks.RestoreTable = errors.New(msg)
			}
			os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// TestScript runs testdata/script/*.txtar: the CLI's exit codes, output and
// messages are its interface, pinned here.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exitcode": exitcode},
		// [root]: the script runs as root (to make files owned by other
		// users); under FWC_REQUIRE_NETNS=1 a script that needs it and
		// is not root fails instead of skipping, as kernel tests do.
		Condition: func(cond string) (bool, error) {
			if cond != "root" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			if os.Geteuid() != 0 && os.Getenv("FWC_REQUIRE_NETNS") == "1" {
				return false, errors.New("FWC_REQUIRE_NETNS=1 but this script needs root")
			}
			return os.Geteuid() == 0, nil
		},
		Setup: func(e *testscript.Env) error {
			// Diagnostics must never be coloured in tests, whatever the
			// terminal; NO_COLOR is set to check that it is honoured too.
			e.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}

// exitcode N CMD [ARG...] runs CMD like exec and fails unless it exits with
// status N; stdout and stderr are kept for the commands that follow.
// (exec and ! exec only tell zero from non-zero.)
func exitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		ee, ok := errors.AsType[*exec.ExitError](err)
		if !ok {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
