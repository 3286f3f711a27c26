// Package fuzzutil holds what fwc's fuzz targets share: seeding from
// files, and a time limit per input.
package fuzzutil

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
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

// Deadline panics, quoting src, unless the returned stop is called before
// the process has spent d of CPU time (user and system) since the call.
// Go's fuzzer has no per-input time limit, so a slow input would only
// stall the run; a crash saves the input and reports it.
//
// The limit is CPU time, not wall time: on a loaded machine (CI runs the
// seed corpus as ordinary tests on two busy cores) an input may wait long
// for a core without being slow. The watcher wakes when d of wall time has
// passed, which is the earliest the process can have spent d of CPU on one
// core, and waits again for what is missing. CPU time is the whole
// process's, so it over-counts when other work runs alongside (the
// garbage collector, a parallel test), which only makes the limit stricter
// in CPU and never turns a slow machine into a failure.
func Deadline(d time.Duration, what string, src []byte) (stop func()) {
	done := make(chan struct{})
	start := cpuTime()
	go func() {
		wait := d
		for {
			select {
			case <-done:
				return
			case <-time.After(wait):
			}
			used := cpuTime() - start
			if used >= d {
				panic(fmt.Sprintf("%s took over %v of CPU time on %q", what, d, src))
			}
			wait = d - used
		}
	}()
	return func() { close(done) }
}

// cpuTime is the CPU time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err) // RUSAGE_SELF with a valid pointer cannot fail
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
