package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/internal/polgen"
)

// BenchmarkTranslate50k is `fwc translate` of a generated 50k-rule policy,
// per backend, end to end as the CLI runs it: load the file, check, lower,
// emit, write the output file (issue 4: each under 1 s and 200 MiB peak).
func BenchmarkTranslate50k(b *testing.B) {
	dir := b.TempDir()
	in := filepath.Join(dir, "gen.fw")
	if err := os.WriteFile(in, polgen.Policy(50000, 1), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, to := range translateTargets {
		b.Run("to="+to, func(b *testing.B) {
			args := []string{"translate", "--to", to, "-o", filepath.Join(dir, "out."+to), in}
			if to == "all" {
				args = []string{"translate", "--to", to, "--out-dir", filepath.Join(dir, "out"), in}
			}
			b.ReportAllocs()
			for b.Loop() {
				if code := run(args, nil, io.Discard, io.Discard); code != exitOK {
					b.Fatalf("fwc %v: exit %d", args, code)
				}
			}
		})
	}
}
