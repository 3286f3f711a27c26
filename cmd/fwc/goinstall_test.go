package main

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoInstallFromProxy: `go install github.com/fwcproject/fwc/cmd/fwc@latest`
// works, as it would against the public module proxy. The test serves this
// checkout as a module from a file-based GOPROXY (the layout of `go help
// goproxy`: @v/list, .info, .mod, .zip, and @latest), at a pseudo-version,
// with every dependency from the local module cache's download directory,
// installs into a fresh GOBIN from outside the module, and runs the
// installed fwc version, which prints the version the toolchain stamped.
// It fails if go.mod grows a replace or exclude directive (go install
// pkg@version refuses those) and shows that the nested packaging module is
// no part of the module's zip.
func TestGoInstallFromProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fwc from a module zip")
	}
	// Mostly waiting for the go command (extracting modules, compiling
	// fwc anew under its module path): let the other tests run meanwhile.
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not in PATH")
	}
	gitCmd, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	const mod = "github.com/fwcproject/fwc"
	const version = "v0.0.0-20261204000000-0123456789ab"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ls, err := exec.Command(gitCmd, "-C", root, "ls-files", "-z").Output()
	if err != nil || len(ls) == 0 {
		t.Skip("not a git checkout")
	}
	files := strings.Split(strings.TrimSuffix(string(ls), "\x00"), "\x00")
	// A directory with its own go.mod is another module (packaging/):
	// module zips leave it out, as the go command does when it makes one.
	var nested []string
	for _, f := range files {
		if path.Base(f) == "go.mod" && f != "go.mod" {
			nested = append(nested, path.Dir(f)+"/")
		}
	}
	if len(nested) == 0 {
		t.Fatal("no nested module found: the packaging module moved, update this test")
	}

	tmp := t.TempDir()
	dir := filepath.Join(tmp, "proxy", mod, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	n := 0
files:
	for _, f := range files {
		for _, p := range nested {
			if strings.HasPrefix(f, p) {
				continue files
			}
		}
		data, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(mod + "@" + version + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info := `{"Version":"` + version + `","Time":"2026-12-04T00:00:00Z"}`
	for name, data := range map[string][]byte{
		"list":            nil, // no release: @latest answers
		version + ".info": []byte(info),
		version + ".mod":  gomod,
		version + ".zip":  zb.Bytes(),
		"../@latest":      []byte(info),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	cache, err := exec.Command(goCmd, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := filepath.Join(strings.TrimSpace(string(cache)), "cache", "download")
	gobin := filepath.Join(tmp, "bin")
	work := filepath.Join(tmp, "work") // outside any module
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOFLAGS", "GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GONOPROXY", "GOINSECURE",
			"GOMODCACHE", "GOBIN", "GOTOOLCHAIN", "GOWORK", "GO111MODULE":
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		// No network: this module from the test's proxy, dependencies
		// from the module cache's download directory; nothing to verify
		// them against but the go.sum the module carries.
		"GOPROXY=file://"+filepath.Join(tmp, "proxy")+",file://"+deps,
		"GOSUMDB=off",
		"GOFLAGS=-modcacherw", // so that the test can remove its module cache
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOBIN="+gobin,
		"GOTOOLCHAIN=local",
		"GOWORK=off",
	)
	cmd := exec.Command(goCmd, "install", mod+"/cmd/fwc@latest")
	cmd.Dir, cmd.Env = work, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s/cmd/fwc@latest (a module zip of %d files): %v\n%s", mod, n, err, out)
	}
	got := versionLines(t, filepath.Join(gobin, "fwc"))
	if got[0] != "fwc "+version {
		t.Errorf("fwc version says %q, want %q", got[0], "fwc "+version)
	}
}
