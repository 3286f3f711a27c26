package main

import (
	"bytes"
	"os"
	"testing"
)

func TestWantColor(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm")
	if wantColor(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if wantColor(f) {
		t.Error("a regular file is not a terminal")
	}
	// A terminal is not needed to check that NO_COLOR and TERM=dumb win.
	for _, kv := range [][2]string{{"NO_COLOR", "1"}, {"TERM", "dumb"}} {
		t.Setenv(kv[0], kv[1])
		if wantColor(os.Stderr) {
			t.Errorf("%s=%s: colour wanted", kv[0], kv[1])
		}
	}
}
