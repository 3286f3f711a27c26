// Package fuzzutil holds what fwc's fuzz targets share: seeding from
// files, and a time limit per input.
package fuzzutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// AddFiles adds every file the glob patterns match to f's seed corpus.
func AddFiles(f *testing.F, globs ...string) {
	for _, glob := range globs {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
}

// Deadline panics, quoting src, unless the returned stop is called within
// d. Go's fuzzer has no per-input time limit, so a slow input would only
// stall the run; a crash saves the input and reports it.
func Deadline(d time.Duration, what string, src []byte) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(d):
			panic(fmt.Sprintf("%s took over %v on %q", what, d, src))
		}
	}()
	return func() { close(done) }
}
