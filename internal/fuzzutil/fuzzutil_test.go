package fuzzutil

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDeadlineCountsCPU: an input that waits (blocked, using no CPU) for
// longer than the limit is not reported; only CPU spent counts. Before the
// limit counted CPU, a loaded machine could fail a seed that was only
// waiting for a core; a wait is the simplest way to be slow in wall time
// without using CPU.
func TestDeadlineCountsCPU(t *testing.T) {
	before := cpuTime()
	stop := Deadline(20*time.Millisecond, "waiting", nil)
	// The watcher fires at least once during this wait and must re-arm.
	time.Sleep(100 * time.Millisecond)
	stop()
	if used := cpuTime() - before; used >= 20*time.Millisecond {
		t.Skipf("the process used %v of CPU meanwhile; the case is not the one tested", used)
	}
}

// TestDeadlineFires: an input that burns CPU past the limit crashes the
// process with the input quoted. The panic happens on the watcher's
// goroutine, which kills the process, so the burning runs in a child: this
// test binary run again with FUZZUTIL_BURN set.
func TestDeadlineFires(t *testing.T) {
	if os.Getenv("FUZZUTIL_BURN") != "" {
		Deadline(30*time.Millisecond, "burning", []byte("the input"))
		for {
			_ = cpuTime() // burn until the watcher kills the process
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeadlineFires$")
	cmd.Env = append(os.Environ(), "FUZZUTIL_BURN=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the burning child exited 0:\n%s", out)
	}
	if want := `burning took over 30ms of CPU time on "the input"`; !strings.Contains(string(out), want) {
		t.Fatalf("the child's output lacks %q:\n%s", want, out)
	}
}
