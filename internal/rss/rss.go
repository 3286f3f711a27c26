// Package rss reads the resident memory of the running process, for
// benchmarks that report what an operation adds to it.
package rss

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// ResetPeak collects garbage, returns freed memory to the kernel, resets
// the process's peak RSS (VmHWM) to its current RSS and returns that, in
// KiB.
func ResetPeak() (int64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, err
	}
	return Status("VmRSS")
}

// Status reads a "kB" field of /proc/self/status, such as VmRSS or VmHWM.
func Status(field string) (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}
