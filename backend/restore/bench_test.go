package restore_test

import (
	"testing"

	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/ir"
	sample "github.com/fwcproject/fwc/ir/irtest"
)

func BenchmarkRestore50k(b *testing.B) {
	p := sample.Generated(50000)
	b.ReportAllocs()
	for b.Loop() {
		rs, _ := ir.Lower(p)
		restore.IPv4(rs)
		restore.IPv6(rs)
		restore.IPSet(rs)
	}
}
