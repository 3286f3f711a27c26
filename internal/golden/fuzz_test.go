package golden

import (
	"testing"
	"time"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/fuzzutil"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
)

// FuzzBackends takes arbitrary text through the whole pipeline: parse,
// check, lower, and every backend (nft text and netlink batch, iptables
// for both families, ipset). No input may panic, every backend diagnostic
// must carry a position, and the nft text and the netlink batch must agree
// on whether nft can express the ruleset (Text's error diagnostics and
// Messages's error come from the same constructs).
func FuzzBackends(f *testing.F) {
	fuzzutil.AddFiles(f, "../../examples/*.fw", "../../examples/*/*.fw", "../../check/testdata/ok/*.fw", "testdata/scenarios/*.txtar")
	f.Add([]byte("table filter { chain input policy drop {\nsaddr 10.0.0.1 accept\nsaddr 10.0.0.2 drop\nsaddr 10.0.0.3 drop\n} }\n"))
	f.Add([]byte("table filter { chain forward {\niif eth0 saddr 10.0.0.0/24 tcp dport 22 accept\niif eth1 saddr 10.0.1.0/24 tcp dport 23 drop\niif eth2 saddr 10.0.2.1 tcp dport 24 accept\nsaddr 2001:db8::1 daddr 2001:db8::2 accept\nsaddr 2001:db8::3 daddr 2001:db8::/64 accept\nsaddr 2001:db8::5 daddr 2001:db8::6 accept\n} }\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		defer fuzzutil.Deadline(10*time.Second, "the pipeline", src)()
		file, ds := lang.ParseFile("fuzz.fw", src)
		if file == nil || ds.HasErrors() {
			return
		}
		prog, cds := check.Check([]*ast.File{file}, check.Options{Backends: []string{"nft", "iptables"}, ErrorsOnly: true})
		if cds.HasErrors() {
			return
		}
		rs, lds := ir.Lower(prog)
		positioned(t, "lower", lds)
		_, tds := nft.Text(rs)
		positioned(t, "nft text", tds)
		if _, err := nft.Messages(rs); (err != nil) != tds.HasErrors() {
			t.Errorf("nft.Text error diagnostics %v, but nft.Messages error %v", tds, err)
		}
		for name, emit := range map[string]func(*ir.Ruleset) ([]byte, diag.Diagnostics){"iptables": restore.IPv4, "ip6tables": restore.IPv6, "ipset": restore.IPSet} {
			_, ds := emit(rs)
			positioned(t, name, ds)
		}
	})
}

func positioned(t *testing.T, stage string, ds diag.Diagnostics) {
	t.Helper()
	for _, d := range ds {
		if d.Subject.Start.Line == 0 || d.Subject.Filename != "fuzz.fw" {
			t.Errorf("%s: diagnostic without a position: %v", stage, d)
		}
	}
}
