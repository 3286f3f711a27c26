package apply

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
)

// BenchmarkSSHCheck is the lock-out proof apply runs before committing:
// the SSH connection's packets both ways through the whole ruleset, with
// its unknown fields (ct mark and status, the interface) left open, on the
// policies of both generators.
func BenchmarkSSHCheck(b *testing.B) {
	for _, g := range []struct {
		name string
		src  func(n int) []byte
	}{
		{"polgen", func(n int) []byte { return polgen.Policy(n, 1) }},
		{"sitegen", func(n int) []byte { return sitegen.Policy(n, 1) }},
	} {
		for _, n := range []int{1000, 10000, 50000} {
			b.Run(fmt.Sprintf("%s-rules=%d", g.name, n), func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "p.fw")
				if err := os.WriteFile(path, g.src(n), 0o644); err != nil {
					b.Fatal(err)
				}
				c, ds, err := Compile([]string{path})
				if err != nil || ds.HasErrors() {
					b.Fatalf("%v %v", err, ds)
				}
				b.ResetTimer()
				for b.Loop() {
					SSHCheck(nil, c.Ruleset, sshV4)
				}
			})
		}
	}
}
