package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestIntegrations runs testdata/integrations/*.txtar: the GitHub Action's
// check step (scripts/action-check.sh, with fwc on PATH as the action puts
// it) and the pre-commit hooks of .pre-commit-hooks.yaml, each run as
// pre-commit would run it ("precommit ID FILE..."), with exit codes checked.
func TestIntegrations(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	hooks := readHooks(t, filepath.Join(repo, ".pre-commit-hooks.yaml"))
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/integrations",
		RequireExplicitExec: true,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exitcode": exitcode,
			"precommit": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: precommit WANTSTATUS ID [FILE...]")
				}
				h, ok := hooks[args[1]]
				if !ok {
					ts.Fatalf("no hook %q in .pre-commit-hooks.yaml", args[1])
				}
				cmd := append(strings.Fields(h.entry), h.args...)
				if h.passFilenames {
					cmd = append(cmd, args[2:]...)
				}
				exitcode(ts, neg, append([]string{args[0]}, cmd...))
			},
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv("NO_COLOR", "1")
			e.Setenv("REPO", repo)
			return nil
		},
	})
}

type hook struct {
	entry         string
	args          []string
	passFilenames bool
}

// readHooks reads the few keys of .pre-commit-hooks.yaml that say how a
// hook runs (id, entry, args as a flow list, pass_filenames), enough to run
// the hooks as pre-commit does without a YAML library.
func readHooks(t *testing.T, path string) map[string]*hook {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hooks := map[string]*hook{}
	var h *hook
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, val, _ := strings.Cut(strings.TrimPrefix(line, "- "), ":")
		val = strings.TrimSpace(val)
		switch key {
		case "id":
			h = &hook{passFilenames: true}
			hooks[val] = h
		case "entry":
			h.entry = val
		case "args":
			for _, a := range strings.Split(strings.Trim(val, "[]"), ",") {
				if a = strings.TrimSpace(a); a != "" {
					h.args = append(h.args, a)
				}
			}
		case "pass_filenames":
			h.passFilenames = val != "false"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(hooks) == 0 {
		t.Fatalf("%s: no hooks", path)
	}
	return hooks
}
