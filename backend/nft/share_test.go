package nft_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/lang"
)

// TestSharedPortLists: a port list that many rules repeat becomes one named
// set, named clear of the policy's own sets; a list few rules carry, and a
// list with a range, stay inline; the kernel lists the same ruleset after
// nft -f of the script and after the batch.
func TestSharedPortLists(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("set fwc_ports_80_443 : ipv4_addr { elements { 192.0.2.1 } }\ntable filter {\n\tchain input policy drop {\n")
	for i := range 20 {
		// Negated addresses: no lookup along several fields takes them
		// (ir.Merge), and each keeps its own port list.
		fmt.Fprintf(&b, "\t\tsaddr != 10.0.%d.1 tcp dport 80, 443 accept\n", i)
		fmt.Fprintf(&b, "\t\tsaddr 10.1.%d.1 udp dport != 1000-2000, 53 drop\n", i)
	}
	for i := range 3 {
		fmt.Fprintf(&b, "\t\tsaddr != 10.2.%d.1 tcp dport 22, 25 accept\n", i)
	}
	b.WriteString("\t\tsaddr @fwc_ports_80_443 drop\n\t}\n}\n")
	f, ds := lang.ParseFile("share.fw", []byte(b.String()))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p, ds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	rs := lower(t, p)
	text, _ := nft.Text(rs)
	for _, want := range []string{
		`(?m)^\tset fwc_ports_80_443_ \{\n\t\ttype inet_service\n\t\telements = \{ 80,\n\t+ +443 \}`,
		`tcp dport @fwc_ports_80_443_ accept comment "share.fw:4"`,
		`tcp dport \{ 22, 25 \} accept`,
		`udp dport != \{ 1000-2000, 53 \} drop`,
		`ip saddr @fwc_ports_80_443 drop`,
	} {
		if !regexp.MustCompile(want).Match(text) {
			t.Errorf("script lacks %s:\n%s", want, text)
		}
	}
	if n := strings.Count(string(text), "set fwc_ports"); n != 2 {
		t.Errorf("%d sets named fwc_ports…, want the policy's and one shared", n)
	}
	testnetns.Require(t)
	differential(t, rs)
}
