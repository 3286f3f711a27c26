package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOpenPrivateRefuses: a directory others can write to or own, or a
// link, is refused with a message naming it and the fix; a missing one is
// made 0700.
func TestOpenPrivateRefuses(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		path string
		want string
	}{
		{mk("open", 0o777), "is writable by group or others (mode 0777)"},
		{mk("sticky", os.ModeSticky|0o777), "is writable by group or others (mode 1777)"},
		{mk("group", 0o770), "is writable by group or others (mode 0770)"},
	} {
		_, err := OpenPrivate(c.path)
		if _, ok := errors.AsType[*UnsafeDirError](err); !ok || !strings.Contains(err.Error(), c.path+" "+c.want) {
			t.Errorf("%s: %v, want an UnsafeDirError saying %q", c.path, err, c.want)
		}
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(mk("real", 0o700), link); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenPrivate(link); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("link: %v", err)
	}
	if os.Geteuid() == 0 {
		theirs := mk("theirs", 0o700)
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenPrivate(theirs); err == nil || !strings.Contains(err.Error(), "is owned by uid 65534") {
			t.Errorf("someone else's: %v", err)
		}
	}
	fresh := filepath.Join(base, "a", "b")
	d, err := OpenPrivate(fresh)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("made %v %v, want mode 0700", fi.Mode(), err)
	}
}

// TestNoFollow: links planted at a final name or anywhere else are never
// written through; OpenFile refuses links and non-regular files.
func TestNoFollow(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"f", "f.tmp", ".f.tmp"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := OpenPrivate(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.OpenFile("f", os.O_WRONLY|os.O_APPEND, 0); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("open a link: %v", err)
	}
	if _, err := d.ReadFile("f"); err == nil {
		t.Error("read through a link")
	}
	for _, write := range []func(string, []byte, os.FileMode) error{d.WriteFile, d.WriteFileNoSync} {
		if err := write("f", []byte("new"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := d.ReadFile("f"); err != nil || string(got) != "new" {
			t.Errorf("read back %q %v", got, err)
		}
	}
	if got, _ := os.ReadFile(target); string(got) != "keep" {
		t.Errorf("the link's target was written: %q", got)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.OpenFile("fifo", os.O_RDONLY, 0); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("open a FIFO: %v", err)
	}
	for _, bad := range []string{"", ".", "..", "a/b"} {
		if err := d.WriteFile(bad, nil, 0o600); err == nil {
			t.Errorf("wrote %q", bad)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
