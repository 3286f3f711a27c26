package main

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOutputNotRegular: -o names a device or a FIFO as often as a file
// (`-o /dev/null` to time a translation, `-o /dev/stdout`). Writing beside
// it and renaming over it would replace the device with a regular file;
// as root, `-o /dev/null` used to do exactly that to the host's /dev/null.
// Such a target is written in place, and stays what it was.
func TestOutputNotRegular(t *testing.T) {
	dir := t.TempDir()
	text := []byte("table inet fwc {}\n")

	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The read end is opened first and without blocking, so that a writer
	// that replaces the FIFO instead of writing to it fails the test
	// (nothing to read) rather than hanging it.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := writeOutputs([]string{fifo}, [][]byte{text}); err != nil {
		t.Fatalf("write to a FIFO: %v", err)
	}
	b, err := io.ReadAll(r)
	if err != nil || string(b) != string(text) {
		t.Errorf("the FIFO's reader got %q (%v), want %q", b, err, text)
	}
	wantMode(t, fifo, os.ModeNamedPipe)

	// A character device like /dev/null, made in the test's own directory
	// (root only, and not on a nodev mount).
	null := filepath.Join(dir, "null")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, int(unixMkdev(1, 3))); err != nil {
		t.Logf("no character device to try (%v); the FIFO case stands for it", err)
		return
	}
	if err := writeOutputs([]string{null}, [][]byte{text}); err != nil {
		t.Fatalf("write to a character device: %v", err)
	}
	wantMode(t, null, os.ModeCharDevice|os.ModeDevice)
}

func wantMode(t *testing.T, name string, mode os.FileMode) {
	t.Helper()
	st, err := os.Lstat(name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Type() != mode {
		t.Errorf("%s is now %v, want it left a %v", name, st.Mode().Type(), mode)
	}
}

// unixMkdev is Linux's makedev for small major and minor numbers.
func unixMkdev(major, minor uint32) uint64 {
	return uint64(major)<<8 | uint64(minor)
}
