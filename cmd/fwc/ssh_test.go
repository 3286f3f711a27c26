package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/apply"
)

func sshWant(t *testing.T, src string) *apply.Want {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.fw")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, ds, err := apply.Compile([]string{path})
	if err != nil || ds.HasErrors() {
		t.Fatalf("%v %v", err, ds)
	}
	return c.Want()
}

// TestSSHGuard: the refusal names what gets past it (--force, and what it
// risks), not --confirm, which is refused the same way (issue #11 B6); an
// SSH_CONNECTION that cannot be read is a refusal, not a warning (B5).
func TestSSHGuard(t *testing.T) {
	lockout := sshWant(t, "table filter { chain output policy drop { udp dport 53 accept } }\n")
	inDrop := sshWant(t, "table filter { chain input { tcp dport 22 drop } }\n")
	open := sshWant(t, "table filter { chain input policy drop { tcp dport 22 accept } }\n")
	for _, tc := range []struct {
		name, conn string
		w          *apply.Want
		force      bool
		err, warn  string
	}{
		{"lock-out", "10.1.2.3 50000 10.0.0.1 22", lockout, false, "replies to the client: the policy drop of chain filter output", ""},
		{"input lock-out", "10.1.2.3 50000 10.0.0.1 22", inDrop, false, "packets from the client: the rule at", ""},
		{"lock-out forced", "10.1.2.3 50000 10.0.0.1 22", lockout, true, "", "applying anyway (--force)"},
		{"fine", "10.1.2.3 50000 10.0.0.1 22", open, false, "", ""},
		{"malformed", "10.1.2.3 50000 10.0.0.1", open, false, "cannot check whether the policy cuts this SSH session", ""},
		{"bad port", "10.1.2.3 0 10.0.0.1 22", open, false, "cannot check", ""},
		{"malformed forced", "10.1.2.3 x 10.0.0.1 22", open, true, "", "applying anyway (--force)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SSH_CONNECTION", tc.conn)
			var stderr bytes.Buffer
			err := sshGuard(&env{stderr: &stderr}, nil, tc.w, tc.force)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && err == nil:
				t.Fatalf("not refused; stderr %s", stderr.String())
			case tc.err != "":
				msg := err.Error()
				if !strings.Contains(msg, tc.err) || !strings.Contains(msg, "--force applies it anyway") {
					t.Errorf("refusal %q lacks %q or the --force advice", msg, tc.err)
				}
				if strings.Contains(msg, "use --confirm") || !strings.Contains(msg, "with --force") {
					t.Errorf("refusal %q advises --confirm alone", msg)
				}
			}
			if !strings.Contains(stderr.String(), tc.warn) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.warn)
			}
		})
	}
}
