package safefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplaceAll: files are replaced with the mode asked for whatever the
// umask; a link among the targets makes the whole call fail before any
// file is written, and leaves no temporary file behind.
func TestReplaceAll(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceAll(dir, []string{"a", "b"}, [][]byte{[]byte("A"), []byte("B")}, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "A", "b": "B"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		st, serr := os.Stat(filepath.Join(dir, name))
		if err != nil || serr != nil || string(data) != want || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %q %v %v, want %q mode 0644", name, data, st.Mode(), err, want)
		}
	}

	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "c")); err != nil {
		t.Fatal(err)
	}
	err := ReplaceAll(dir, []string{"a", "c"}, [][]byte{[]byte("A2"), []byte("C")}, 0o644)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a link among the targets: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep" {
		t.Errorf("the link's target was written: %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "a")); string(data) != "A" {
		t.Errorf("a was replaced although the call failed: %q", data)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if err := ReplaceAll(dir, []string{"../x"}, [][]byte{nil}, 0o644); err == nil {
		t.Error("a name with a directory was accepted")
	}
}
