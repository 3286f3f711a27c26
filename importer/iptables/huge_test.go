package iptables

import (
	"io"
	"runtime"
	"testing"
)

// pattern is an io.Reader of n bytes repeating p, so that a huge input
// never exists in memory.
type pattern struct {
	p   []byte
	n   int64
	off int64
}

func (r *pattern) Read(b []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(b) && r.off < r.n {
		b[k] = r.p[r.off%int64(len(r.p))]
		k++
		r.off++
	}
	return k, nil
}

// TestHugeInputBoundedMemory: 100 MB inputs that are not rulesets are read
// in bounded memory — one 100 MB line, lines just over the cap, and binary
// garbage — with the right diagnostics.
func TestHugeInputBoundedMemory(t *testing.T) {
	const size = 100 << 20
	for _, tc := range []struct {
		name  string
		pat   []byte
		codes []string
	}{
		{"one line", []byte("x"), []string{"FW3001"}},
		{"long lines", append(make([]byte, 0, 70<<10), append(repeat('y', 70<<10), '\n')...), nil},
		{"binary", []byte("\x00\x01\xfe\xff\n"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			f, ds := Read(&pattern{p: tc.pat, n: size}, "huge.v4", Options{})
			runtime.ReadMemStats(&after)
			if tc.codes != nil {
				if got := codes(ds); len(got) != len(tc.codes) || got[0] != tc.codes[0] {
					t.Errorf("codes %v, want %v", got, tc.codes)
				}
			} else if n := len(ds); n != 101 || ds[n-1].Code != "FW3003" {
				t.Errorf("%d diagnostics, want 100 errors then FW3003", n)
			}
			if len(f.Tables) != 0 {
				t.Errorf("tables from garbage: %d", len(f.Tables))
			}
			// The line buffer (64 KiB cap), bufio's 64 KiB and the
			// diagnostics: a few hundred KiB. 8 MiB leaves room for the
			// runtime, and is far below the 100 MB read.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("reading allocated %d bytes", alloc)
			}
		})
	}
}

func repeat(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}
