package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// required: in CI (FWC_REQUIRE_NETNS=1 or CI=true) a missing tool fails
// the test instead of skipping it.
func required() bool {
	return os.Getenv("FWC_REQUIRE_NETNS") == "1" || os.Getenv("CI") == "true"
}

func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if required() {
			t.Fatalf("%s is not installed (scripts/test.sh installs it)", tool)
		}
		t.Skipf("%s is not installed", tool)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// buildDeb runs scripts/deb.sh into a temporary directory and returns the
// package's path.
func buildDeb(t *testing.T, version string) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("bash", "../../scripts/deb.sh", out)
	cmd.Env = append(os.Environ(), "VERSION="+version)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/deb.sh: %v\n%s", err, stderr.String())
	}
	deb := strings.TrimSpace(string(stdout))
	if filepath.Dir(deb) != out || !strings.HasSuffix(deb, ".deb") {
		t.Fatalf("scripts/deb.sh printed %q, not a .deb in %s", stdout, out)
	}
	return deb
}

// TestDeb builds the package as a release would, reads it with dpkg-deb,
// installs it with dpkg into a scratch root, runs the installed fwc on the
// installed policies, checks that dpkg keeps an edited conffile, and runs
// lintian when it is installed (always in CI).
func TestDeb(t *testing.T) {
	dpkgDeb := need(t, "dpkg-deb")
	dpkg := need(t, "dpkg")
	const version = "1.2.3~test1"
	deb := buildDeb(t, version)

	// The same commit gives the same bytes: every time in the package is
	// the commit's.
	t.Run("reproducible", func(t *testing.T) {
		a, _ := os.ReadFile(deb)
		b, _ := os.ReadFile(buildDeb(t, version))
		if !bytes.Equal(a, b) {
			t.Errorf("two builds of one commit differ (%d and %d bytes)", len(a), len(b))
		}
	})

	info := run(t, dpkgDeb, "-f", deb, "Package", "Version", "Architecture", "Recommends")
	if want := "Package: fwc\nVersion: " + version + "\n"; !strings.HasPrefix(info, want) || !strings.Contains(info, "Recommends: nftables") {
		t.Errorf("control fields:\n%s", info)
	}
	conffiles := run(t, dpkgDeb, "-I", deb, "conffiles")
	if conffiles != "/etc/fwc/fallback.fw\n/etc/fwc/policy.fw\n" {
		t.Errorf("conffiles:\n%s", conffiles)
	}
	listing := run(t, dpkgDeb, "-c", deb)
	for _, want := range []string{
		"-rwxr-xr-x root/root .* ./usr/sbin/fwc\n",
		" ./lib/systemd/system/fwc.service\n",
		" ./lib/systemd/system/fwc-routes.service\n",
		" ./usr/share/doc/fwc/examples/systemd/iptables/fwc.service.conf\n",
		" ./usr/share/doc/fwc/examples/systemd/iptables/fwc-routes.service.conf\n",
		" ./etc/fwc/policy.fw\n",
		" ./etc/fwc/fallback.fw\n",
		" ./usr/share/man/man1/fwc.1.gz\n",
		" ./usr/share/man/man1/fwc-check.1.gz\n",
		" ./usr/share/man/man1/fwc-apply.1.gz\n",
		" ./usr/share/man/man5/fwc.fw.5.gz\n",
		" ./usr/share/bash-completion/completions/fwc\n",
		" ./usr/share/zsh/vendor-completions/_fwc\n",
		" ./usr/share/fish/vendor_completions.d/fwc.fish\n",
		" ./usr/share/doc/fwc/copyright\n",
	} {
		if !containsLine(listing, want) {
			t.Errorf("dpkg-deb -c lacks %q", want)
		}
	}

	// Install into a scratch root with its own dpkg database. nftables is
	// only recommended, so dpkg needs nothing else there.
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dpkgIn := func(args ...string) string {
		return run(t, dpkg, append([]string{"--root=" + root, "--log=/dev/null", "--force-not-root", "--force-script-chrootless"}, args...)...)
	}
	dpkgIn("-i", deb)
	if st := dpkgIn("-s", "fwc"); !strings.Contains(st, "Status: install ok installed") || !strings.Contains(st, "/etc/fwc/policy.fw ") {
		t.Fatalf("dpkg -s fwc:\n%s", st)
	}
	fwc := filepath.Join(root, "usr/sbin/fwc")
	if v := run(t, fwc, "version"); !strings.HasPrefix(v, "fwc "+version+"\ncommit: ") || strings.Contains(v, "unknown") {
		t.Errorf("installed fwc version:\n%s", v)
	}
	policy, fallback := filepath.Join(root, "etc/fwc/policy.fw"), filepath.Join(root, "etc/fwc/fallback.fw")
	run(t, fwc, "check", "--strict", policy, fallback)
	run(t, fwc, "translate", "--to", "nft", policy)
	if man, err := exec.LookPath("man"); err == nil {
		for _, page := range []string{"usr/share/man/man1/fwc.1.gz", "usr/share/man/man5/fwc.fw.5.gz"} {
			cmd := exec.Command(man, "--warnings", "-l", filepath.Join(root, page))
			cmd.Env = append(os.Environ(), "MANWIDTH=80", "LC_ALL=C.UTF-8", "MANPAGER=cat", "PAGER=cat")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Errorf("man -l %s: %v %s", page, err, stderr.String())
			}
		}
	}
	run(t, "bash", "-n", filepath.Join(root, "usr/share/bash-completion/completions/fwc"))

	// A conffile the administrator edited survives reinstalling (an
	// upgrade keeps it the same way) and removal; purge deletes it.
	edited := []byte("# edited by the administrator\ntable filter {\n\tchain input policy drop {\n\t\tiif lo accept\n\t}\n}\n")
	if err := os.WriteFile(policy, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	dpkgIn("--force-confold", "-i", deb)
	if got, _ := os.ReadFile(policy); !bytes.Equal(got, edited) {
		t.Errorf("reinstalling replaced the edited %s:\n%s", policy, got)
	}
	dpkgIn("-r", "fwc")
	if _, err := os.Stat(fwc); !os.IsNotExist(err) {
		t.Errorf("after dpkg -r the binary is still there: %v", err)
	}
	if got, _ := os.ReadFile(policy); !bytes.Equal(got, edited) {
		t.Errorf("dpkg -r removed the edited %s", policy)
	}
	dpkgIn("--purge", "fwc")
	if _, err := os.Stat(policy); !os.IsNotExist(err) {
		t.Errorf("after dpkg --purge %s is still there: %v", policy, err)
	}

	t.Run("lintian", func(t *testing.T) {
		lintian := need(t, "lintian")
		// Errors and warnings fail; the information tags left (the nft
		// keyword iif read as a typo, no init.d script) do not.
		out := run(t, lintian, "--fail-on", "error,warning", deb)
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "W: ") {
				t.Errorf("lintian: %s", l)
			}
		}
	})
}

// containsLine: some line of text ends with want, or, when want holds
// ".*", starts with what is before it and ends with what is after.
func containsLine(text, want string) bool {
	head, tail, ok := strings.Cut(want, ".*")
	for _, l := range strings.SplitAfter(text, "\n") {
		if !ok && strings.HasSuffix(l, want) {
			return true
		}
		if ok && strings.HasPrefix(l, head) && strings.HasSuffix(l, tail) {
			return true
		}
	}
	return false
}
