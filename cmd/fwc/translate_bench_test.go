package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
)

// BenchmarkTranslate50k is `fwc translate` of a generated 50k-rule policy,
// per backend, end to end as the CLI runs it: load the file, check, lower,
// emit, write the output file (issue 4: each under 1 s and 200 MiB peak).
// "to=nft" is polgen's policy, as before sitegen existed; "sitegen-to=nft"
// internal/sitegen's (`-bench Translate50k/to=nft` matches both).
func BenchmarkTranslate50k(b *testing.B) {
	for _, g := range []struct {
		prefix string
		policy func(n int, seed uint64) []byte
	}{{"", polgen.Policy}, {"sitegen-", sitegen.Policy}} {
		translate50k(b, g.prefix, g.policy(50000, 1))
	}
}

func translate50k(b *testing.B, prefix string, src []byte) {
	dir := b.TempDir()
	in := filepath.Join(dir, "gen.fw")
	if err := os.WriteFile(in, src, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, to := range translateTargets {
		b.Run(prefix+"to="+to, func(b *testing.B) {
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
