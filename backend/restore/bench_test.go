package restore_test

import (
	"github.com/fwcproject/fwc/internal/irfixture"
	"testing"

	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/ir"
)

func BenchmarkRestore50k(b *testing.B) {
	p := irfixture.Program(b, "gen.fw", irfixture.Generated(50000))
	b.ReportAllocs()
	for b.Loop() {
		rs, _ := ir.Lower(p)
		restore.IPv4(rs)
		restore.IPv6(rs)
		restore.IPSet(rs)
	}
}
