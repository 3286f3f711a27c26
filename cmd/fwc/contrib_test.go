package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// recap matches the PLAY RECAP line of ansible-playbook's default output.
var recap = regexp.MustCompile(`localhost\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)`)

// TestAnsibleCollection runs contrib/ansible/examples/site.yml with
// ansible-playbook against this host (-c local) in a scratch network
// namespace: check mode reports the pending change and shows the plan
// without touching the kernel, a real run installs the policy and confirms
// it, a second run changes nothing.
func TestAnsibleCollection(t *testing.T) {
	testnetns.RequireTools(t, "ansible-playbook")
	ns := testnetns.New(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	colls := filepath.Join(tmp, "collections", "ansible_collections", "fwcproject")
	if err := os.MkdirAll(colls, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(repo, "contrib", "ansible"), filepath.Join(colls, "fwc")); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(tmp, "state")
	policy := filepath.Join(tmp, "etc", "policy.fw")
	if err := os.MkdirAll(filepath.Dir(policy), 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		// The namespace has no SSH connection to protect; the test's
		// own session must not make fwc refuse the policy.
		if !strings.HasPrefix(kv, "SSH_CONNECTION=") && !strings.HasPrefix(kv, "ANSIBLE_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"ANSIBLE_COLLECTIONS_PATH="+filepath.Join(tmp, "collections"),
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(tmp, "ansible-local"),
		"ANSIBLE_REMOTE_TEMP="+filepath.Join(tmp, "ansible-remote"),
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_PYTHON_INTERPRETER=auto_silent",
		"HOME="+tmp)
	play := func(extra ...string) (out string, changed string) {
		t.Helper()
		args := append([]string{"-c", "local", "-i", "localhost,",
			"-e", "fwc_policy=" + policy, "-e", "fwc_netns=" + ns, "-e", "fwc_state_dir=" + stateDir}, extra...)
		args = append(args, filepath.Join(repo, "contrib", "ansible", "examples", "site.yml"))
		cmd := exec.Command("ansible-playbook", args...)
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		m := recap.FindStringSubmatch(string(b))
		if err != nil || m == nil || m[2] != "0" {
			t.Fatalf("ansible-playbook %s: %v\n%s", strings.Join(extra, " "), err, b)
		}
		return string(b), m[1]
	}
	table := func() string {
		out, err := testnetns.Try(ns, "nft", "list", "table", "inet", "fwc")
		if err != nil {
			return "" // no such table
		}
		return out
	}

	// Nothing on the host yet: check mode says what would change and
	// changes nothing.
	if _, changed := play("--check", "--diff"); changed != "2" {
		t.Errorf("check mode on a fresh host: changed=%s, want 2 (template and apply)", changed)
	}
	if _, err := os.Stat(policy); err == nil || table() != "" {
		t.Fatalf("check mode wrote the policy or loaded a table:\n%s", table())
	}

	// A real run installs, applies with a confirm window and confirms.
	if _, changed := play(); changed != "3" {
		t.Errorf("first run: changed=%s, want 3 (template, apply, confirm)", changed)
	}
	if got := table(); !strings.Contains(got, `tcp dport 22 accept comment "policy.fw:6"`) {
		t.Fatalf("the namespace does not hold the policy:\n%s", got)
	}
	out, err := exec.Command("fwc", "confirm", "--netns", ns, "--state-dir", stateDir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no apply is waiting") {
		t.Errorf("after the play an apply still waits for confirmation: %v %s", err, out)
	}

	// Idempotent.
	if _, changed := play(); changed != "0" {
		t.Errorf("second run: changed=%s, want 0", changed)
	}

	// Someone flushed the ruleset: check mode reports the change, with
	// fwc plan's text as the diff, and leaves the kernel alone.
	testnetns.Run(t, ns, "nft", "flush", "ruleset")
	out2, changed := play("--check", "--diff")
	if changed != "1" || !strings.Contains(out2, "+ table inet fwc") {
		t.Errorf("check mode after a flush: changed=%s, want 1 with the plan as diff:\n%s", changed, out2)
	}
	if table() != "" {
		t.Errorf("check mode loaded the table")
	}
}
