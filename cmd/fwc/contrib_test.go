package main

import (
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

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
	// The module's documentation parses (ansible-doc fails on broken YAML).
	doc := exec.Command("ansible-doc", "fwcproject.fwc.fwc")
	doc.Env = env
	if out, err := doc.CombinedOutput(); err != nil || !strings.Contains(string(out), "state_dir") {
		t.Fatalf("ansible-doc fwcproject.fwc.fwc: %v\n%s", err, out)
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

// k8s walks a decoded YAML document: k8s(doc, "spec", "template", 0, ...).
func k8s(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a mapping at %q", path, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

// fwcLine matches a line of the DaemonSet's script that runs fwc, after
// "if", "if !" or "!", up to a redirection or "; then".
var fwcLine = regexp.MustCompile(`^\s*(?:if\s+)?(?:!\s*)?fwc\s+([^;>|&]*?)\s*(?:[0-9]?>.*|;\s*then)?$`)

// TestKubernetesDaemonSet checks contrib/kubernetes/fwc-daemonset.yaml
// without a cluster: the objects and the fields that make it work
// (host network, NET_ADMIN, the ConfigMap mounted where the script reads
// the policy), that its policy passes fwc check --strict in fmt layout, that
// the script parses (sh -n), and that every fwc command line it and the
// probe run is accepted by fwc's real command tree.
func TestKubernetesDaemonSet(t *testing.T) {
	f, err := os.Open("../../contrib/kubernetes/fwc-daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	docs := map[string]map[string]any{}
	dec := yaml.NewDecoder(f)
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		docs[doc["kind"].(string)] = doc
	}
	ds, cm := docs["DaemonSet"], docs["ConfigMap"]
	if ds == nil || cm == nil || docs["Namespace"] == nil {
		t.Fatalf("want a Namespace, a ConfigMap and a DaemonSet, have %v", slices.Collect(maps.Keys(docs)))
	}
	if ds["apiVersion"] != "apps/v1" || cm["apiVersion"] != "v1" {
		t.Errorf("apiVersions: DaemonSet %v, ConfigMap %v", ds["apiVersion"], cm["apiVersion"])
	}
	ns := k8s(t, docs["Namespace"], "metadata", "name")
	if k8s(t, ds, "metadata", "namespace") != ns || k8s(t, cm, "metadata", "namespace") != ns {
		t.Errorf("the DaemonSet and the ConfigMap must be in namespace %v", ns)
	}
	sel := k8s(t, ds, "spec", "selector", "matchLabels").(map[string]any)
	labels := k8s(t, ds, "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range sel {
		if labels[k] != v {
			t.Errorf("selector %s=%v does not match the pod template's labels %v", k, v, labels)
		}
	}
	pod := k8s(t, ds, "spec", "template", "spec")
	if k8s(t, pod, "hostNetwork") != true {
		t.Error("hostNetwork must be true: the node's firewall is in the host's namespace")
	}
	ctr := k8s(t, pod, "containers", 0)
	if caps := k8s(t, ctr, "securityContext", "capabilities", "add"); !slices.Contains(caps.([]any), any("NET_ADMIN")) {
		t.Errorf("capabilities.add = %v, want NET_ADMIN", caps)
	}

	// The script, and the variables it sets.
	cmdline := k8s(t, ctr, "command").([]any)
	if len(cmdline) != 2 || cmdline[0] != "/bin/sh" || cmdline[1] != "-c" {
		t.Fatalf("command = %v, want /bin/sh -c", cmdline)
	}
	script := k8s(t, ctr, "args", 0).(string)
	if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, out)
	}
	vars := map[string]string{}
	var runs [][]string
	for _, line := range strings.Split(script, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && regexp.MustCompile(`^[a-z_]+$`).MatchString(k) {
			vars[k] = v
		}
		if m := fwcLine.FindStringSubmatch(line); m != nil {
			var argv []string
			for _, w := range strings.Fields(m[1]) {
				w = strings.Trim(w, `"`)
				if v, ok := strings.CutPrefix(w, "$"); ok {
					w, ok = vars[v]
					if !ok {
						t.Fatalf("%q uses $%s, which the script does not set", line, v)
					}
				}
				argv = append(argv, w)
			}
			runs = append(runs, argv)
		}
	}
	if len(runs) < 2 || !slices.ContainsFunc(runs, func(a []string) bool { return a[0] == "apply" }) ||
		!slices.ContainsFunc(runs, func(a []string) bool { return a[0] == "plan" }) {
		t.Fatalf("the script should run fwc apply and fwc plan; found %v", runs)
	}
	probe := k8s(t, ctr, "readinessProbe", "exec", "command").([]any)
	var p []string
	for _, w := range probe {
		p = append(p, w.(string))
	}
	if p[0] != "fwc" {
		t.Fatalf("probe = %v, want an fwc command", p)
	}
	runs = append(runs, p[1:])

	// Every command line through the real command tree.
	for _, argv := range runs {
		root := newRoot(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
		c, rest, err := root.Find(argv)
		if err != nil || c == root {
			t.Errorf("fwc %s: no such command (%v)", strings.Join(argv, " "), err)
			continue
		}
		if err := c.ParseFlags(rest); err != nil {
			t.Errorf("fwc %s: %v", strings.Join(argv, " "), err)
			continue
		}
		if err := c.ValidateArgs(c.Flags().Args()); err != nil {
			t.Errorf("fwc %s: %v", strings.Join(argv, " "), err)
		}
		// The paths it names are where the pod has them.
		policy, _ := c.Flags().GetString("state-dir")
		if policy != vars["state"] {
			t.Errorf("fwc %s: --state-dir %q, want the state volume's %q", strings.Join(argv, " "), policy, vars["state"])
		}
		if args := c.Flags().Args(); len(args) != 1 || args[0] != vars["policy"] {
			t.Errorf("fwc %s: want the one path %s", strings.Join(argv, " "), vars["policy"])
		}
	}

	// The volumes: the ConfigMap where the script reads the policy, the
	// state directory where it keeps state.
	mounts := map[string]string{}
	for _, m := range k8s(t, ctr, "volumeMounts").([]any) {
		mounts[k8s(t, m, "name").(string)] = k8s(t, m, "mountPath").(string)
	}
	var cmVolume string
	unused := maps.Clone(mounts)
	for _, v := range k8s(t, pod, "volumes").([]any) {
		name := k8s(t, v, "name").(string)
		if _, ok := mounts[name]; !ok {
			t.Errorf("volume %s is not mounted", name)
		}
		if c, ok := v.(map[string]any)["configMap"]; ok && k8s(t, c, "name") == k8s(t, cm, "metadata", "name") {
			cmVolume = name
		}
		delete(unused, name)
	}
	if len(unused) != 0 {
		t.Errorf("mounts without a volume: %v", unused)
	}
	if at := mounts[cmVolume]; at != filepath.Dir(vars["policy"]) {
		t.Errorf("the ConfigMap is mounted at %q, the script reads %s", at, vars["policy"])
	}
	if !slices.Contains(slices.Collect(maps.Values(mounts)), vars["state"]) {
		t.Errorf("no volume is mounted at the state directory %s: it would not survive a restart", vars["state"])
	}
	policyText, ok := k8s(t, cm, "data", filepath.Base(vars["policy"])).(string)
	if cmVolume == "" || !ok {
		t.Fatalf("the ConfigMap must be a volume and hold %s", filepath.Base(vars["policy"]))
	}

	// The policy it ships passes fwc check --strict, in fmt layout.
	defer runDaemonSetScript(t, script, vars, policyText)
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.fw")
	if err := os.WriteFile(file, []byte(policyText), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if code := run([]string{"check", "--strict", file}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Errorf("fwc check --strict on the ConfigMap's policy: exit %d\n%s", code, stderr.String())
	}
	stdout.Reset()
	if code := run([]string{"fmt", file}, strings.NewReader(""), &stdout, &stderr); code != 0 || stdout.String() != policyText {
		t.Errorf("the ConfigMap's policy is not in fmt layout:\n%s", stdout.String())
	}
}

// runDaemonSetScript runs the DaemonSet's script for real in a scratch
// network namespace, its paths moved into a temporary directory. Its sleep
// is a stand-in that, the first time, changes the policy as a ConfigMap
// update does and, the second time, fails, which ends the loop: the script
// must have applied the policy at start and the changed one after.
func runDaemonSetScript(t *testing.T, script string, vars map[string]string, policyText string) {
	ns := testnetns.New(t)
	dir := t.TempDir()
	for _, d := range []string{"etc", "bin"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "etc", "policy.fw")
	changed := policyText + "from any to self tcp dport 8080 accept\n"
	for name, text := range map[string]string{policy: policyText, filepath.Join(dir, "changed.fw"): changed} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sleep := `#!/bin/sh
n=$(cat "$DIR/count" 2>/dev/null || echo 0)
echo $((n + 1)) >"$DIR/count"
[ "$n" = 0 ] && cp "$DIR/changed.fw" "$DIR/etc/policy.fw"
`
	if err := os.WriteFile(filepath.Join(dir, "bin", "sleep"), []byte(sleep), 0o755); err != nil {
		t.Fatal(err)
	}
	fwc, err := exec.LookPath("fwc")
	if err != nil {
		t.Fatal(err)
	}
	script = strings.NewReplacer(vars["policy"], policy, vars["state"], filepath.Join(dir, "state")).Replace(script)
	cmd := exec.Command("ip", "netns", "exec", ns, "/bin/sh", "-c", script)
	cmd.Env = []string{"DIR=" + dir, "NO_COLOR=1",
		"PATH=" + filepath.Join(dir, "bin") + ":" + filepath.Dir(fwc) + ":/usr/sbin:/usr/bin:/sbin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "was not applied") {
		t.Fatalf("the DaemonSet's script: %v\n%s", err, out)
	}
	if n, _ := os.ReadFile(filepath.Join(dir, "count")); strings.TrimSpace(string(n)) != "2" {
		t.Fatalf("the script slept %q times, want 2 (once changed, once ended)", n)
	}
	table := testnetns.Run(t, ns, "nft", "list", "table", "inet", "fwc")
	for _, want := range []string{"tcp dport 22 accept", "8080"} {
		if !strings.Contains(table, want) {
			t.Errorf("after the ConfigMap change the table lacks %q:\n%s", want, table)
		}
	}
}
