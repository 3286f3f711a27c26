package testnetns

import (
	"strings"
	"testing"
)

// recorder records whether a test was skipped or failed.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestMissingSkipsOrFails(t *testing.T) {
	for _, tc := range []struct {
		env, reason string
		skip, fail  bool
	}{
		{"", "", false, false},
		{"", "needs root", true, false},
		{"0", "needs root", true, false},
		{"1", "needs root", false, true},
		{"1", "", false, false},
	} {
		t.Setenv(EnvRequire, tc.env)
		r := &recorder{TB: t}
		missing(r, tc.reason)
		if r.skipped != tc.skip || r.failed != tc.fail {
			t.Errorf("%s=%q, reason %q: skipped %v failed %v, want %v %v", EnvRequire, tc.env, tc.reason, r.skipped, r.failed, tc.skip, tc.fail)
		}
	}
}

func TestNew(t *testing.T) {
	name := New(t)
	if !strings.HasPrefix(name, Prefix) {
		t.Errorf("name %q lacks prefix %q", name, Prefix)
	}
	if out := Ruleset(t, name); strings.TrimSpace(out) != "" {
		t.Errorf("fresh namespace has a ruleset:\n%s", out)
	}
	Run(t, name, "nft", "add table ip x")
	if out := Ruleset(t, name); !strings.Contains(out, "table ip x") {
		t.Errorf("ruleset after add table:\n%s", out)
	}
}
