package apply

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// compileSrc compiles one policy given as text and returns what it wants.
func compileSrc(t testing.TB, src string) *Want {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.fw")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return compilePath(t, path)
}

func compilePath(t testing.TB, path string) *Want {
	t.Helper()
	c, ds, err := Compile([]string{path})
	if err != nil || ds.HasErrors() {
		t.Fatalf("compile %s: %v %v", path, err, ds)
	}
	return c.Want()
}

func openHost(t testing.TB, ns string) *Host {
	t.Helper()
	h, err := Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func plan(t testing.TB, h *Host, w *Want) *Plan {
	t.Helper()
	have, err := Read(h)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(have, w)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustApply plans and applies w, and fails unless it is applied.
func mustApply(t testing.TB, h *Host, w *Want, opts Options) *Plan {
	t.Helper()
	p := plan(t, h, w)
	if out, err := Apply(h, p, opts); out != batch.Applied || err != nil {
		t.Fatalf("apply: %v: %v", out, err)
	}
	return p
}

// mustBeEmpty fails unless a fresh plan of w has nothing to do.
func mustBeEmpty(t testing.TB, h *Host, w *Want) {
	t.Helper()
	if p := plan(t, h, w); !p.Empty() {
		var b strings.Builder
		_ = p.Write(&b)
		t.Fatalf("plan after apply is not empty:\n%s", b.String())
	}
}

// sh runs a shell command line and fails the test if it fails.
func sh(t testing.TB, line string) string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", line).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return string(out)
}

// veth links namespace a (interface ia, address aa) to b (ib, ab).
func veth(t testing.TB, a, ia, aa, b, ib, ab string) {
	t.Helper()
	sh(t, "ip -n "+a+" link add "+ia+" type veth peer name "+ib+" netns "+b)
	sh(t, "ip -n "+a+" addr add "+aa+" dev "+ia+" && ip -n "+a+" link set "+ia+" up")
	sh(t, "ip -n "+b+" addr add "+ab+" dev "+ib+" && ip -n "+b+" link set "+ib+" up")
}

// nsWithLinks is a namespace with loopback up and links that routes of
// the tests can use.
func nsWithLinks(t testing.TB) string {
	t.Helper()
	ns := testnetns.New(t)
	testnetns.Run(t, ns, "ip", "link", "set", "lo", "up")
	return ns
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
