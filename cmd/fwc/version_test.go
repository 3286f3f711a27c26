package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildFwc builds this command into a temporary directory with extra go
// build flags and returns the binary's path.
func buildFwc(t *testing.T, flags ...string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not in PATH")
	}
	bin := filepath.Join(t.TempDir(), "fwc")
	args := append([]string{"build", "-o", bin}, flags...)
	cmd := exec.Command(goCmd, append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, out)
	}
	return bin
}

// versionLines runs "BIN version" and returns its four lines.
func versionLines(t *testing.T, bin string) []string {
	t.Helper()
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", bin, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[3], "go:     go1.") {
		t.Fatalf("fwc version printed:\n%s", out)
	}
	return lines
}

// TestVersionLdflags: what a release build sets with -ldflags is what fwc
// version prints, over anything the toolchain recorded.
func TestVersionLdflags(t *testing.T) {
	bin := buildFwc(t, "-buildvcs=false", "-ldflags",
		"-X main.version=v9.8.7 -X main.commit=0123456789abcdef0123456789abcdef01234567 -X main.date=2026-01-02T03:04:05Z")
	got := versionLines(t, bin)[:3]
	want := []string{"fwc v9.8.7", "commit: 0123456789abcdef0123456789abcdef01234567", "date:   2026-01-02T03:04:05Z"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %q, want %q", i+1, got[i], want[i])
		}
	}
}

// TestVersionBuildInfo: a plain "go build" in a git checkout records the
// commit, its time and whether the tree had changes; fwc version prints
// them as git reports them.
func TestVersionBuildInfo(t *testing.T) {
	gitCmd, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	git := func(args ...string) string {
		out, err := exec.Command(gitCmd, append([]string{"-C", "../.."}, args...)...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	head := git("rev-parse", "HEAD")
	if head == "" {
		// A source tarball: the toolchain has no VCS to ask.
		t.Skip("not a git checkout")
	}
	// -buildvcs=true: the default (auto) is overridden by GOFLAGS in
	// some environments, and the test is about what the toolchain
	// records when it does.
	bin := buildFwc(t, "-buildvcs=true")
	// Read git's state after the build: the build and git see the same
	// tree unless a file changes in between, which nothing here does.
	modified := git("status", "--porcelain") != ""
	commitTime, err := time.Parse(time.RFC3339, git("log", "-1", "--format=%cI"))
	if err != nil {
		t.Fatal(err)
	}
	lines := versionLines(t, bin)
	// Go 1.24+ derives a pseudo-version from the commit (v0.0.0-DATE-HASH,
	// +dirty when modified); an older toolchain says (devel).
	if v := strings.TrimPrefix(lines[0], "fwc "); v != "(devel)" && !strings.Contains(v, head[:12]) {
		t.Errorf("version %q names neither (devel) nor the commit %s", v, head[:12])
	}
	wantCommit := "commit: " + head
	if modified {
		wantCommit += " (modified)"
	}
	if lines[1] != wantCommit {
		t.Errorf("got %q, want %q", lines[1], wantCommit)
	}
	// The toolchain records the commit time in UTC.
	if want := "date:   " + commitTime.UTC().Format(time.RFC3339); lines[2] != want {
		t.Errorf("got %q, want %q", lines[2], want)
	}
}

// TestVersionInProcess: a build with no information (the test binary)
// says so rather than printing empty fields.
func TestVersionInProcess(t *testing.T) {
	var out, errb strings.Builder
	if code := run([]string{"version"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"commit: unknown\n", "date:   unknown\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
