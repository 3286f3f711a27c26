package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestFmtInputLimits: fmt reads standard input and named files under the
// same cap as check, and refuses a FIFO without blocking on it.
func TestFmtInputLimits(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"fmt"}, endless{}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "larger than the 16 MiB") {
		t.Errorf("fmt of an endless stdin: exit %d, %s", code, errb.String())
	}
	fifo := filepath.Join(t.TempDir(), "p.fw")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// A writer that wakes a reader blocked on the FIFO, so that a broken
	// fmt fails on its output instead of hanging; released by the test's
	// own reader once fmt has returned.
	guard := make(chan struct{})
	go func() {
		defer close(guard)
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
	}()
	errb.Reset()
	code := run([]string{"fmt", fifo}, nil, &out, &errb)
	if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		<-guard
		r.Close()
	}
	<-guard
	if code != exitUsage || !strings.Contains(errb.String(), "is not a regular file (a FIFO)") {
		t.Errorf("fmt of a FIFO: exit %d, %s", code, errb.String())
	}
}
